"""Pipeline :class:`Resources` from Airflow Connections and Variables: the one place that reads
them.

Tasks read through the Task SDK (it needs a task supervisor); the api-server (dashboard) and
the report CLI have none, so they read through ``airflow.models`` (secrets backends,
``AIRFLOW_CONN_*``/``AIRFLOW_VAR_*``, then the metadata DB) - the same objects either way.
Nothing here falls back to a default on error: an unreachable backend, a missing routing or a
number outside its range (:data:`VARIABLE_RANGES`) is raised, because a link running on guessed
settings is worse than one that stops.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lienthong.domain.savings import DEFAULT_SAVINGS, SavingsSettings
from lienthong.orchestration.airflow_stats import AirflowStats
from lienthong.orchestration.hooks import IGatePortalHook, IOfficeHook, NationalPortalHook
from lienthong.orchestration.setting_rules import IntRange
from lienthong.pipeline.deadlines import CALENDAR_VARIABLE, CalendarConfig, calendar_from_variable
from lienthong.pipeline.national_config import NATIONAL_SYNC_VARIABLE, config_from_variable
from lienthong.pipeline.resources import Resources
from lienthong.pipeline.route_decisions import overlay_rows, with_overlay
from lienthong.pipeline.routing import ROUTING_VARIABLE, RoutingConfig, routing_from_variable
from lienthong.store.engine import get_engine, url_from_connection
from lienthong.store.retention import DEFAULT_RETENTION_DAYS

PORTAL_CONN = "lienthong_portal"
IOFFICE_CONN = "lienthong_ioffice"
DB_CONN = "lienthong_db"
NATIONAL_CONN = "lienthong_dvcqg"
MINUTES_VARIABLE = "lienthong_minutes_saved_per_dossier"
COST_VARIABLE = "lienthong_cost_per_hour_vnd"
CONCURRENCY_VARIABLE = "lienthong_concurrency"
DEFAULT_CONCURRENCY = 8
RETENTION_VARIABLE = "lienthong_personal_data_retention_days"
# The allowed range of each numeric Variable (inclusive): outside it the run stops, naming it.
VARIABLE_RANGES: dict[str, tuple[int, int]] = {
    MINUTES_VARIABLE: (0, 24 * 60),  # at most a day of an official's work per dossier
    COST_VARIABLE: (0, 10_000_000),  # VND per hour: catches a zero too many
    CONCURRENCY_VARIABLE: (1, 64),  # threads per task; 0 cannot run, more swamps the remotes
    RETENTION_VARIABLE: (1, 3650),  # at least a day, at most ten years
}


class Lookup(Protocol):
    """Where Connections and Variables come from; ``variable`` is None when it is not set."""

    def connection(self, conn_id: str) -> Any: ...

    def variable(self, name: str) -> str | None: ...


class TaskLookup:
    """Inside a task: the Task SDK."""

    def connection(self, conn_id: str) -> Any:
        from airflow.sdk import BaseHook  # noqa: PLC0415 - each side loads only its own Airflow API

        return BaseHook.get_connection(conn_id)

    def variable(self, name: str) -> str | None:
        from airflow.sdk import Variable  # noqa: PLC0415 - each side loads only its own Airflow API

        return Variable.get(name, default=None)


class ServerLookup:
    """Outside a task (api-server, CLI): Airflow's models and secrets backends."""

    def connection(self, conn_id: str) -> Any:
        # Why not at the top: airflow.models must not load in task processes (Task SDK isolation)
        from airflow.models.connection import Connection  # noqa: PLC0415

        return Connection.get_connection_from_secrets(conn_id)

    def variable(self, name: str) -> str | None:
        from airflow.models.variable import Variable  # noqa: PLC0415 - as above

        value = Variable.get(name, default_var=None)
        return None if value is None else str(value)


def _int_or(look: Lookup, name: str, default: int) -> int:
    """An optional numeric Variable: its value when set, else the default; a value that is not a
    whole number within :data:`VARIABLE_RANGES` raises
    :class:`~lienthong.orchestration.setting_rules.InvalidSetting` naming the Variable."""
    low, high = VARIABLE_RANGES[name]
    return IntRange(f"Variable {name}", low, high).parse(look.variable(name), default)


def store_engine(lookup: Lookup | None = None) -> Engine:
    return get_engine(url_from_connection((lookup or TaskLookup()).connection(DB_CONN)))


def retention_days(lookup: Lookup | None = None) -> int:
    """How long an open quarantine record keeps the dossier's content (``store.retention``)."""

    return _int_or(lookup or TaskLookup(), RETENTION_VARIABLE, DEFAULT_RETENTION_DAYS)


def savings_settings(lookup: Lookup | None = None) -> SavingsSettings:
    """The savings Variables, each defaulting to the article's figure when not set."""
    look = lookup or TaskLookup()
    return SavingsSettings(
        minutes_per_dossier=_int_or(look, MINUTES_VARIABLE, DEFAULT_SAVINGS.minutes_per_dossier),
        cost_per_hour_vnd=_int_or(look, COST_VARIABLE, DEFAULT_SAVINGS.cost_per_hour_vnd),
    )


def calendar_config(lookup: Lookup | None = None) -> CalendarConfig:
    """The working calendar's additions and the alert lead time (Variable ``lienthong_calendar``);
    the law's calendar when it is not set, an error naming it when it is unreadable."""
    return calendar_from_variable((lookup or TaskLookup()).variable(CALENDAR_VARIABLE))


def routing_with_decisions(lookup: Lookup | None = None, engine: Engine | None = None):
    """The routing Variable with the routes people decided (``route_decisions``) laid over it."""
    look = lookup or TaskLookup()
    routing = routing_from_variable(look.variable(ROUTING_VARIABLE))
    return _with_decisions(routing, engine or store_engine(look))


def _with_decisions(routing: RoutingConfig, engine: Engine) -> RoutingConfig:
    with Session(engine) as session:
        return with_overlay(routing, overlay_rows(session))


def build_resources(lookup: Lookup | None = None, *, national: bool = False) -> Resources:
    """Fresh clients and engine; the caller closes them (prefer :func:`resources_from_airflow`).
    ``national``: also the national portal's client and sync settings (only its tasks need them).
    The Variables are read and checked first: a bad one fails before any client is opened."""
    look = lookup or TaskLookup()
    routing = routing_from_variable(look.variable(ROUTING_VARIABLE))
    savings = savings_settings(look)
    concurrency = _int_or(look, CONCURRENCY_VARIABLE, DEFAULT_CONCURRENCY)
    calendar = calendar_config(look)
    national_config = (
        config_from_variable(look.variable(NATIONAL_SYNC_VARIABLE)) if national else None
    )

    engine = store_engine(look)
    extra = {}
    if national_config is not None:
        extra = dict(
            national=NationalPortalHook(NATIONAL_CONN).get_conn(), national_config=national_config
        )
    return Resources(
        portal=IGatePortalHook(PORTAL_CONN).get_conn(),
        ioffice=IOfficeHook(IOFFICE_CONN).get_conn(),
        other_ioffices={c: IOfficeHook(c).get_conn() for c in sorted(routing.ioffice_conn_ids)},
        engine=engine,
        routing=_with_decisions(routing, engine),
        savings=savings,
        calendar=calendar,
        concurrency=concurrency,
        metrics=AirflowStats(),
        **extra,
    )


@contextmanager
def resources_from_airflow(
    lookup: Lookup | None = None, *, national: bool = False
) -> Iterator[Resources]:
    """Resources for one task, request or command; clients closed however it ends."""
    resources = build_resources(lookup, national=national)
    try:
        yield resources
    finally:
        resources.close()
