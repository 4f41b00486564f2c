"""The store engine and pipeline resources, inside the api-server process.

The Task SDK's ``BaseHook`` and ``Variable`` need a task supervisor, which the api-server does not
have, so connections are read through ``airflow.models`` (secrets backends, env ``AIRFLOW_CONN_*``,
then the metadata DB) — the same connections the DAGs use.
"""

from __future__ import annotations

import os

from sqlalchemy import Engine

from lienthong.clients.ioffice import IOfficeClient, IOfficeSettings
from lienthong.clients.portal import PortalClient, PortalSettings
from lienthong.orchestration.resources import DB_CONN, IOFFICE_CONN, PORTAL_CONN
from lienthong.pipeline.resources import Resources, SavingsSettings
from lienthong.pipeline.routing import default_routing, parse_routing
from lienthong.store.engine import get_engine, url_from_connection


def _connection(conn_id: str):
    from airflow.models.connection import Connection

    return Connection.get_connection_from_secrets(conn_id)


def variable(name: str, default: str) -> str:
    try:
        from airflow.models.variable import Variable

        return str(Variable.get(name, default_var=default))
    except Exception:  # noqa: BLE001 - metadata DB unreachable: fall back like the tasks do
        return os.environ.get(f"AIRFLOW_VAR_{name.upper()}", default)


def store_engine() -> Engine:
    return get_engine(url_from_connection(_connection(DB_CONN)))


def build_resources() -> Resources:
    """Fresh clients per replay (a replay is rare; no token or pool outlives the request)."""
    routing_text = variable("lienthong_routing", "")
    return Resources(
        portal=PortalClient(PortalSettings.from_connection(_connection(PORTAL_CONN))),
        ioffice=IOfficeClient(IOfficeSettings.from_connection(_connection(IOFFICE_CONN))),
        engine=store_engine(),
        routing=parse_routing(routing_text) if routing_text.strip() else default_routing(),
        savings=SavingsSettings(
            minutes_per_dossier=int(variable("lienthong_minutes_saved_per_dossier", "30")),
            cost_per_hour_vnd=int(variable("lienthong_cost_per_hour_vnd", "32000")),
        ),
    )
