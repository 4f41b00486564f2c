"""What a pipeline step needs, built once per task: clients, store engine, configuration.

Built from Airflow Connections/Variables by :mod:`lienthong.orchestration.airflow_resources`,
or directly in tests and benchmarks.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lienthong.clients.ioffice import IOfficeClient
from lienthong.clients.national import NationalClient
from lienthong.clients.portal import PortalClient
from lienthong.domain.savings import DEFAULT_SAVINGS, SavingsSettings
from lienthong.pipeline.deadlines import CalendarConfig
from lienthong.pipeline.metrics import Metrics, NoMetrics
from lienthong.pipeline.national_config import NationalSyncConfig
from lienthong.pipeline.routing import RoutingConfig
from lienthong.store import claims

SOURCE_MARK = "@"


def qualified_doc_id(doc_id: str, conn_id: str | None) -> str:
    """A document id unique across iOffice instances, as the link keeps it: the default iOffice's
    as it is, another's followed by ``@<Connection id>`` (two instances may number their
    documents alike)."""
    return doc_id if conn_id is None else f"{doc_id}{SOURCE_MARK}{conn_id}"


def split_doc_id(doc_id: str, conn_ids: Collection[str]) -> tuple[str | None, str]:
    """(Connection id, or None for the default iOffice; the id that iOffice knows) of a
    :func:`qualified_doc_id`; a suffix naming no Connection of ``conn_ids`` is part of the id."""
    raw, mark, conn_id = doc_id.rpartition(SOURCE_MARK)
    if mark and conn_id in conn_ids:
        return conn_id, raw
    return None, doc_id


@dataclass
class Resources:
    portal: PortalClient
    ioffice: IOfficeClient
    engine: Engine
    routing: RoutingConfig
    savings: SavingsSettings = DEFAULT_SAVINGS
    concurrency: int = 8
    batch_size: int = 500
    metrics: Metrics = field(default_factory=NoMetrics)
    national: NationalClient | None = None  # only for the tasks that talk to the national portal
    national_config: NationalSyncConfig = field(default_factory=NationalSyncConfig)
    calendar: CalendarConfig = field(default_factory=CalendarConfig)  # working days, alert lead
    claim_ttl: timedelta = (
        claims.DEFAULT_TTL
    )  # how long a killed worker's claims block their effects
    # iOffice instances other than the default, by Connection id (units the routing places there)
    other_ioffices: dict[str, IOfficeClient] = field(default_factory=dict)

    def ioffice_by_conn(self, conn_id: str | None) -> IOfficeClient:
        """The client of an iOffice Connection (None: the default one); a Connection the routing
        names but nobody built is an error, never a silent fallback to the default iOffice."""
        if conn_id is None:
            return self.ioffice
        if conn_id not in self.other_ioffices:
            raise LookupError(
                f"no iOffice client for Connection {conn_id!r} (named in the routing)"
            )
        return self.other_ioffices[conn_id]

    def split_doc_id(self, doc_id: str) -> tuple[str | None, str]:
        return split_doc_id(doc_id, self.other_ioffices)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: commits on success, rolls back on any error. On SQLite it takes the
        database's write lock first: flows running at once then wait their turn (busy timeout)
        instead of failing a read-then-write on a snapshot another flow's commit made stale."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            if self.engine.dialect.name == "sqlite":
                claims.xact_lock(session, "store")
            yield session

    def minutes_saved(self, procedure_code: str) -> int:
        proc = self.routing.procedures.get(procedure_code)
        if proc is not None and proc.minutes_saved is not None:
            return proc.minutes_saved
        return self.savings.minutes_per_dossier

    def close(self) -> None:
        self.portal.close()
        self.ioffice.close()
        for client in self.other_ioffices.values():
            client.close()
        if self.national is not None:
            self.national.close()
