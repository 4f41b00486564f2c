"""The operators' audit log is append-only in the database itself (revision 0007), on both
backends: an UPDATE or DELETE of an audit row is refused, a row cannot be turned into an audit row,
INSERT still works, other event kinds stay editable, and a downgrade removes the triggers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lienthong.store.engine import alembic_config, get_engine
from lienthong.store.ledger import OPERATOR_ACTION, RunContext, add_event, record_operator_action
from lienthong.store.schema import LinkEvent
from tests.conftest import on_store

RUN = RunContext(run_id="dashboard:op", task_id="replay")
REFUSED = "append-only"


def _audit_row(engine: sa.Engine, outcome: str = "denied") -> int:
    with Session(engine) as session, session.begin():
        record_operator_action(
            session,
            RUN,
            actor="op",
            action="replay",
            target="quarantine#7",
            outcome=outcome,
            code="000.00.00.H36-221130-0001",
        )
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.max(LinkEvent.id)))


def _other_row(engine: sa.Engine) -> int:
    with Session(engine) as session, session.begin():
        add_event(session, RUN, "000.00.00.H36-221130-0001", "portal_update", detail={"x": 1})
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.max(LinkEvent.id)))


def _refused(engine: sa.Engine, statement) -> None:
    with pytest.raises(IntegrityError, match=REFUSED), engine.begin() as conn:
        conn.execute(statement)


def _detail(engine: sa.Engine, row: int) -> dict | None:
    with engine.connect() as conn:
        return conn.scalar(sa.select(LinkEvent.detail).where(LinkEvent.id == row))


def test_audit_rows_cannot_be_changed_or_removed(store_url):
    engine = get_engine(store_url)  # migrated to head
    row = _audit_row(engine)
    table = LinkEvent.__table__
    tampered = {"actor": "someone-else", "outcome": "requested"}
    _refused(engine, table.update().where(table.c.id == row).values(detail=tampered))
    _refused(engine, table.update().where(table.c.id == row).values(kind="portal_update"))
    _refused(engine, table.delete().where(table.c.id == row))
    _refused(engine, table.delete())  # a whole-table delete stops at the first audit row
    assert _detail(engine, row)["actor"] == "op" and _detail(engine, row)["outcome"] == "denied"

    # INSERT still works: the log grows.
    second = _audit_row(engine, outcome="requested")
    assert second > row and _detail(engine, second)["outcome"] == "requested"

    # Another kind of event cannot be turned into an audit row after the fact...
    other = _other_row(engine)
    _refused(engine, table.update().where(table.c.id == other).values(kind=OPERATOR_ACTION))
    # ...but stays editable (retention may thin event details) and removable.
    with engine.begin() as conn:
        conn.execute(table.update().where(table.c.id == other).values(detail={}))
        assert conn.scalar(sa.select(table.c.detail).where(table.c.id == other)) == {}
        conn.execute(table.delete().where(table.c.id == other))
    assert _detail(engine, other) is None


@on_store("postgres")  # SQLite has no TRUNCATE
def test_truncate_is_refused_on_postgres(store_url):
    engine = get_engine(store_url)
    _audit_row(engine)
    _refused(engine, sa.text("TRUNCATE link_event"))


def test_downgrade_removes_the_triggers_and_upgrade_restores_them(store_url):
    engine = get_engine(store_url)
    row = _audit_row(engine)
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    table = LinkEvent.__table__
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    with engine.begin() as conn:  # 0006: the audit is append-only by convention only
        conn.execute(table.update().where(table.c.id == row).values(detail={"outcome": "x"}))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    _refused(engine, table.update().where(table.c.id == row).values(detail={}))
    _refused(engine, table.delete().where(table.c.id == row))
