"""reconcile findings"""

import sqlalchemy as sa
from alembic import op

import lienthong.store.schema

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "reconcile_finding",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=255), nullable=False),
        sa.Column("found_at", lienthong.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("dossier_code", sa.String(length=64), nullable=True),
        sa.Column("ioffice_doc_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("repaired", sa.Boolean(), nullable=False),
        sa.Column("repair_result", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reconcile_finding", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reconcile_finding_dossier_code"), ["dossier_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_reconcile_finding_found_at"), ["found_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reconcile_finding_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_reconcile_finding_run", ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reconcile_finding", schema=None) as batch_op:
        batch_op.drop_index("ix_reconcile_finding_run")
        batch_op.drop_index(batch_op.f("ix_reconcile_finding_kind"))
        batch_op.drop_index(batch_op.f("ix_reconcile_finding_found_at"))
        batch_op.drop_index(batch_op.f("ix_reconcile_finding_dossier_code"))

    op.drop_table("reconcile_finding")
