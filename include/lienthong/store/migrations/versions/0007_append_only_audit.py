"""the operators' audit log is append-only: the database refuses to change or remove its rows

The audit log is the ``operator_action`` rows of ``link_event`` (``store.ledger.
record_operator_action``). Triggers refuse an UPDATE or DELETE of such a row, and an UPDATE that
would turn another event into one; on PostgreSQL a TRUNCATE of ``link_event`` too. INSERT stays
allowed, and the other event kinds stay as they were (retention may thin them). Nothing in the
link updates or deletes an audit row, so no code path needs a way around the triggers.

Whoever owns the tables can still drop the triggers: this stops the application's own connection
(a bug, an injected statement), not the database's owner.

On SQLite a later migration that rebuilds ``link_event`` (batch mode copies the table) drops these
triggers with the old table and must create them again; ``tests/store/test_append_only_audit.py``
checks them at head.
"""

from alembic import op

revision = "0007"
down_revision = "0006"

AUDIT_KIND = "operator_action"  # store.ledger.OPERATOR_ACTION, frozen as this revision wrote it
MESSAGE = "lienthong: the operator audit log (link_event, kind operator_action) is append-only"

SQLITE_UP = (
    f"""
    CREATE TRIGGER link_event_audit_no_update BEFORE UPDATE ON link_event
    FOR EACH ROW WHEN OLD.kind = '{AUDIT_KIND}' OR NEW.kind = '{AUDIT_KIND}'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER link_event_audit_no_delete BEFORE DELETE ON link_event
    FOR EACH ROW WHEN OLD.kind = '{AUDIT_KIND}'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS link_event_audit_no_delete",
    "DROP TRIGGER IF EXISTS link_event_audit_no_update",
)

# restrict_violation (SQLSTATE 23001): an integrity error, as SQLite's RAISE(ABORT) is, so callers
# see the same kind of error on both backends.
POSTGRES_UP = (
    f"""
    CREATE FUNCTION lienthong_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    f"""
    CREATE TRIGGER link_event_audit_no_update BEFORE UPDATE ON link_event
    FOR EACH ROW WHEN (OLD.kind = '{AUDIT_KIND}' OR NEW.kind = '{AUDIT_KIND}')
    EXECUTE FUNCTION lienthong_audit_append_only()
    """,
    f"""
    CREATE TRIGGER link_event_audit_no_delete BEFORE DELETE ON link_event
    FOR EACH ROW WHEN (OLD.kind = '{AUDIT_KIND}')
    EXECUTE FUNCTION lienthong_audit_append_only()
    """,
    """
    CREATE TRIGGER link_event_audit_no_truncate BEFORE TRUNCATE ON link_event
    FOR EACH STATEMENT EXECUTE FUNCTION lienthong_audit_append_only()
    """,
)
POSTGRES_DOWN = (
    "DROP TRIGGER IF EXISTS link_event_audit_no_truncate ON link_event",
    "DROP TRIGGER IF EXISTS link_event_audit_no_delete ON link_event",
    "DROP TRIGGER IF EXISTS link_event_audit_no_update ON link_event",
    "DROP FUNCTION IF EXISTS lienthong_audit_append_only()",
)


def _run(statements: dict[str, tuple[str, ...]]) -> None:
    dialect = op.get_bind().dialect.name
    if dialect not in statements:
        raise NotImplementedError(f"no append-only audit triggers for the {dialect} store")
    for statement in statements[dialect]:
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN})
