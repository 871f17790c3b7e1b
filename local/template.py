"""Read template.yaml (CloudFormation short tags included) for the tests and the local runner."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

#: The SAM template at the repository root.
TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "template.yaml"

#: Short tags whose long form is not simply "Fn::<Name>".
_SPECIAL_TAGS = {"Ref": "Ref", "Condition": "Condition"}

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class CfnLoader(yaml.SafeLoader):
    """A safe YAML loader that turns `!Ref X` into `{"Ref": "X"}`, `!Sub s` into `{"Fn::Sub": "s"}`..."""


def _construct_short_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = _SPECIAL_TAGS.get(tag_suffix, f"Fn::{tag_suffix}")
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            # `!GetAtt Resource.Attribute` is short for ["Resource", "Attribute"].
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _construct_short_tag)


def load_template(path: str | Path | None = None) -> dict[str, Any]:
    """The template as a dict, short tags in their long form; the repository's template by default."""
    with open(path or TEMPLATE_PATH, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=CfnLoader)  # CfnLoader is a SafeLoader


def resources_of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Logical id -> resource, for every resource of the given type."""
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == resource_type
    }


def resource_properties(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    """The Properties of one resource (KeyError names the logical id when it is missing)."""
    return template["Resources"][logical_id].get("Properties", {})


def _merge_globals(global_value: Any, local_value: Any) -> Any:
    # SAM's rules: maps merge key by key, lists concatenate, anything else is overridden.
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        merged = copy.deepcopy(global_value)
        for key, value in local_value.items():
            merged[key] = _merge_globals(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return copy.deepcopy(global_value) + copy.deepcopy(local_value)
    return copy.deepcopy(local_value)


def function_properties(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    """A Serverless::Function's Properties with Globals.Function merged in as SAM merges them."""
    global_function = template.get("Globals", {}).get("Function", {})
    return _merge_globals(global_function, resource_properties(template, logical_id))


def function_environment(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    """A function's environment variables (Globals included), values still unresolved intrinsics."""
    return function_properties(template, logical_id).get("Environment", {}).get("Variables", {})


def parameter_default(template: Mapping[str, Any], name: str) -> Any:
    """A parameter's Default (None when it has none)."""
    return template["Parameters"][name].get("Default")


def resolve_parameters(template: Mapping[str, Any], value: Any, overrides: Mapping[str, Any] | None = None) -> Any:
    """`{"Ref": parameter}` replaced by the override or the parameter's default; other intrinsics kept."""
    parameters = template.get("Parameters", {})
    overrides = overrides or {}
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            name = value["Ref"]
            return overrides[name] if name in overrides else parameters[name].get("Default")
        return {key: resolve_parameters(template, item, overrides) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_parameters(template, item, overrides) for item in value]
    return value


def queue_properties(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    """The Properties of an AWS::SQS::Queue."""
    resource = template["Resources"][logical_id]
    if resource.get("Type") != "AWS::SQS::Queue":
        raise ValueError(f"{logical_id}: not an AWS::SQS::Queue")
    return resource.get("Properties", {})


def redrive_target(template: Mapping[str, Any], logical_id: str) -> tuple[str, int] | None:
    """(dead-letter queue's logical id, maxReceiveCount) of a queue, or None without a RedrivePolicy."""
    policy = queue_properties(template, logical_id).get("RedrivePolicy")
    if not policy:
        return None
    target = policy["deadLetterTargetArn"]
    if not (isinstance(target, dict) and "Fn::GetAtt" in target):
        raise ValueError(f"{logical_id}.RedrivePolicy.deadLetterTargetArn: expected !GetAtt <Queue>.Arn")
    return target["Fn::GetAtt"][0], int(policy["maxReceiveCount"])


#: Queue properties that map one to one onto SQS queue attributes when they are literals.
_PLAIN_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)


def queue_attributes(
    template: Mapping[str, Any], logical_id: str, arns: Mapping[str, str] | None = None
) -> dict[str, str]:
    """SQS CreateQueue attributes (strings) of a queue's literal settings, `Ref`s to parameters at their defaults.

    With `arns` (logical id -> ARN of the queues already created) the RedrivePolicy is included too.
    """
    properties = resolve_parameters(template, queue_properties(template, logical_id))
    attributes: dict[str, str] = {}
    for key in _PLAIN_QUEUE_ATTRIBUTES:
        value = properties.get(key)
        if isinstance(value, bool):
            attributes[key] = "true" if value else "false"
        elif isinstance(value, int | str):
            attributes[key] = str(value)
    redrive = redrive_target(template, logical_id) if arns is not None else None
    if redrive:
        target, max_receive_count = redrive
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": arns[target], "maxReceiveCount": str(max_receive_count)}
        )
    return attributes


def event_source_settings(template: Mapping[str, Any], function_id: str = "BatchSenderFunction") -> dict[str, Any]:
    """The function's SQS event source: Queue (logical id), BatchSize, MaximumBatchingWindowInSeconds,
    FunctionResponseTypes and MaximumConcurrency (parameters resolved to their defaults)."""
    events = function_properties(template, function_id).get("Events", {})
    sqs_events = [event["Properties"] for event in events.values() if event.get("Type") == "SQS"]
    if len(sqs_events) != 1:
        raise ValueError(f"{function_id}: expected exactly one SQS event, found {len(sqs_events)}")
    source = resolve_parameters(template, sqs_events[0])
    queue = source["Queue"]
    queue_id = queue["Fn::GetAtt"][0] if isinstance(queue, dict) and "Fn::GetAtt" in queue else queue
    return {
        "Queue": queue_id,
        "BatchSize": source.get("BatchSize", 10),
        "MaximumBatchingWindowInSeconds": source.get("MaximumBatchingWindowInSeconds", 0),
        "FunctionResponseTypes": list(source.get("FunctionResponseTypes", [])),
        "MaximumConcurrency": source.get("ScalingConfig", {}).get("MaximumConcurrency"),
    }


def sub_variables(text: str) -> list[str]:
    """The `${Name}` variables of a !Sub string (`${!Literal}` escapes excluded)."""
    return _SUB_VARIABLE.findall(text)
