# lienthong - two commands: `make run` (demo: stand-ins + Airflow) and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_WORKERS ?= 4

.PHONY: run cluster test venv clean bench bench-cluster

$(STAMP): requirements.txt pyproject.toml rig/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e . -e rig
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m lienthong_devstack

cluster: $(STAMP)
	$(BIN)/python -m lienthong_devstack.cluster

test: $(STAMP)
	scripts/ensure-system-deps.sh
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup -m "not cluster" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m cluster -s $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/intake.py

bench-cluster: $(STAMP)
	$(BIN)/python benchmarks/cluster_latency.py

clean:
	rm -rf var airflow_home
