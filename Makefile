# One command each: `make demo` runs the connector end to end locally, `make test` runs the tests.
# Both install what they need first (a Python 3.13 venv, the npm SQS emulator, SAM CLI for tests).

SHELL := /bin/bash
# Python 3.13 (the Lambda runtime) wherever it is: pyenv's install, a working python3.13 on PATH
# (a pyenv shim whose version is not selected fails the check), else python3.
PYTHON := $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) \
	$(shell python3.13 -c 'import sys; print(sys.executable)' 2>/dev/null) $(shell command -v python3))
PY13_DIR := $(dir $(PYTHON))
VENV := .venv
BIN := $(VENV)/bin

SAM := .venv-sam/bin/sam
SAMCONFIG := samconfig.toml

.PHONY: setup demo serve cli test soak lint bench differential samples build validate deploy lock clean

$(BIN)/.installed: requirements-dev.txt layers/connector/requirements.in layers/xray/requirements.in
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.venv-sam/.installed:
	python3 -m venv .venv-sam
	.venv-sam/bin/pip install --quiet aws-sam-cli
	touch $@

# checkov pins versions of packages the test tools need newer (packaging, boto3): a venv of its own.
.venv-checkov/.installed: requirements-checkov.txt
	python3 -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

# What Lambda's python3.13 runtime gives a function besides its folder and layers, for the deployed-shape
# test (tests/integration/test_deployed_shape.py): its runtime interface client and boto3, outside the dev venv.
.lambda-runtime/.installed: requirements-lambda-runtime.txt
	rm -rf .lambda-runtime
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --target .lambda-runtime -r requirements-lambda-runtime.txt
	touch $@

setup: $(BIN)/.installed node_modules/.installed

demo: setup  ## the whole connector on loopback: sample events in, what OpenAI receives out
	$(BIN)/python -m local.runner $(ARGS)

serve: setup  ## the same, then keep serving for curl or a Tealium webhook
	$(BIN)/python -m local.runner --serve $(ARGS)

cli: setup  ## the operator's command line: make cli ARGS="check my-actions.json" (see docs/command-line.md)
	PYTHONPATH=layers/connector $(BIN)/python -m connector $(ARGS)

test: setup .venv-sam/.installed .venv-checkov/.installed .lambda-runtime/.installed  ## lint, template checks, unit, property and integration tests
	$(BIN)/ruff check .
	$(BIN)/pytest -m "not soak" $(ARGS)

soak: setup  ## the fault-injection soak test (20,000 events, a few minutes)
	$(BIN)/pytest -m soak -s $(ARGS)

bench: setup  ## benchmarks: figures as ratios to a baseline measured in the same run
	$(BIN)/pip install --quiet -r bench/requirements.txt  # the peer SDK compared against; not in the layer
	$(BIN)/python -m bench $(ARGS)

differential: setup  ## the core path against a git revision on varied payloads: make differential REV=main
	$(BIN)/python -m bench.differential $(or $(REV),main) $(ARGS)

samples: setup  ## refresh the `sam local` samples in events/ (timestamps must be within 7 days)
	$(BIN)/python -m local.samples

build: .venv-sam/.installed  ## sam build, with Python 3.13 put on PATH for the python3.13 runtime
	PATH=$(PY13_DIR):$$PATH $(SAM) build

validate: setup .venv-sam/.installed  ## sam validate --lint and cfn-lint
	$(SAM) validate --lint
	$(BIN)/cfn-lint template.yaml

# Guided (asks for PixelId and offers every other setting's default) until samconfig.toml holds a PixelId,
# which the guided deploy offers to save; GUIDED=1 asks again.
deploy: build  ## build, then sam deploy with the project's SAM CLI: guided the first time
	@if [ -n "$(GUIDED)" ] || ! grep -Eq '^\s*parameter_overrides\s*=.*PixelId=' $(SAMCONFIG) 2>/dev/null; then \
		echo "sam deploy --guided: type your PixelId; Enter keeps every other setting's default"; \
		$(SAM) deploy --guided --config-file $(abspath $(SAMCONFIG)) $(ARGS); \
	else \
		$(SAM) deploy --config-file $(abspath $(SAMCONFIG)) $(ARGS); \
	fi

lock: setup  ## re-pin each layer's dependencies (layers/*/requirements.in) with hashes into its requirements.txt
	$(BIN)/pip install --quiet "uv==0.13.8"
	$(BIN)/uv pip compile --quiet layers/connector/requirements.in --upgrade --generate-hashes --python-version 3.13 \
		--python-platform aarch64-manylinux_2_28 --custom-compile-command "make lock" \
		--output-file layers/connector/requirements.txt
	$(BIN)/uv pip compile --quiet layers/xray/requirements.in --upgrade --generate-hashes --python-version 3.13 \
		--python-platform aarch64-manylinux_2_28 --custom-compile-command "make lock" \
		--output-file layers/xray/requirements.txt

clean:
	rm -rf $(VENV) .venv-sam .venv-checkov .lambda-runtime node_modules .aws-sam .pytest_cache .hypothesis
