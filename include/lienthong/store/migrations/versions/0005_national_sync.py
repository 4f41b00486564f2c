"""national sync: per-dossier sync state, the outbox of records and steps for DVCQG, unread
dossiers"""

import sqlalchemy as sa
from alembic import op

from lienthong.store.schema import UTCDateTime

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "national_sync_dossier",
        sa.Column("dossier_code", sa.String(64), primary_key=True),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("agency_name", sa.String(255), nullable=False),
        sa.Column("next_seq", sa.Integer(), nullable=False),
        sa.Column("record_fingerprint", sa.String(64), nullable=True),
        sa.Column("on_national", sa.Boolean(), nullable=False),
        sa.Column("local_status", sa.Integer(), nullable=False),
        sa.Column("local_timeliness", sa.String(16), nullable=False),
        sa.Column("local_updated_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("sent_status", sa.Integer(), nullable=True),
        sa.Column("sent_timeliness", sa.String(16), nullable=True),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_sent_at", UTCDateTime(), nullable=True),
        sa.Column("checked_at", UTCDateTime(), nullable=True),
        sa.Column("national_status", sa.Integer(), nullable=True),
        sa.Column("national_timeliness", sa.String(16), nullable=True),
    )
    op.create_index(
        "ix_national_sync_dossier_agency_code", "national_sync_dossier", ["agency_code"]
    )
    op.create_index(
        "ix_national_sync_dossier_received_at", "national_sync_dossier", ["received_at"]
    )
    op.create_index(
        "ix_national_sync_dossier_finished_at", "national_sync_dossier", ["finished_at"]
    )
    op.create_table(
        "national_sync_item",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("dossier_code", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("item_key", sa.String(96), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("timeliness", sa.String(16), nullable=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("local_at", UTCDateTime(), nullable=False),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("lag_seconds", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason_code", sa.String(64), nullable=True),
        sa.Column("run_id", sa.String(255), nullable=True),
        sa.UniqueConstraint("dossier_code", "seq", name="uq_national_item_seq"),
        sa.UniqueConstraint("dossier_code", "item_key", name="uq_national_item_key"),
    )
    op.create_index(
        "ix_national_item_state", "national_sync_item", ["state", "dossier_code", "seq"]
    )
    op.create_index("ix_national_item_sent", "national_sync_item", ["sent_at"])
    op.create_table(
        "national_sync_unread",
        sa.Column("dossier_id", sa.String(64), primary_key=True),
        sa.Column("dossier_code", sa.String(64), nullable=True),
        sa.Column("reason_code", sa.String(64), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_tried_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_national_sync_unread_dossier_code", "national_sync_unread", ["dossier_code"]
    )


def downgrade() -> None:
    op.drop_table("national_sync_unread")
    op.drop_table("national_sync_item")
    op.drop_table("national_sync_dossier")
