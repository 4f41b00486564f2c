# lienthong - two commands: `make run` (demo: stand-ins + Airflow) and `make test`.
# `make test-fast`: the pure-logic tests only (no server, no database), in seconds.
# `make lint`: ruff's lint and format check over the tree (run first by `make test`).
# `make lock`: after changing a pin in requirements*.txt, regenerate the hashed locks that
# `make venv` installs (`make lock LOCK_ARGS=--upgrade` moves every unpinned package to its newest
# version; uv keeps the locked versions otherwise).
# `make audit`: pip-audit over the locks against PyPI's advisories; fails on any known one.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_WORKERS ?= 4
# `make run SCENARIO=province-week`: the province of 2026 (23 units, a week) instead of the demo day.
SCENARIO ?= demo
# The whole tree, with hashes: runtime, test-only (compiled against the runtime lock), dev tools.
LOCKS := requirements.lock requirements-test.lock requirements-dev.lock
LOCK_ARGS ?=
COMPILE = $(BIN)/uv pip compile --quiet --no-progress --generate-hashes --python-version 3.11 \
	--custom-compile-command "make lock" $(LOCK_ARGS)

.PHONY: run cluster test test-fast lint venv clean bench bench-cluster bench-year lock audit

$(STAMP): $(LOCKS) pyproject.toml rig/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes --no-deps $(addprefix -r ,$(LOCKS))
	$(BIN)/pip install -q --no-deps -e . -e rig
	touch $(STAMP)

venv: $(STAMP)

lock: $(STAMP)
	$(COMPILE) requirements.txt -o requirements.lock
	$(COMPILE) requirements-test.txt -c requirements.lock -o requirements-test.lock
	$(COMPILE) requirements-dev.txt -c requirements.lock -c requirements-test.lock \
		-o requirements-dev.lock

# PyPI's advisory feed (OSV is out of reach from the build machines); --strict fails on any
# package it could not look up, so a gap in the audit is never silent.
audit: $(STAMP)
	$(BIN)/pip-audit --strict --require-hashes --disable-pip --vulnerability-service pypi \
		--progress-spinner off $(addprefix -r ,$(LOCKS))

run: $(STAMP)
	$(BIN)/python -m lienthong_devstack --scenario $(SCENARIO)

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

# The article's year through the real DAGs on the cluster (native backfill); not part of CI.
bench-year: $(STAMP)
	$(BIN)/python benchmarks/year_on_cluster.py $(BENCH_ARGS)

clean:
	rm -rf var airflow_home
