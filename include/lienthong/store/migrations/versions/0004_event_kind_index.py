"""event log by kind and time: the audit page reads operator actions without scanning every event"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_index("ix_link_event_kind_at", "link_event", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_link_event_kind_at", table_name="link_event")
