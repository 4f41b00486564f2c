"""Policy for the suite itself: the tests mirror the package, an expensive shared fixture is built
once per run (not per worker), and ``make test-fast`` selects the pure tests and only those."""

from __future__ import annotations

import re
import socket
import subprocess

import pytest
import sqlalchemy as sa

from tests.conftest import (
    FAST,
    ROOT,
    SHARED_FIXTURE_GROUPS,
    ImpureFastTest,
    on_store,
    shared_fixture_scope,
)

PRODUCT = ROOT / "include" / "lienthong"
TESTS = ROOT / "tests"
# Test directories beside the package mirror: what they test is not a package of the product.
BESIDE = {
    "dags": "the DAG files",
    "standins": "the rig's stand-ins",
    "cluster": "the distributed end-to-end test",
    "docs": "the documentation",
}

SHARED = re.compile(r"@pytest\.fixture\(scope=\"(module|session)\"\)\ndef (\w+)")
PER_WORKER = {
    ("tests/dags/conftest.py", "airflow_db"),
    ("tests/dags/conftest.py", "dagbag"),
}  # cheap, per process


def product_packages() -> list[str]:
    """The product's packages: the directories of ``include/lienthong`` that hold Python modules."""
    return sorted(p.name for p in PRODUCT.iterdir() if p.is_dir() and any(p.glob("*.py")))


def test_each_package_has_its_test_directory() -> None:
    packages = product_packages()
    assert {"domain", "clients", "pipeline", "store"} <= set(packages)
    missing = [pkg for pkg in packages if not any((TESTS / pkg).glob("test_*.py"))]
    assert missing == [], "tests/<package>/ holds the tests of include/lienthong/<package>/"


def test_every_test_directory_mirrors_a_package_or_is_one_of_the_few_beside() -> None:
    dirs = sorted(d.name for d in TESTS.iterdir() if d.is_dir() and any(d.rglob("*.py")))
    assert [d for d in dirs if d not in product_packages() and d not in BESIDE] == []
    # packages, so that ``tests.<dir>.<module>`` names each file once
    assert [d for d in dirs if not (TESTS / d / "__init__.py").exists()] == []


def test_every_shared_fixture_is_in_a_group() -> None:
    found = [
        (str(path.relative_to(ROOT)), name)
        for path in sorted(TESTS.rglob("*.py"))
        for _, name in SHARED.findall(path.read_text(encoding="utf-8"))
    ]
    assert found, "the pattern finds no shared fixture: it no longer matches how they are written"
    loose = [
        (path, name)
        for path, name in found
        if (path, name) not in PER_WORKER
        and not any(path.startswith(prefix) for prefix in SHARED_FIXTURE_GROUPS)
    ]
    assert loose == []


def test_every_group_names_an_existing_path() -> None:
    assert [p for p in SHARED_FIXTURE_GROUPS if not (ROOT / p).exists()] == []


def test_a_group_is_one_unit_and_any_other_test_its_own() -> None:
    assert shared_fixture_scope("tests/dashboard/test_api.py::test_x") == "dashboard-stack"
    assert shared_fixture_scope("tests/dashboard/test_roles.py::test_y[a]") == "dashboard-stack"
    assert (
        shared_fixture_scope("tests/pipeline/test_flow.py::test_z[sqlite]")
        == "tests/pipeline/test_flow.py::test_z[sqlite]"
    )


def test_a_test_with_pytests_fixtures_only_is_fast_and_kept_pure(request, tmp_path) -> None:
    assert request.node.get_closest_marker(FAST) is not None
    with pytest.raises(ImpureFastTest, match="uses the network"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    with pytest.raises(ImpureFastTest, match="uses the network"):
        socket.socket().bind(("127.0.0.1", 0))
    with pytest.raises(ImpureFastTest, match="starts a process"):
        subprocess.run(["true"], check=False)
    engine = sa.create_engine(f"sqlite:///{tmp_path}/x.sqlite")
    try:
        with pytest.raises(ImpureFastTest, match="connects a database"), engine.connect():
            pass
    finally:
        engine.dispose()


@on_store("sqlite")
def test_a_test_on_a_fixture_of_the_suite_is_not_fast(request, store_url) -> None:
    assert request.node.get_closest_marker(FAST) is None


@pytest.mark.slow
def test_a_test_marked_slow_is_not_fast(request) -> None:
    assert request.node.get_closest_marker(FAST) is None
