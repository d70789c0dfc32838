# Every target creates or reuses the project's own virtual environment (.venv).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; sys.exit("thumbflow needs Python 3.11+, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)  ## the main job in local mode on the bundled samples
	$(BIN)/thumbflow run samples --out out/demo

test: $(STAMP)  ## lint, then the whole suite
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

clean:
	rm -rf out .thumbflow .pytest_cache
