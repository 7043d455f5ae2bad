"""corrections of register facts, with the reason and the history

Revision ID: d6b2f8a0c3e5
Revises: c5a1e7f9b2d4
Create Date: 2026-12-06 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import JSONType, UTCDateTime

revision: str = "d6b2f8a0c3e5"
down_revision: str | None = "c5a1e7f9b2d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_fact_correction",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("child_case.id"), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old_value", JSONType, nullable=True),
        sa.Column("new_value", JSONType, nullable=True),
        sa.Column("source_value", JSONType, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("corrected_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("corrected_at", UTCDateTime(), nullable=False),
        sa.Column("superseded_at", UTCDateTime(), nullable=True),
        sa.Column("superseded_by_import_id", sa.Integer(), sa.ForeignKey("case_import.id"), nullable=True),
        sa.Column("superseded_by_correction_id", sa.Integer(), sa.ForeignKey("case_fact_correction.id"), nullable=True),
    )
    op.create_index(
        "ix_case_fact_correction_case_id_superseded_at", "case_fact_correction", ["case_id", "superseded_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_case_fact_correction_case_id_superseded_at", table_name="case_fact_correction")
    op.drop_table("case_fact_correction")
