"""panel meeting actions: which recommendations the panel's actions became, for which agency

`panel_meeting.actions` lists the panel's agreed actions as raised: `[{"recommendation_id", "agency", "owner_id"}]`
(the text, owner, due date and progress live on the recommendation, which is tracked like any other).

Revision ID: c9f5a1b3e6d0
Revises: b8e4f0a2d5c9
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c9f5a1b3e6d0"
down_revision: str | None = "b8e4f0a2d5c9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("panel_meeting", sa.Column("actions", JSON, nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    op.drop_column("panel_meeting", "actions")
