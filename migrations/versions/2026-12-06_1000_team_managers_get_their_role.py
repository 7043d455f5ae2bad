"""the managers of teams get the team manager role

Before this revision a team's manager held the practitioner role ("practitioner or team manager"); the team manager
role now decides who reads the completed audits of their team's cases. Every active account set as a team's manager
(`team.manager_id`) is given the role, keeping the roles it had. Downgrading removes the role, which did not exist
before.

Revision ID: d0a6b2c4f7e1
Revises: c9f5a1b3e6d0
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d0a6b2c4f7e1"
down_revision: str | None = "c9f5a1b3e6d0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "INSERT INTO user_role (user_id, role) "
            "SELECT DISTINCT team.manager_id, 'team_manager' FROM team "
            "JOIN app_user ON app_user.id = team.manager_id "
            "WHERE app_user.active AND NOT EXISTS ("
            "  SELECT 1 FROM user_role r WHERE r.user_id = team.manager_id AND r.role = 'team_manager')"
        )
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM user_role WHERE role = 'team_manager'"))
