# Everything starts from a virtual environment built from pyproject.toml, so a machine with
# only Python 3.10+ and make can run every target.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint check-wheel bench soak attack fuzz-long faultrun js-sdk-check browser-check container-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

## The main job: images through the in-process mock, no AWS account needed: a live model's
## (Stable Image Core, the default), and the AWS page's SDXL 1.0 sample request (SDXL named:
## its body is SDXL's; the mock answers it and says it is past its end of life).
demo: $(STAMP)
	mkdir -p out
	$(BIN)/sdxl generate "a lighthouse at dusk" \
		--aspect-ratio 16:9 --output-format jpeg -o out/demo-core.jpg --overwrite
	$(BIN)/sdxl --model-id stability.stable-diffusion-xl-v1 validate examples/sample-request.json
	$(BIN)/sdxl --model-id stability.stable-diffusion-xl-v1 generate \
		--body examples/sample-request.json -o out/demo.png --overwrite

## The test suite (what CI runs), then the linter and the type checker.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q
	$(BIN)/ruff check .
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

## Speed, side by side with baselines measured in the same run (writes bench/results/).
bench: $(STAMP)
	$(BIN)/python -m bench.run

## 20,000 mixed requests at 32 connections against a server process.
soak: $(STAMP)
	$(BIN)/python -m bench.soak

## Issue 12's resource attacks, each on a fresh server process: its peak RSS, a normal call
## during and after, its CPU (writes bench/results/attack.md and attack.json; ~8 minutes).
attack: $(STAMP)
	$(BIN)/python -m bench.attacks.run

## A 200-line batch through the CLI against a throttling server, killed midway, resumed.
faultrun: $(STAMP)
	$(BIN)/python -m bench.faultrun

## The fuzz tests with many more examples (SDXL_FUZZ_EXAMPLES per test; ~100k in all for
## SDXL, and ~26k for the live families).
fuzz-long: $(STAMP)
	SDXL_FUZZ_EXAMPLES=$${SDXL_FUZZ_EXAMPLES:-6000} $(BIN)/python -m pytest -n 2 -q \
		tests/mock/models/test_fuzz.py tests/mock/models/test_fuzz_live_families.py

## Build a wheel and check it works installed outside the source tree.
check-wheel: $(STAMP)
	$(BIN)/python -m pip wheel --quiet --no-deps -w dist .
	rm -rf /tmp/sdxl-wheel-venv && $(PYTHON) -m venv /tmp/sdxl-wheel-venv
	/tmp/sdxl-wheel-venv/bin/pip install --quiet dist/*.whl
	cd /tmp && /tmp/sdxl-wheel-venv/bin/sdxl schema request > /dev/null
	cd /tmp && /tmp/sdxl-wheel-venv/bin/sdxl validate $(CURDIR)/examples/sample-request.json

## The AWS SDK for JavaScript (HTTP/2 by default) against the mock server: installs it from
## npm into .cache/js-sdk (needs node and npm), then runs the test that uses it.
js-sdk-check: $(STAMP)
	mkdir -p .cache/js-sdk
	cd .cache/js-sdk && ([ -f package.json ] || npm init -y > /dev/null) && \
		npm install --no-audit --no-fund --silent @aws-sdk/client-bedrock-runtime
	SDXL_JS_SDK_DIR=$(CURDIR)/.cache/js-sdk $(BIN)/python -m pytest -q -rs tests/mock/doors/test_other_sdks.py

## A page on another origin, in headless Chromium, calls the mock with the AWS SDK for
## JavaScript (bundled by esbuild) and shows the image, with --cors-origin; without it, is
## refused. Installs chromium from Debian's packages if missing (root), the SDK and esbuild
## from npm into .cache/browser (needs node and npm), then runs the test that uses them.
browser-check: $(STAMP)
	[ -x "$${SDXL_CHROMIUM:-/usr/bin/chromium}" ] || \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }
	mkdir -p .cache/browser
	cd .cache/browser && ([ -f package.json ] || npm init -y > /dev/null) && \
		npm install --no-audit --no-fund --silent @aws-sdk/client-bedrock-runtime esbuild
	SDXL_BROWSER_DIR=$(CURDIR)/.cache/browser $(BIN)/python -m pytest -q -rs \
		tests/mock/doors/test_browser_cors.py

## The container image (Dockerfile) built and run: boto3 against it through the URL it prints,
## its health endpoint, HEALTHCHECK, user and stop. Needs docker; when python:3.12-slim
## cannot be pulled it builds a base from Debian's packages (container/make-base.sh, root).
container-check: $(STAMP)
	PYTHON=$(BIN)/python container/check.sh

clean:
	rm -rf $(VENV) build dist *.egg-info out
