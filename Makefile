# Every target creates or reuses the project's own virtual environment (.venv).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test browser bench cost clean

$(STAMP): pyproject.toml
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

test: $(STAMP) browser  ## lint, then the whole suite
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q --reliability-doc=docs/reliability.md

bench: $(STAMP)  ## issue 4 benchmark: engine vs simple Pillow vs pyvips, cold start, local mode
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m bench $(BENCH_ARGS)

cost: $(STAMP)  ## dollars per million images, Standard vs Express, priced from a measured local run
	$(BIN)/thumbflow cost $(COST_ARGS)

clean:
	rm -rf out .thumbflow .pytest_cache
