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
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix=f"lienthong-airflow-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME}/airflow.db"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(ROOT / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")

PG_ADMIN_URL = os.environ.get("LIENTHONG_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def _pg_available() -> bool:
    import sqlalchemy as sa

    try:
        with sa.create_engine(PG_ADMIN_URL).connect():
            return True
    except Exception:
        return False


# Tests that share an expensive module- or session-scoped fixture run on one xdist worker
# (``--dist loadgroup``), so it is built once; every other test is handed out on its own, which
# keeps the workers evenly busy. The three dashboard files share one api-server stack.
SHARED_FIXTURE_GROUPS = {
    "tests/dashboard/": "dashboard-stack",
    "tests/pipeline/test_bad_packages.py": "bad-packages-world",
    "tests/unit/test_verify_result.py": "verify-result-keys",
}


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        for prefix, group in SHARED_FIXTURE_GROUPS.items():
            if item.nodeid.startswith(prefix):
                item.add_marker(pytest.mark.xdist_group(group))


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
