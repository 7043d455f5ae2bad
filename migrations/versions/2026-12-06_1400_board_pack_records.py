"""the board pack as a record: schedules, packs (draft, then issued once: PDF, SHA-256, parameters, commentary) and
their deliveries to board members

Revision ID: b4e0f6a8c1d3
Revises: f2c8d4e6a9b3
Create Date: 2026-12-06 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import JSONType, UTCDateTime

revision: str = "b4e0f6a8c1d3"
down_revision: str | None = "f2c8d4e6a9b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "board_pack_schedule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("frequency", sa.String(length=20), nullable=False),
        sa.Column("working_day", sa.Integer(), nullable=False),
        sa.Column("service_area_id", sa.Integer(), sa.ForeignKey("service_area.id"), nullable=True),
        sa.Column("recipients", JSONType, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "board_pack_record",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("schedule_id", sa.Integer(), sa.ForeignKey("board_pack_schedule.id"), nullable=True),
        sa.Column("period_kind", sa.String(length=10), nullable=False),
        sa.Column("period_value", sa.String(length=10), nullable=False),
        sa.Column("service_area_id", sa.Integer(), sa.ForeignKey("service_area.id"), nullable=True),
        sa.Column("params", JSONType, nullable=False),
        sa.Column("recipients", JSONType, nullable=False),
        sa.Column("commentary", sa.Text(), nullable=False, server_default=""),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("issued_at", UTCDateTime(), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=120), nullable=True),
        sa.Column("generation_seconds", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("schedule_id", "period_value", name="uq_board_pack_record_schedule_period"),
    )
    op.create_index("ix_board_pack_record_schedule_id", "board_pack_record", ["schedule_id"])
    op.create_index("ix_board_pack_record_service_area_id", "board_pack_record", ["service_area_id"])
    op.create_index("ix_board_pack_record_status", "board_pack_record", ["status"])
    op.create_table(
        "board_pack_delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pack_id", sa.Integer(), sa.ForeignKey("board_pack_record.id"), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("how", sa.String(length=20), nullable=False),
        sa.Column("link_expires_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=False),
        sa.UniqueConstraint("pack_id", "email", name="uq_board_pack_delivery_pack_email"),
    )
    op.create_index("ix_board_pack_delivery_pack_id", "board_pack_delivery", ["pack_id"])


def downgrade() -> None:
    op.drop_index("ix_board_pack_delivery_pack_id", table_name="board_pack_delivery")
    op.drop_table("board_pack_delivery")
    op.drop_index("ix_board_pack_record_status", table_name="board_pack_record")
    op.drop_index("ix_board_pack_record_service_area_id", table_name="board_pack_record")
    op.drop_index("ix_board_pack_record_schedule_id", table_name="board_pack_record")
    op.drop_table("board_pack_record")
    op.drop_table("board_pack_schedule")
