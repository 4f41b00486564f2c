"""claims (leases on shared effects) and portal step intents"""

import sqlalchemy as sa
from alembic import op

from lienthong.store.schema import UTCDateTime

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "claim",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("owner", sa.String(120), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("acquired_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "portal_step_intent",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("portal_step_intent")
    op.drop_table("claim")
