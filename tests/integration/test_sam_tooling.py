"""template.yaml passes SAM's and cfn-lint's checks without warnings, and `sam build` builds the layer."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.support.repo import ROOT
from tests.support.sam import NEEDS_SAM, TEMPLATE, output_of, run, sam

pytestmark = NEEDS_SAM

#: cfn-lint rule ids (E1234, W3005, I3011) and SAM's own warnings.
LINT_FINDING = re.compile(r"\b[EWI]\d{4}\b|warning", re.IGNORECASE)


def cfn_lint_path() -> Path:
    beside_python = Path(sys.executable).parent / "cfn-lint"
    found = beside_python if beside_python.exists() else shutil.which("cfn-lint")
    assert found, "cfn-lint not installed (pip install -r requirements-dev.txt)"
    return Path(found)


def test_sam_validate_lint_passes_without_warnings():
    result = sam("validate", "--lint", "--template-file", TEMPLATE)

    assert result.returncode == 0, output_of(result)
    assert "is a valid SAM Template" in result.stdout
    assert not LINT_FINDING.search(output_of(result)), output_of(result)


def test_sam_validate_transforms_the_template(tmp_path):
    # samconfig.toml turns lint on for `sam validate`; an empty config runs SAM's translator instead.
    empty_config = tmp_path / "samconfig.toml"
    empty_config.write_text("version = 0.1\n")

    result = sam("validate", "--template-file", TEMPLATE, "--config-file", empty_config)

    assert result.returncode == 0, output_of(result)
    assert "is a valid SAM Template. This is according to basic SAM Validation" in result.stdout


def test_cfn_lint_passes_without_findings():
    result = run(cfn_lint_path(), TEMPLATE)

    assert result.returncode == 0, output_of(result)
    assert output_of(result).strip() == ""


# build_dir: one `sam build` for the whole session (tests/conftest.py), shared with test_deployed_shape.py.


def test_layer_holds_the_connector_package(build_dir):
    assert (build_dir / "ConnectorLayer" / "python" / "connector").is_dir()


@pytest.mark.parametrize("dependency", ["urllib3", "aws_lambda_powertools"])
def test_layer_holds_its_requirements(build_dir, dependency):
    assert (build_dir / "ConnectorLayer" / "python" / dependency).is_dir()


@pytest.mark.parametrize("package", ["aws_xray_sdk", "botocore"])
def test_only_the_optional_sdk_layer_holds_the_xray_sdk_and_botocore(build_dir, package):
    # botocore ships with the Lambda runtime; a second copy in the connector's layer would shadow it.
    assert not (build_dir / "ConnectorLayer" / "python" / package).exists()
    assert (build_dir / "XRaySdkLayer" / "python" / package).is_dir()


def test_layer_native_code_is_built_for_arm64(build_dir):
    extensions = list((build_dir / "ConnectorLayer" / "python").rglob("*.so"))

    assert not [path.name for path in extensions if "x86_64" in path.name]


@pytest.mark.parametrize("function_id", ["IngestFunction", "BatchSenderFunction"])
def test_functions_are_built_with_their_handler(build_dir, function_id):
    assert (build_dir / function_id / "app.py").is_file()


def test_batch_sender_is_built_with_the_same_actions_document_as_ingest(build_dir):
    # functions/batch_sender/actions.json links to ingest's: the build must hold the file, not the link.
    built = build_dir / "BatchSenderFunction" / "actions.json"

    assert not built.is_symlink()
    assert built.read_bytes() == (ROOT / "functions" / "ingest" / "actions.json").read_bytes()


def test_built_template_points_at_the_built_artifacts(build_dir):
    built = (build_dir / "template.yaml").read_text()

    assert "ContentUri: ConnectorLayer" in built
    assert "CodeUri: IngestFunction" in built
    assert "CodeUri: BatchSenderFunction" in built


def references(value) -> set[str]:
    """Names referenced by Ref, GetAtt or ${...} in Sub strings (Sub's own variables excluded)."""
    names: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref":
                names.add(item)
            elif key == "Fn::GetAtt":
                names.add(item[0])
            elif key == "Fn::Sub":
                text, local = (item, {}) if isinstance(item, str) else item
                names |= {name.split(".")[0] for name in re.findall(r"\$\{([^}!][^}]*)\}", text)} - set(local)
                names |= references(local)
            else:
                names |= references(item)
    elif isinstance(value, list):
        for item in value:
            names |= references(item)
    return names


def test_sam_generates_the_api_key_the_outputs_name(transformed):
    resources = transformed["Resources"]

    assert resources["EventsApiApiKey"]["Type"] == "AWS::ApiGateway::ApiKey"
    assert resources["EventsApiUsagePlan"]["Type"] == "AWS::ApiGateway::UsagePlan"
    assert resources["EventsApiUsagePlanKey"]["Properties"]["KeyId"] == {"Ref": "EventsApiApiKey"}


def test_every_output_reference_exists_after_the_transform(transformed):
    # Neither linter checks references to resources that only SAM's transform creates.
    known = set(transformed["Resources"]) | set(transformed["Parameters"])

    for name, output in transformed["Outputs"].items():
        missing = {ref for ref in references(output["Value"]) if not ref.startswith("AWS::")} - known
        assert not missing, f"{name} refers to {missing}"


def test_every_generated_api_method_requires_the_api_key(transformed):
    body = transformed["Resources"]["EventsApi"]["Properties"]["Body"]
    methods = [(path, verb, operation) for path, item in body["paths"].items() for verb, operation in item.items()]

    assert methods
    for path, verb, operation in methods:
        assert {"api_key": []} in operation.get("security", []), f"{verb.upper()} {path}"


def test_only_the_v1_stage_is_deployed(transformed):
    stages = [r for r in transformed["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage"]
    deployments = [r for r in transformed["Resources"].values() if r["Type"] == "AWS::ApiGateway::Deployment"]

    assert [stage["Properties"]["StageName"] for stage in stages] == ["v1"]
    # A Deployment with a StageName creates SAM's extra "Stage" stage (avoided by OpenApiVersion 3).
    assert all("StageName" not in deployment["Properties"] for deployment in deployments)


def test_usage_plan_is_attached_to_the_v1_stage_with_throttling(transformed):
    plan = transformed["Resources"]["EventsApiUsagePlan"]["Properties"]

    assert plan["ApiStages"] == [{"ApiId": {"Ref": "EventsApi"}, "Stage": {"Ref": "EventsApiv1Stage"}}]
    assert set(plan["Throttle"]) == {"RateLimit", "BurstLimit"}


def test_event_source_mapping_keeps_the_batching_settings(transformed):
    (mapping,) = [r for r in transformed["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    properties = mapping["Properties"]

    assert properties["BatchSize"] == 1000
    assert properties["MaximumBatchingWindowInSeconds"] == 300
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "SenderMaxConcurrency"}}
