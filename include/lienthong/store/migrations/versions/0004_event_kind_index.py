"""event log by kind and time: the audit page reads operator actions without scanning every event

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 11:15:00
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_link_event_kind_at", "link_event", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_link_event_kind_at", table_name="link_event")
