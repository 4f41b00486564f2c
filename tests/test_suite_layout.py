"""Policy for the suite itself: an expensive shared fixture is built once per run, not per worker."""

from __future__ import annotations

import re

from tests.conftest import ROOT, SHARED_FIXTURE_GROUPS, shared_fixture_scope

SHARED = re.compile(r"@pytest\.fixture\(scope=\"(module|session)\"\)\ndef (\w+)")
PER_WORKER = {
    ("tests/dags/conftest.py", "airflow_db"),
    ("tests/dags/conftest.py", "dagbag"),
}  # cheap, per process


def test_every_shared_fixture_is_in_a_group() -> None:
    found = [
        (str(path.relative_to(ROOT)), name)
        for path in sorted((ROOT / "tests").rglob("*.py"))
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


def test_a_group_is_one_unit_and_any_other_test_its_own() -> None:
    assert shared_fixture_scope("tests/dashboard/test_api.py::test_x") == "dashboard-stack"
    assert shared_fixture_scope("tests/dashboard/test_roles.py::test_y[a]") == "dashboard-stack"
    assert (
        shared_fixture_scope("tests/pipeline/test_flow.py::test_z[sqlite]")
        == "tests/pipeline/test_flow.py::test_z[sqlite]"
    )
