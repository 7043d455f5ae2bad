"""legal holds on cases, the record of retention runs, and when a record was anonymised

Revision ID: e7c3a9b1d4f6
Revises: d6b2f8a0c3e5
Create Date: 2026-12-06 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import JSONType, UTCDateTime

revision: str = "e7c3a9b1d4f6"
down_revision: str | None = "d6b2f8a0c3e5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The records the retention schedule anonymises say when (app.retention.run): their free text is gone, their figures
# stay, and a run does not pick them again.
ANONYMISED = (
    "child_case",
    "case_import",
    "audit",
    "audit_reply",
    "audit_moderation",
    "recommendation",
    "safeguarding_escalation",
)


def upgrade() -> None:
    for table in ANONYMISED:  # a plain ADD/DROP COLUMN (SQLite 3.35+ has both): no table rebuilt
        op.add_column(table, sa.Column("anonymised_at", UTCDateTime(), nullable=True))
    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("child_case.id"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("placed_at", UTCDateTime(), nullable=False),
        sa.Column("lifted_at", UTCDateTime(), nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("lifted_reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_legal_hold_case_id_lifted_at", "legal_hold", ["case_id", "lifted_at"])
    op.create_table(
        "retention_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actor_label", sa.String(length=120), nullable=False),
        sa.Column("summary", JSONType, nullable=False),
        sa.Column("problem", sa.String(length=500), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("retention_run")
    op.drop_index("ix_legal_hold_case_id_lifted_at", table_name="legal_hold")
    op.drop_table("legal_hold")
    for table in ANONYMISED:
        op.drop_column(table, "anonymised_at")
