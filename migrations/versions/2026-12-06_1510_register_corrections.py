"""corrections of register facts, with the reason and the history

Revision ID: d6b2f8a0c3e5
Revises: c5a1e7f9b2d4
Create Date: 2026-12-06 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "d6b2f8a0c3e5"
down_revision: str | None = "c5a1e7f9b2d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
