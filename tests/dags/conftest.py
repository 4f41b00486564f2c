"""Airflow for DAG tests: the metadata DB once per session, connections aimed at the stand-ins."""

from __future__ import annotations

import json

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.utils.db import initdb
from sqlalchemy.engine import make_url

from lienthong_standins.harness import (
    CLIENT_ID,
    CLIENT_SECRET,
    IOFFICE_TOKEN,
    NATIONAL_PASSWORD,
    NATIONAL_USER,
    start_standins,
)
from lienthong_standins.routing import ROUTING_PATH
from tests.conftest import ROOT, scenario_of


@pytest.fixture(scope="session")
def airflow_db():
    initdb()


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    return DagBag(dag_folder=str(ROOT / "dags"))


def connections_env(standins, store_url: str, trust_file) -> dict[str, str]:
    portal_port = int(standins.portal_url.rsplit(":", 1)[1])
    ioffice_port = int(standins.ioffice_root.rsplit(":", 1)[1])
    trust_file.write_text(standins.trust_root())
    if store_url.startswith("sqlite:///"):
        db = {"conn_type": "sqlite", "host": store_url.removeprefix("sqlite:///")}
    else:
        u = make_url(store_url)
        db = {
            "conn_type": "postgres",
            "host": u.host,
            "port": u.port,
            "login": u.username,
            "schema": u.database,
        }
    return {
        "AIRFLOW_CONN_LIENTHONG_PORTAL": json.dumps(
            {
                "conn_type": "igate_portal",
                "host": "127.0.0.1",
                "port": portal_port,
                "schema": "http",
                "login": CLIENT_ID,
                "password": CLIENT_SECRET,
                "extra": {"timeout": 5},
            }
        ),
        "AIRFLOW_CONN_LIENTHONG_IOFFICE": json.dumps(
            {
                "conn_type": "vnpt_ioffice",
                "host": "127.0.0.1",
                "port": ioffice_port,
                "schema": "http",
                "login": "lienthong",
                "password": IOFFICE_TOKEN,
                "extra": {
                    "base_path": "/api/lienthong",
                    "trust_roots_file": str(trust_file),
                    "crl_url": "/ca/crl.der",
                },
            }
        ),
        "AIRFLOW_CONN_LIENTHONG_DVCQG": json.dumps(
            {
                "conn_type": "dvcqg",
                "host": "127.0.0.1",
                "port": int(standins.national_root.rsplit(":", 1)[1]),
                "schema": "http",
                "login": NATIONAL_USER,
                "password": NATIONAL_PASSWORD,
                "extra": {"timeout": 5},
            }
        ),
        "AIRFLOW_CONN_LIENTHONG_DB": json.dumps(db),
        "AIRFLOW_VAR_LIENTHONG_ROUTING": ROUTING_PATH.read_text(encoding="utf-8"),
    }


@pytest.fixture
def linked_airflow(tmp_path, store_url, monkeypatch, airflow_db, request):
    """Stand-ins + store + Airflow connections (env), for ``dag.test()``."""

    server, standins = start_standins(tmp_path / "standins", scenario_of(request))
    for key, value in connections_env(standins, store_url, tmp_path / "trust.pem").items():
        monkeypatch.setenv(key, value)
    try:
        yield standins
    finally:
        server.stop()
