"""Test environment: Airflow settings before anything imports airflow, the store backends, the
stand-ins, how xdist hands tests out, and which tests ``make test-fast`` runs.

The store is tested on a real SQLite file and on the machine's real PostgreSQL (a fresh
database per test, dropped afterwards).

The product and its rig are imported inside the functions below, not at the top: this module sets
Airflow's environment first, and nothing it imports may read Airflow's settings before that.
"""

from __future__ import annotations

import inspect
import os
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import Pool
from xdist.scheduler import LoadScopeScheduling

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
# One Airflow home and metadata DB per test process: xdist workers inherit the controller's
# environment, and two workers creating one SQLite metadata DB at once fail ("table already
# exists").
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
    try:
        with sa.create_engine(PG_ADMIN_URL).connect():
            return True
    except sa.exc.DBAPIError:  # refused, unknown host, authentication: no server to use
        return False


# Tests that share an expensive module- or session-scoped fixture run on one xdist worker, so it
# is built once; every other test is handed out on its own, which keeps the workers evenly busy.
# The dashboard files share one api-server stack. (xdist's own ``xdist_group`` marker does not
# group under pytest 9.2: xdist 3.8 renames ``item._nodeid``, which pytest no longer reads.)
SHARED_FIXTURE_GROUPS = {
    "tests/dashboard/": "dashboard-stack",
    "tests/pipeline/test_bad_packages.py": "bad-packages-world",
    "tests/pipeline/test_verify_result.py": "verify-result-keys",
    "tests/pipeline/test_bounds.py": "bounds-signed",
}


def shared_fixture_scope(nodeid: str) -> str:
    """The unit of work a test is handed out in: its shared-fixture group, or the test alone."""
    return next(
        (group for prefix, group in SHARED_FIXTURE_GROUPS.items() if nodeid.startswith(prefix)),
        nodeid,
    )


class SharedFixtureScheduling(LoadScopeScheduling):
    """``--dist loadgroup`` by :func:`shared_fixture_scope`."""

    def _split_scope(self, nodeid: str) -> str:
        return shared_fixture_scope(nodeid)


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` groups by :data:`SHARED_FIXTURE_GROUPS` (see there)."""
    if config.getvalue("dist") != "loadgroup":
        return None
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
    "tests/report/test_report_flow.py",
    "tests/pipeline/test_bad_packages.py",
    "tests/pipeline/test_crash.py::test_sigkill",
)


def _long_rank(nodeid: str) -> int:
    return next(
        (i for i, prefix in enumerate(LONG_FIRST) if nodeid.startswith(prefix)), len(LONG_FIRST)
    )


# ``make test-fast`` (``-m fast``): the pure-logic tests, with no server, database, Airflow
# metadata DB or subprocess. Nobody has to remember to mark a pure test, so the selection cannot
# rot:
#
# * At collection a test is marked ``fast`` when every fixture it uses, through any other fixture
#   too, comes from pytest itself (``tmp_path``, ``monkeypatch``, ``caplog``, parameters). Each
#   fixture of this suite sets something up (the stand-ins, a store database, Airflow's DB, an
#   api-server, a webhook), so a test that uses one is not fast; a new fixture counts as heavy
#   from the day it is written, without a list to keep up to date.
# * A test that sets up its server, database or process in its own body says so with
#   ``@pytest.mark.slow`` (or a module's ``pytestmark``). It cannot forget to: see the guard.
# * A module whose own fixtures are pure (keys made in memory) says so by marking itself
#   ``pytestmark = pytest.mark.fast``; it may not use the suite's shared fixtures.
# * The guard: a fast test that opens a network connection, binds a port, connects a database or
#   starts a process fails at once, naming what it did (:func:`_fast_tests_stay_pure`), in
#   ``make test`` as in ``make test-fast``. So a slow test cannot hide in the fast selection.
#
# ``tests/test_suite_layout.py`` checks the rules themselves: a test on pytest's fixtures alone is
# fast, one on a fixture of the suite or marked ``slow`` is not, and the guard refuses.
FAST, SLOW = "fast", "slow"
_GUARD = "_fast_tests_stay_pure"
# The suite's shared fixtures: a module that calls itself fast may not use them.
_SHARED_HEAVY = frozenset(
    {"store_url", "standins", "res", "nres", "airflow_db", "linked_airflow", "stack"}
)


def _suite_fixtures(item: pytest.Item) -> set[str]:
    """The fixtures this test uses (directly or through others) that are defined in ``tests/``."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:  # not a test function (e.g. a doctest): never fast
        return {"<unknown>"}
    return {
        name
        for name, defs in info.name2fixturedefs.items()
        if name != _GUARD
        and defs
        and Path(inspect.getfile(defs[-1].func)).resolve().is_relative_to(TESTS)
    }


def is_fast(item: pytest.Item) -> bool:
    """Whether ``make test-fast`` runs this test (see the comment above :data:`FAST`)."""
    if item.get_closest_marker(SLOW) is not None:
        return False
    own = _suite_fixtures(item)
    if not own:
        return True
    if item.get_closest_marker(FAST) is None:
        return False
    if own & _SHARED_HEAVY:
        raise pytest.UsageError(
            f"{item.nodeid} is marked fast but uses {sorted(own & _SHARED_HEAVY)}"
        )
    return True


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if is_fast(item):
            item.add_marker(FAST)
    items.sort(key=lambda item: _long_rank(item.nodeid))  # stable: the same order on every worker


class ImpureFastTest(AssertionError):
    """A test selected by ``make test-fast`` reached for a server, a database or a process."""


def _importing() -> bool:
    """Whether the caller runs inside an import. A library may look around once as it loads
    (croniter asks ``platform.architecture()``, which runs ``file``): not the test's own work."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back
    return False


@pytest.fixture(autouse=True)
def _fast_tests_stay_pure(request, monkeypatch) -> Iterator[None]:
    """A ``fast`` test may not open sockets, connect a database or start processes (see above)."""
    if request.node.get_closest_marker(FAST) is None:
        yield
        return

    def refuse(what: str, real=None):
        def refused(*args, **kwargs):
            if _importing():
                return real(*args, **kwargs) if real is not None else None
            raise ImpureFastTest(
                f"{request.node.nodeid} runs in `make test-fast` but {what}: use the fixture "
                "that sets it up (store_url, standins, ...) or mark the test `slow`"
            )

        return refused

    for name in ("connect", "connect_ex", "bind"):
        real = getattr(socket.socket, name)
        monkeypatch.setattr(socket.socket, name, refuse("uses the network", real))
    monkeypatch.setattr(subprocess, "Popen", refuse("starts a process", subprocess.Popen))
    monkeypatch.setattr(os, "fork", refuse("starts a process", os.fork))
    on_connect = refuse("connects a database")
    sa.event.listen(Pool, "connect", on_connect)
    try:
        yield
    finally:
        sa.event.remove(Pool, "connect", on_connect)


def scenario_of(request) -> str:
    """The stand-ins' scenario a test asked for with ``@pytest.mark.scenario(name)``; ``demo``
    if none.

    The demo day (300 dossiers) stands for the product; tests of one mechanism (a crash point, a
    heal, a finding) run the same code on a smaller day (``burst-N``) and keep their CI time
    small."""
    marker = request.node.get_closest_marker("scenario")
    return marker.args[0] if marker else "demo"


def on_store(backend: str):
    """Run a long end-to-end test on one store backend only. Tests of the store's own behaviour
    (exactly once, crashes, migrations, report SQL) run on both; a long flow whose store calls
    those tests already cover runs once, on the backend it stands for (SQLite = the demo,
    PostgreSQL = production)."""
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
    from lienthong.store.engine import dispose_engine  # noqa: PLC0415 - after the settings above

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
        dispose_engine(url)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# The stand-ins and the pipeline's resources, for every package's tests that run the link (the
# pipeline's, the store's, the clients', the report's, orchestration's).


@pytest.fixture
def standins(tmp_path, request):
    """Portal, iOffice and national stand-ins as real HTTP servers on loopback (frozen clock),
    with the scenario the test asked for (:func:`scenario_of`)."""
    from lienthong_standins.harness import start_standins  # noqa: PLC0415 - after the settings

    server, s = start_standins(tmp_path / "standins", scenario_of(request))
    try:
        yield s
    finally:
        server.stop()


@pytest.fixture
def res(standins, store_url):
    """Pipeline resources pointed at the stand-ins and at a real store (SQLite, PostgreSQL)."""
    from lienthong_standins.harness import make_resources  # noqa: PLC0415 - after the settings

    r = make_resources(standins, store_url)
    try:
        yield r
    finally:
        r.close()


@pytest.fixture
def nres(standins, store_url):
    """Resources with the national stand-in's client, as national_sync's task builds them."""
    from lienthong_standins.harness import make_resources  # noqa: PLC0415 - after the settings

    r = make_resources(standins, store_url, national=True)
    try:
        yield r
    finally:
        r.close()
