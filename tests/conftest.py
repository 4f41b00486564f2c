"""Test environment: Airflow settings before anything imports airflow, and the store backends.

The store is tested on a real SQLite file and on the machine's real PostgreSQL (a fresh
database per test, dropped afterwards).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# One Airflow home and metadata DB per test process: xdist workers inherit the controller's
# environment, and two workers creating one SQLite metadata DB at once fail ("table already exists").
_AIRFLOW_HOME = Path(
    tempfile.mkdtemp(prefix=f"lienthong-airflow-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")
)
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME}/airflow.db"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(ROOT / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")

PG_ADMIN_URL = os.environ.get(
    "LIENTHONG_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


def _pg_available() -> bool:
    import sqlalchemy as sa

    try:
        with sa.create_engine(PG_ADMIN_URL).connect():
            return True
    except Exception:
        return False


# Tests that share an expensive module- or session-scoped fixture run on one xdist worker, so it
# is built once; every other test is handed out on its own, which keeps the workers evenly busy.
# The three dashboard files share one api-server stack. (xdist's own ``xdist_group`` marker does
# not group under pytest 9.2: xdist 3.8 renames ``item._nodeid``, which pytest no longer reads.)
SHARED_FIXTURE_GROUPS = {
    "tests/dashboard/": "dashboard-stack",
    "tests/pipeline/test_bad_packages.py": "bad-packages-world",
    "tests/unit/test_verify_result.py": "verify-result-keys",
}


def shared_fixture_scope(nodeid: str) -> str:
    """The unit of work a test is handed out in: its shared-fixture group, or the test alone."""
    return next(
        (group for prefix, group in SHARED_FIXTURE_GROUPS.items() if nodeid.startswith(prefix)),
        nodeid,
    )


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` groups by :data:`SHARED_FIXTURE_GROUPS` (see there)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return shared_fixture_scope(nodeid)

    return SharedFixtureScheduling(config, log)


# The longest tests (a minute or more on two cores), handed out first: started last, one of them
# would keep a single worker busy after the others are done.
LONG_FIRST = (
    "tests/dags/test_native_backfill.py",
    "tests/dashboard/",
    "tests/dags/test_e2e_dag.py",
    "tests/pipeline/test_faults.py",
    "tests/pipeline/test_national_sync.py::test_demo_day",
    "tests/pipeline/test_flow.py::test_demo_day",
    "tests/dags/test_national_dag.py",
    "tests/pipeline/test_report_flow.py",
    "tests/pipeline/test_bad_packages.py",
    "tests/pipeline/test_crash.py::test_sigkill",
)


def _long_rank(nodeid: str) -> int:
    return next(
        (i for i, prefix in enumerate(LONG_FIRST) if nodeid.startswith(prefix)), len(LONG_FIRST)
    )


def pytest_collection_modifyitems(config, items) -> None:
    items.sort(key=lambda item: _long_rank(item.nodeid))  # stable: the same order on every worker


def scenario_of(request) -> str:
    """The stand-ins' scenario a test asked for with ``@pytest.mark.scenario(name)``; ``demo`` if none.

    The demo day (300 dossiers) stands for the product; tests of one mechanism (a crash point, a
    heal, a finding) run the same code on a smaller day (``burst-N``) and keep their CI time small."""
    marker = request.node.get_closest_marker("scenario")
    return marker.args[0] if marker else "demo"


def on_store(backend: str):
    """Run a long end-to-end test on one store backend only. Tests of the store's own behaviour (exactly
    once, crashes, migrations, report SQL) run on both; a long flow whose store calls those tests
    already cover runs once, on the backend it stands for (SQLite = the demo, PostgreSQL = production)."""
    return pytest.mark.parametrize("store_url", [backend], indirect=True)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    """A fresh, empty store database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/store.sqlite"
        return
    with pg_database("lienthong_test") as url:
        yield url


@contextmanager
def pg_database(prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the machine's server, dropped afterwards; yields its URL."""
    import sqlalchemy as sa

    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL not running")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url
    finally:
        from lienthong.store.engine import dispose_engine

        dispose_engine(url)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
