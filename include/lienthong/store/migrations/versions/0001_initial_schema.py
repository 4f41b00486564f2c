"""initial schema"""

import sqlalchemy as sa
from alembic import op

import lienthong.store.schema

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "bypass_document",
        sa.Column("ioffice_doc_id", sa.String(length=64), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=True),
        sa.Column("agency_name", sa.String(length=255), nullable=True),
        sa.Column("doc_code_notation", sa.String(length=64), nullable=True),
        sa.Column("doc_type", sa.String(length=64), nullable=True),
        sa.Column("doc_subject", sa.String(length=500), nullable=True),
        sa.Column(
            "promulgation_date", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("found_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("found_by", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("ioffice_doc_id"),
    )
    op.create_table(
        "district_total",
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("period"),
    )
    op.create_table(
        "dossier_link",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dossier_id", sa.String(length=64), nullable=False),
        sa.Column("dossier_code", sa.String(length=64), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("agency_name", sa.String(length=255), nullable=False),
        sa.Column("procedure_code", sa.String(length=32), nullable=False),
        sa.Column("procedure_name", sa.String(length=500), nullable=False),
        sa.Column("result_kind", sa.String(length=16), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_before_quarantine", sa.String(length=16), nullable=True),
        sa.Column(
            "state_changed_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("portal_status", sa.Integer(), nullable=False),
        sa.Column(
            "portal_updated_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("portal_notified", sa.Boolean(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "transferred_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("signed_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("issued_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attached_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("returned_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ioffice_doc_id", sa.String(length=64), nullable=True),
        sa.Column("doc_code_notation", sa.String(length=64), nullable=True),
        sa.Column("doc_type", sa.String(length=64), nullable=True),
        sa.Column("doc_subject", sa.String(length=500), nullable=True),
        sa.Column("doc_signer", sa.String(length=255), nullable=True),
        sa.Column(
            "doc_promulgation_date",
            lienthong.store.schema.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("result_sha256", sa.String(length=64), nullable=True),
        sa.Column("result_file_id", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dossier_code"),
        sa.UniqueConstraint("dossier_id"),
    )
    with op.batch_alter_table("dossier_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dossier_link_agency_code"), ["agency_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dossier_link_ioffice_doc_id"), ["ioffice_doc_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dossier_link_procedure_code"), ["procedure_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dossier_link_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dossier_link_state"), ["state"], unique=False)

    op.create_table(
        "dossier_time_savings",
        sa.Column("dossier_code", sa.String(length=64), nullable=False),
        sa.Column("dossier_id", sa.String(length=64), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("agency_name", sa.String(length=255), nullable=False),
        sa.Column("procedure_code", sa.String(length=32), nullable=False),
        sa.Column("procedure_name", sa.String(length=500), nullable=False),
        sa.Column("received_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "transferred_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("signed_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("issued_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attached_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("timeliness", sa.String(length=16), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("minutes_saved", sa.Integer(), nullable=False),
        sa.Column("cost_per_hour_vnd", sa.Integer(), nullable=False),
        sa.Column("cost_saved_vnd", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dossier_code"),
    )
    with op.batch_alter_table("dossier_time_savings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dossier_time_savings_agency_code"), ["agency_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dossier_time_savings_attached_at"), ["attached_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dossier_time_savings_procedure_code"), ["procedure_code"], unique=False
        )

    op.create_table(
        "intake_cursor",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("updated_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dossier_id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "link_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("dossier_code", sa.String(length=64), nullable=True),
        sa.Column("at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=255), nullable=True),
        sa.Column("task_id", sa.String(length=255), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("link_event", schema=None) as batch_op:
        batch_op.create_index("ix_link_event_code_at", ["dossier_code", "at"], unique=False)

    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("item_key", sa.String(length=128), nullable=False),
        sa.Column("dossier_code", sa.String(length=64), nullable=True),
        sa.Column("reason_code", sa.String(length=64), nullable=False),
        sa.Column("reason_vi", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column(
            "first_seen_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_seen_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("run_id", sa.String(length=255), nullable=True),
        sa.Column("resolved_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "item_key", name="uq_quarantine_item"),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quarantine_dossier_code"), ["dossier_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_quarantine_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_status"))
        batch_op.drop_index(batch_op.f("ix_quarantine_dossier_code"))

    op.drop_table("quarantine")
    with op.batch_alter_table("link_event", schema=None) as batch_op:
        batch_op.drop_index("ix_link_event_code_at")

    op.drop_table("link_event")
    op.drop_table("intake_cursor")
    with op.batch_alter_table("dossier_time_savings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_time_savings_procedure_code"))
        batch_op.drop_index(batch_op.f("ix_dossier_time_savings_attached_at"))
        batch_op.drop_index(batch_op.f("ix_dossier_time_savings_agency_code"))

    op.drop_table("dossier_time_savings")
    with op.batch_alter_table("dossier_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_link_state"))
        batch_op.drop_index(batch_op.f("ix_dossier_link_received_at"))
        batch_op.drop_index(batch_op.f("ix_dossier_link_procedure_code"))
        batch_op.drop_index(batch_op.f("ix_dossier_link_ioffice_doc_id"))
        batch_op.drop_index(batch_op.f("ix_dossier_link_agency_code"))

    op.drop_table("dossier_link")
    op.drop_table("district_total")
    op.drop_table("bypass_document")
