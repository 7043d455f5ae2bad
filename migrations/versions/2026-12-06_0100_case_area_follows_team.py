"""a case's and a recommendation's service area follow their team

Teams moved to another service area before this release left their cases (and recommendations) in the old one.
Put each back in its team's area; from now on app.flows.teams moves them with the team.

Revision ID: 9a4c2e7f1b30
Revises: 3b8e1f0c2d47
Create Date: 2026-12-06 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9a4c2e7f1b30"
down_revision: str | None = "3b8e1f0c2d47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("child_case", "recommendation"):
        op.execute(
            f"UPDATE {table} SET service_area_id = "
            f"(SELECT team.service_area_id FROM team WHERE team.id = {table}.team_id) "
            f"WHERE team_id IS NOT NULL AND (service_area_id IS NULL OR service_area_id <> "
            f"(SELECT team.service_area_id FROM team WHERE team.id = {table}.team_id))"
        )


def downgrade() -> None:
    pass  # which area each case had before cannot be known, and the fix is right at every revision
