"""Orchestration glue against the real stand-ins: connections as Airflow reads them (env), a
store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lienthong.pipeline import intake
from lienthong.store.ledger import RunContext
from lienthong_standins.harness import make_resources
from tests.dags.conftest import connections_env

HOUR = 3600


@pytest.fixture
def airflow_env(standins, tmp_path, monkeypatch):
    """The link's Connections and routing Variable, where Airflow's secrets backends find them."""
    env = connections_env(standins, f"sqlite:///{tmp_path}/store.sqlite", tmp_path / "trust.pem")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def pending_packages(standins, tmp_path):
    """A day of intake pushed to iOffice and a day of office work: result packages are waiting."""
    res = make_resources(standins, f"sqlite:///{tmp_path}/pending.sqlite")
    try:
        standins.advance(10 * HOUR)
        intake.pull_and_link(
            res,
            RunContext("test", "orchestration"),
            intake.scheduled_window(res, timedelta(minutes=10)),
            advance_cursor=True,
        )
        standins.advance(24 * HOUR)
        assert res.ioffice.pending_doc_ids(), "the stand-in office should have issued something"
    finally:
        res.close()
