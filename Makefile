# lienthong - two commands: `make run` (demo: stand-ins + Airflow) and `make test`.
# `make test-fast`: the pure-logic tests only (no server, no database), in seconds.
# `make lint`: ruff's lint and format check over the tree (run first by `make test`).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_WORKERS ?= 4

.PHONY: run cluster test test-fast lint venv clean bench bench-cluster

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml rig/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e . -e rig
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m lienthong_devstack

cluster: $(STAMP)
	$(BIN)/python -m lienthong_devstack.cluster

test: $(STAMP) lint
	scripts/ensure-system-deps.sh
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup -m "not cluster" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m cluster -s $(PYTEST_ARGS)

# Tests marked `fast` at collection (tests/conftest.py): no server, database or process.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m fast $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/intake.py

bench-cluster: $(STAMP)
	$(BIN)/python benchmarks/cluster_latency.py

clean:
	rm -rf var airflow_home
