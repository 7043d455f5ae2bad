"""team managers and partner agencies: a partner's agency and agreement, section assignments, the panel meeting

`app_user.agency` and `app_user.partner_agreement_until` describe a partner agency representative (the new
`partner` role); `audit_section_partner` assigns an agency section of a multi-agency audit to one of them;
`panel_meeting` records the multi-agency panel's meeting on an audit. The `team_manager` role is a value of
`user_role.role` and needs no change here.

Revision ID: b8e4f0a2d5c9
Revises: a7d3e9f1c4b8
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.db import UTCDateTime

revision: str = "b8e4f0a2d5c9"
down_revision: str | None = "a7d3e9f1c4b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite has both): a batch copy of app_user would break the keys that point at it.
    op.add_column("app_user", sa.Column("agency", sa.String(length=20), nullable=True))
    op.add_column("app_user", sa.Column("partner_agreement_until", sa.Date(), nullable=True))
    op.create_table(
        "audit_section_partner",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("audit_id", sa.Integer(), sa.ForeignKey("audit.id"), nullable=False),
        sa.Column("section_key", sa.String(length=60), nullable=False),
        sa.Column("partner_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("assigned_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("audit_id", "section_key", name="uq_audit_section_partner"),
    )
    op.create_index("ix_audit_section_partner_audit_id", "audit_section_partner", ["audit_id"])
    op.create_index("ix_audit_section_partner_partner_id", "audit_section_partner", ["partner_id"])
    op.create_table(
        "panel_meeting",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("audit_id", sa.Integer(), sa.ForeignKey("audit.id"), nullable=False, unique=True),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("attendees", JSON, nullable=False),
        sa.Column("conclusion", sa.Text(), nullable=False),
        sa.Column("grade", sa.String(length=30), nullable=True),
        sa.Column("dissent", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("panel_meeting")
    op.drop_index("ix_audit_section_partner_partner_id", table_name="audit_section_partner")
    op.drop_index("ix_audit_section_partner_audit_id", table_name="audit_section_partner")
    op.drop_table("audit_section_partner")
    op.drop_column("app_user", "partner_agreement_until")
    op.drop_column("app_user", "agency")
