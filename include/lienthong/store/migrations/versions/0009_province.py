"""the province: totals per unit and period, and where a link was routed and who was asked to
sign (a decision in flight across a reorganisation is checked against what was asked)"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    with op.batch_alter_table("dossier_link") as batch:
        batch.add_column(sa.Column("routed_unit", sa.String(64), nullable=True))
        batch.add_column(sa.Column("routed_signer_uid", sa.String(255), nullable=True))
        batch.add_column(sa.Column("routed_signer_name", sa.String(255), nullable=True))
    op.create_table(
        "unit_total",
        sa.Column("unit_code", sa.String(64), primary_key=True),
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("total", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("dossier_link") as batch:
        batch.drop_column("routed_signer_name")
        batch.drop_column("routed_signer_uid")
        batch.drop_column("routed_unit")
    op.drop_table("unit_total")
