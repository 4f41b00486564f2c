"""The reporting store's tables (SQLAlchemy 2). Alembic migrations in ``migrations/`` build them.

One link record per dossier, an append-only event log (provenance), quarantine
records with everything needed to replay, bypass documents, and the reporting
table ``dossier_time_savings`` (exactly one row per dossier carried through).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive UTC) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


TS = UTCDateTime()


class Base(DeclarativeBase):
    pass


class DossierLink(Base):
    __tablename__ = "dossier_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_id: Mapped[str] = mapped_column(String(64), unique=True)
    dossier_code: Mapped[str] = mapped_column(String(64), unique=True)
    agency_code: Mapped[str] = mapped_column(String(64), index=True)
    agency_name: Mapped[str] = mapped_column(String(255))
    procedure_code: Mapped[str] = mapped_column(String(32), index=True)
    procedure_name: Mapped[str] = mapped_column(String(500))
    result_kind: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    state_before_quarantine: Mapped[str | None] = mapped_column(String(16))
    state_changed_at: Mapped[datetime] = mapped_column(TS)
    portal_status: Mapped[int] = mapped_column(Integer)
    portal_updated_at: Mapped[datetime] = mapped_column(TS)
    portal_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    payload_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime | None] = mapped_column(TS, index=True)
    due_at: Mapped[datetime | None] = mapped_column(TS)
    transferred_at: Mapped[datetime | None] = mapped_column(TS)
    signed_at: Mapped[datetime | None] = mapped_column(TS)
    issued_at: Mapped[datetime | None] = mapped_column(TS)
    attached_at: Mapped[datetime | None] = mapped_column(TS)
    finished_at: Mapped[datetime | None] = mapped_column(TS)
    returned_at: Mapped[datetime | None] = mapped_column(TS)
    ioffice_doc_id: Mapped[str | None] = mapped_column(String(64), index=True)
    doc_code_notation: Mapped[str | None] = mapped_column(String(64))
    doc_type: Mapped[str | None] = mapped_column(String(64))
    doc_subject: Mapped[str | None] = mapped_column(String(500))
    doc_signer: Mapped[str | None] = mapped_column(String(255))
    doc_promulgation_date: Mapped[datetime | None] = mapped_column(TS)
    result_sha256: Mapped[str | None] = mapped_column(String(64))
    result_file_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TS)
    # Where the dossier was sent and who was asked to sign, as routed at transfer: a decision in
    # flight when the routing changes (a reorganisation) is checked against what was asked.
    routed_unit: Mapped[str | None] = mapped_column(String(64))
    routed_signer_uid: Mapped[str | None] = mapped_column(String(255))
    routed_signer_name: Mapped[str | None] = mapped_column(String(255))


class LinkEvent(Base):
    __tablename__ = "link_event"
    __table_args__ = (
        Index("ix_link_event_code_at", "dossier_code", "at"),
        Index("ix_link_event_kind_at", "kind", "at"),
    )  # the audit trail by kind

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    dossier_code: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(TS)
    run_id: Mapped[str | None] = mapped_column(String(255))
    task_id: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    payload_hash: Mapped[str | None] = mapped_column(String(64))


class Quarantine(Base):
    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("source", "item_key", name="uq_quarantine_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32))  # portal_dossier | ioffice_package
    item_key: Mapped[str] = mapped_column(String(128))
    dossier_code: Mapped[str | None] = mapped_column(String(64), index=True)
    reason_code: Mapped[str] = mapped_column(String(64))
    reason_vi: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | replayed
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = mapped_column(TS)
    last_seen_at: Mapped[datetime] = mapped_column(TS)
    run_id: Mapped[str | None] = mapped_column(String(255))
    resolved_at: Mapped[datetime | None] = mapped_column(TS)
    resolution: Mapped[str | None] = mapped_column(Text)
    # Self-healing (pipeline.heal): automatic re-checks made, when the next is due, the digest of
    # the configuration a permanent cause depends on, and which cause operators were told about.
    heal_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_heal_at: Mapped[datetime | None] = mapped_column(TS)
    config_fingerprint: Mapped[str | None] = mapped_column(String(64))
    alerted_for: Mapped[str | None] = mapped_column(String(16))
    alerted_at: Mapped[datetime | None] = mapped_column(TS)


class BypassDocument(Base):
    """An iOffice decision with no portal dossier: a procedure that bypassed the portal."""

    __tablename__ = "bypass_document"

    ioffice_doc_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_code: Mapped[str | None] = mapped_column(String(64))
    agency_name: Mapped[str | None] = mapped_column(String(255))
    doc_code_notation: Mapped[str | None] = mapped_column(String(64))
    doc_type: Mapped[str | None] = mapped_column(String(64))
    doc_subject: Mapped[str | None] = mapped_column(String(500))
    promulgation_date: Mapped[datetime | None] = mapped_column(TS)
    found_at: Mapped[datetime] = mapped_column(TS)
    found_by: Mapped[str] = mapped_column(String(32))


class DossierTimeSavings(Base):
    __tablename__ = "dossier_time_savings"

    dossier_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    dossier_id: Mapped[str] = mapped_column(String(64))
    agency_code: Mapped[str] = mapped_column(String(64), index=True)
    agency_name: Mapped[str] = mapped_column(String(255))
    procedure_code: Mapped[str] = mapped_column(String(32), index=True)
    procedure_name: Mapped[str] = mapped_column(String(500))
    received_at: Mapped[datetime | None] = mapped_column(TS)
    transferred_at: Mapped[datetime | None] = mapped_column(TS)
    signed_at: Mapped[datetime | None] = mapped_column(TS)
    issued_at: Mapped[datetime | None] = mapped_column(TS)
    attached_at: Mapped[datetime] = mapped_column(TS, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(TS)
    due_at: Mapped[datetime | None] = mapped_column(TS)
    timeliness: Mapped[str | None] = mapped_column(String(16))
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    minutes_saved: Mapped[int] = mapped_column(Integer)
    cost_per_hour_vnd: Mapped[int] = mapped_column(Integer)
    cost_saved_vnd: Mapped[int] = mapped_column(BigInteger)
    run_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(TS)


class IntakeCursor(Base):
    """High-water mark of the scheduled intake: (updatedDate, id) of the last dossier stored."""

    __tablename__ = "intake_cursor"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(TS)
    dossier_id: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(255))


class DistrictTotal(Base):
    """All dossiers of the district in a period (portal or not): data an operator supplies."""

    __tablename__ = "district_total"

    period: Mapped[str] = mapped_column(String(16), primary_key=True)  # YYYY or YYYY-MM
    total: Mapped[int] = mapped_column(Integer)


class UnitTotal(Base):
    """All dossiers of one unit in a period (portal or not), supplied by an operator: the
    denominator of a unit's share on the portal, for a province of many units."""

    __tablename__ = "unit_total"

    unit_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)  # YYYY, YYYY-MM, YYYY-MM-DD
    total: Mapped[int] = mapped_column(Integer)


class ReconcileFinding(Base):
    """One thing reconciliation found (and whether it was repaired): the operators' worklist."""

    __tablename__ = "reconcile_finding"
    __table_args__ = (Index("ix_reconcile_finding_run", "run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(255))
    found_at: Mapped[datetime] = mapped_column(TS, index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    dossier_code: Mapped[str | None] = mapped_column(String(64), index=True)
    ioffice_doc_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    repaired: Mapped[bool] = mapped_column(Boolean, default=False)
    repair_result: Mapped[str | None] = mapped_column(String(64))


class NationalSyncDossier(Base):
    """One dossier's sync to the national portal: what was queued, what the national side
    confirmed."""

    __tablename__ = "national_sync_dossier"

    dossier_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(64), index=True)
    agency_name: Mapped[str] = mapped_column(String(255))
    next_seq: Mapped[int] = mapped_column(Integer, default=1)
    record_fingerprint: Mapped[str | None] = mapped_column(String(64))  # the last record queued
    on_national: Mapped[bool] = mapped_column(
        Boolean, default=False
    )  # a record was confirmed there
    local_status: Mapped[int] = mapped_column(Integer)
    local_timeliness: Mapped[str] = mapped_column(
        String(16)
    )  # the national rule on the local record
    local_updated_at: Mapped[datetime] = mapped_column(TS)
    received_at: Mapped[datetime | None] = mapped_column(TS, index=True)
    due_at: Mapped[datetime | None] = mapped_column(TS)
    finished_at: Mapped[datetime | None] = mapped_column(TS, index=True)
    sent_status: Mapped[int | None] = mapped_column(Integer)  # of the last record confirmed
    sent_timeliness: Mapped[str | None] = mapped_column(String(16))
    first_seen_at: Mapped[datetime] = mapped_column(TS)
    last_sent_at: Mapped[datetime | None] = mapped_column(TS)
    checked_at: Mapped[datetime | None] = mapped_column(TS)  # last read back from the national side
    national_status: Mapped[int | None] = mapped_column(Integer)
    national_timeliness: Mapped[str | None] = mapped_column(String(16))


class NationalSyncItem(Base):
    """The outbox: one record snapshot or step to send, in order per dossier, exactly once."""

    __tablename__ = "national_sync_item"
    __table_args__ = (
        UniqueConstraint("dossier_code", "seq", name="uq_national_item_seq"),
        UniqueConstraint("dossier_code", "item_key", name="uq_national_item_key"),
        Index("ix_national_item_state", "state", "dossier_code", "seq"),
        Index("ix_national_item_sent", "sent_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))  # record | step
    item_key: Mapped[str] = mapped_column(String(96))
    agency_code: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict] = mapped_column(
        JSON, default=dict
    )  # the national wire body (adapter-rendered)
    digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(
        Integer
    )  # a record's status (TrangThaiHoSo) when queued
    timeliness: Mapped[str | None] = mapped_column(
        String(16)
    )  # a record's national class when queued
    state: Mapped[str] = mapped_column(String(12))
    local_at: Mapped[datetime] = mapped_column(TS)  # when the change happened locally
    queued_at: Mapped[datetime] = mapped_column(TS)
    sent_at: Mapped[datetime | None] = mapped_column(TS)  # confirmed, by the national side's clock
    lag_seconds: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason_code: Mapped[str | None] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(255))


class NationalSyncUnread(Base):
    """A dossier the sync could not read when it changed (malformed on the portal then): read again
    by every run until it reads, so a cursor that moved past it loses nothing."""

    __tablename__ = "national_sync_unread"

    dossier_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    dossier_code: Mapped[str | None] = mapped_column(String(64), index=True)
    reason_code: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(TS)
    last_tried_at: Mapped[datetime] = mapped_column(TS)
    attempts: Mapped[int] = mapped_column(Integer, default=1)


class Claim(Base):
    """Who may act on a shared effect now (a dossier's portal writes, an iOffice package, the
    national
    outbox): one owner at a time, for a lease that expires, so a killed worker's claim is taken
    over."""

    __tablename__ = "claim"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(TS)
    acquired_at: Mapped[datetime] = mapped_column(TS)


class PortalStepIntent(Base):
    """When a portal step was first meant to be written. A repeat writes the same (content, time)
    and is
    recognised on the portal; a legitimate second step with the same text has another time."""

    __tablename__ = "portal_step_intent"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime] = mapped_column(TS)


class DossierExtension(Base):
    """An extension of a dossier's deadline (gia hạn): the date agreed before, the new one, and
    the reason the portal gave. On-time is judged against the latest agreed date; the history
    stays."""

    __tablename__ = "dossier_extension"

    dossier_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    new_due_at: Mapped[datetime] = mapped_column(TS, primary_key=True)
    previous_due_at: Mapped[datetime | None] = mapped_column(TS)
    reason: Mapped[str] = mapped_column(String(1000))
    seen_at: Mapped[datetime] = mapped_column(TS)
    run_id: Mapped[str | None] = mapped_column(String(255))


class DeadlineAlert(Base):
    """An alert that a dossier's deadline is near, for one stage and one agreed date: written
    before it is sent, marked when it was, so each is sent once (an extension opens a new one)."""

    __tablename__ = "deadline_alert"

    dossier_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(TS, primary_key=True)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    working_days_left: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TS)
    sent_at: Mapped[datetime | None] = mapped_column(TS, index=True)


class ResultVersion(Base):
    """Each decision attached as a dossier's result, with its file's digest: the first, and every
    replacement; a revoked or replaced one stays here with when and why, so the history keeps
    both versions' hashes after the portal shows only the current one."""

    __tablename__ = "result_version"

    dossier_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    ioffice_doc_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code_notation: Mapped[str | None] = mapped_column(String(64))
    sha256: Mapped[str | None] = mapped_column(String(64))
    file_id: Mapped[str | None] = mapped_column(String(64))
    attached_at: Mapped[datetime | None] = mapped_column(TS)
    replaced_by: Mapped[str | None] = mapped_column(String(64))
    replaced_at: Mapped[datetime | None] = mapped_column(TS)
    revoked_at: Mapped[datetime | None] = mapped_column(TS, index=True)
    change_reason: Mapped[str | None] = mapped_column(String(1000))
    # Revoked after the citizen had the result (the dossier returned): a person must act.
    revoked_after_return: Mapped[bool] = mapped_column(Boolean, default=False)


class RouteQuestion(Base):
    """A missing route put to a person (a Required Action in Airflow's UI): asked once per
    procedure, agency and cause while it waits; the answer, who gave it and when."""

    __tablename__ = "route_question"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    procedure_code: Mapped[str] = mapped_column(String(32))
    agency_code: Mapped[str] = mapped_column(String(64))
    reason_code: Mapped[str] = mapped_column(String(64))
    asked_at: Mapped[datetime] = mapped_column(TS)
    run_id: Mapped[str | None] = mapped_column(String(255))
    answer: Mapped[str | None] = mapped_column(String(500))
    answered_by: Mapped[str | None] = mapped_column(String(255))
    answered_at: Mapped[datetime | None] = mapped_column(TS, index=True)


class RoutingOverlay(Base):
    """A route a person decided (through a Required Action), on top of the routing Variable: the
    one store-backed overlay, so nobody edits YAML; ``result_kind`` ``direct`` marks the procedure
    as signed on the papers (no iOffice)."""

    __tablename__ = "routing_overlay"

    procedure_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    procedure_name: Mapped[str] = mapped_column(String(500))
    agency_name: Mapped[str] = mapped_column(String(255))
    result_kind: Mapped[str] = mapped_column(String(16))
    unit_route: Mapped[dict | None] = mapped_column(JSON)  # ioffice_unit, handler, signer
    decided_by: Mapped[str] = mapped_column(String(255))
    decided_at: Mapped[datetime] = mapped_column(TS)
    question_id: Mapped[int | None] = mapped_column(Integer)
