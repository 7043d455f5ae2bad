"""audit-trail event details that can be redacted without breaking the chain

Revision ID: c5a1e7f9b2d4
Revises: b4e0f6a8c1d3
Create Date: 2026-12-06 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "c5a1e7f9b2d4"
down_revision: str | None = "b4e0f6a8c1d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
