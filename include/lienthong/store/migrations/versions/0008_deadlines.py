"""deadlines, corrections, routes decided by people: extensions of a dossier's due date, alerts
sent before a due date, the versions of a dossier's result (replaced, revoked), missing routes put
to a person and the routing overlay their answers make"""

import sqlalchemy as sa
from alembic import op

from lienthong.store.schema import UTCDateTime

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "dossier_extension",
        sa.Column("dossier_code", sa.String(64), primary_key=True),
        sa.Column("new_due_at", UTCDateTime(), primary_key=True),
        sa.Column("previous_due_at", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.Column("run_id", sa.String(255), nullable=True),
    )
    op.create_table(
        "deadline_alert",
        sa.Column("dossier_code", sa.String(64), primary_key=True),
        sa.Column("stage", sa.String(32), primary_key=True),
        sa.Column("due_at", UTCDateTime(), primary_key=True),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("working_days_left", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_deadline_alert_sent_at", "deadline_alert", ["sent_at"])
    op.create_table(
        "result_version",
        sa.Column("dossier_code", sa.String(64), primary_key=True),
        sa.Column("ioffice_doc_id", sa.String(64), primary_key=True),
        sa.Column("code_notation", sa.String(64), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("file_id", sa.String(64), nullable=True),
        sa.Column("attached_at", UTCDateTime(), nullable=True),
        sa.Column("replaced_by", sa.String(64), nullable=True),
        sa.Column("replaced_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("change_reason", sa.String(1000), nullable=True),
        sa.Column("revoked_after_return", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_result_version_revoked_at", "result_version", ["revoked_at"])
    op.create_table(
        "route_question",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("procedure_code", sa.String(32), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("reason_code", sa.String(64), nullable=False),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.Column("run_id", sa.String(255), nullable=True),
        sa.Column("answer", sa.String(500), nullable=True),
        sa.Column("answered_by", sa.String(255), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_route_question_answered_at", "route_question", ["answered_at"])
    op.create_table(
        "routing_overlay",
        sa.Column("procedure_code", sa.String(32), primary_key=True),
        sa.Column("agency_code", sa.String(64), primary_key=True),
        sa.Column("procedure_name", sa.String(500), nullable=False),
        sa.Column("agency_name", sa.String(255), nullable=False),
        sa.Column("result_kind", sa.String(16), nullable=False),
        sa.Column("unit_route", sa.JSON(), nullable=True),
        sa.Column("decided_by", sa.String(255), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("routing_overlay")
    op.drop_index("ix_route_question_answered_at", table_name="route_question")
    op.drop_table("route_question")
    op.drop_index("ix_result_version_revoked_at", table_name="result_version")
    op.drop_table("result_version")
    op.drop_index("ix_deadline_alert_sent_at", table_name="deadline_alert")
    op.drop_table("deadline_alert")
    op.drop_table("dossier_extension")
