# Every target creates or reuses the project's own virtual environment (.venv).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Every file that defines dependencies: a change to any of them re-installs the venv.
DEPENDENCY_FILES := pyproject.toml functions/requirements.txt requirements-local.txt
STAMP := $(VENV)/.installed-$(shell cat $(DEPENDENCY_FILES) | cksum | cut -d' ' -f1)

.PHONY: demo test browser bench cost backfill-cost package validate clean worstcase

$(STAMP): $(DEPENDENCY_FILES)
	@$(PY) -c 'import sys; sys.exit("thumbflow needs Python 3.11+, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)  ## the main job in local mode on the bundled samples
	$(BIN)/thumbflow run samples --out out/demo

browser:  ## the browser test needs Debian's chromium (no browser downloads from elsewhere)
	@command -v chromium >/dev/null || (DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium is missing and could not be installed: install Debian's chromium package"

test: $(STAMP) browser validate  ## lint (ruff, sam validate --lint), then the whole suite
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q --reliability-doc=docs/reliability.md

# sharp, the Node.js peer the bench measures against, lives in bench/node (git-ignored
# node_modules): npm ci installs exactly package-lock.json, prebuilt libvips included (npm
# optional dependencies, nothing downloaded besides the registry's packages). Re-installed when
# the lock changes; without node or npm the bench runs and reports sharp as unavailable.
BENCH_NODE := bench/node
BENCH_NODE_STAMP := $(BENCH_NODE)/node_modules/.installed-$(shell cksum < $(BENCH_NODE)/package-lock.json | cut -d' ' -f1)

$(BENCH_NODE_STAMP): $(BENCH_NODE)/package.json $(BENCH_NODE)/package-lock.json
	@if command -v npm >/dev/null; then \
	  (cd $(BENCH_NODE) && npm ci --no-audit --no-fund --loglevel=error) && touch $@; \
	else echo "npm is missing: the bench will report sharp as unavailable"; fi

bench: $(STAMP) $(BENCH_NODE_STAMP)  ## thumbflow vs the best sharp and pyvips pipelines, cold start, local mode, cost
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m bench $(BENCH_ARGS)

worstcase: $(STAMP)  ## the costliest input of every format and mode within the default limits, measured (~2-4 min)
	$(BIN)/python -m bench.worstcase $(WORSTCASE_ARGS)

cost: $(STAMP)  ## dollars per million images, Standard vs Express, priced from a measured local run
	$(BIN)/thumbflow cost $(COST_ARGS)

backfill-cost: $(STAMP)  ## dollars per million sources for a backfill that finds them current, measured
	$(BIN)/python -m thumbflow.backfillcost $(COST_ARGS)

# The Lambda bundle as `sam build` makes it for python3.13 on arm64: only aarch64 wheels, with
# the manylinux tags lambda-builders accepts for that runtime (glibc 2.34; Pillow 13 ships
# manylinux_2_28 wheels only), nothing compiled for the build machine's Python, then the code
# of functions/ (the template's CodeUri). tests/template/test_package.py builds and checks it.
PACKAGE_DIR := build/lambda-arm64
PACKAGE_NEEDS := $(STAMP)
LAMBDA_PLATFORMS := manylinux2014_aarch64 manylinux_2_17_aarch64 manylinux_2_28_aarch64 manylinux_2_34_aarch64

package: $(PACKAGE_NEEDS)  ## the arm64 function bundle in build/lambda-arm64, as sam build makes it
	rm -rf $(PACKAGE_DIR)
	$(BIN)/python -m pip install -q --no-compile --only-binary=:all: --implementation cp \
	  --python-version 3.13 --abi cp313 $(addprefix --platform ,$(LAMBDA_PLATFORMS)) \
	  -r functions/requirements.txt -t $(PACKAGE_DIR)
	tar -C functions --exclude=__pycache__ --exclude='*.pyc' -cf - . | tar -C $(PACKAGE_DIR) -xf -
	@du -sh --apparent-size $(PACKAGE_DIR)

# aws-sam-cli lives in a venv of its own: it pins boto3==1.43.108, the bundle boto3==1.44.8.
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed-$(shell cksum < requirements-sam.txt | cut -d' ' -f1)

$(SAM_STAMP): requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PY) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q -r requirements-sam.txt
	rm -f $(SAM_VENV)/.installed-*
	touch $@

validate: $(SAM_STAMP)  ## sam validate --lint (samconfig.toml), offline and without AWS credentials
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint

clean:
	rm -rf out .thumbflow .pytest_cache
