"""Build pipeline :class:`Resources` from Airflow Connections and Variables (in tasks only)."""

from __future__ import annotations

import os

from lienthong.clients.ioffice import IOfficeClient, IOfficeSettings
from lienthong.clients.portal import PortalClient, PortalSettings
from lienthong.pipeline.resources import Resources, SavingsSettings
from lienthong.pipeline.routing import default_routing, parse_routing
from lienthong.store.engine import get_engine, url_from_connection

PORTAL_CONN = "lienthong_portal"
IOFFICE_CONN = "lienthong_ioffice"
DB_CONN = "lienthong_db"


def _variable(name: str, default: str) -> str:
    from airflow.sdk import Variable

    try:
        return Variable.get(name, default=default)
    except Exception:  # no Variable backend reachable (plain scripts)
        return os.environ.get(f"AIRFLOW_VAR_{name.upper()}", default)


def store_engine():
    from airflow.sdk import BaseHook

    return get_engine(url_from_connection(BaseHook.get_connection(DB_CONN)))


def resources_from_airflow() -> Resources:
    from airflow.sdk import BaseHook

    routing_text = _variable("lienthong_routing", "")
    return Resources(
        portal=PortalClient(PortalSettings.from_connection(BaseHook.get_connection(PORTAL_CONN))),
        ioffice=IOfficeClient(IOfficeSettings.from_connection(BaseHook.get_connection(IOFFICE_CONN))),
        engine=store_engine(),
        routing=parse_routing(routing_text) if routing_text.strip() else default_routing(),
        savings=SavingsSettings(
            minutes_per_dossier=int(_variable("lienthong_minutes_saved_per_dossier", "30")),
            cost_per_hour_vnd=int(_variable("lienthong_cost_per_hour_vnd", "32000")),
        ),
        concurrency=int(_variable("lienthong_concurrency", "8")),
    )
