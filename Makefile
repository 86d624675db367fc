# The two commands: `make run` brings up Temporal (dev server + Web UI), the worker and the API;
# `make test` runs the test suite. Both create the virtual environment when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test demo clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/claims run

demo: install
	$(BIN)/claims demo

test: install
	sh scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -q

clean:
	rm -rf data/run
