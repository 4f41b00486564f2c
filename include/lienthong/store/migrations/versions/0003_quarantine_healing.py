"""quarantine healing: automatic re-check attempts, next attempt, configuration fingerprint,
alerts"""

import sqlalchemy as sa
from alembic import op

import lienthong.store.schema

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.add_column(
            sa.Column("heal_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column(
                "next_heal_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch.add_column(sa.Column("config_fingerprint", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("alerted_for", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column(
                "alerted_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        for name in (
            "alerted_at",
            "alerted_for",
            "config_fingerprint",
            "next_heal_at",
            "heal_attempts",
        ):
            batch.drop_column(name)
