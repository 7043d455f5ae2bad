"""moderation rounds keep compliance answers (dip samples) and why the moderation rate was raised

A compliance-only template (the dip sample) has no grades, so its moderator answers its compliance questions instead:
`audit_moderation.moderator_answers` holds those answers and `auditor_answers` the auditor's to the same questions as
they stood when the moderator answered (as `auditor_section_grades` does for grades). Rounds before this revision
have neither (empty).

`audit_moderation.rate_raised_because` says why the rate a random selection was compared with (`selection_rate`)
is above the cycle's: an auditor with few moderated audits, or low agreement with moderators. Earlier rounds used the
cycle's rate (null).

Before this revision a moderator accepting a dip sample gave it an overall grade its template does not have, which
then counted in the grade figures. Those final grades are cleared here (the round keeps the grade the moderator
gave, as history); downgrading does not bring them back.

Revision ID: a7d3e9f1c4b8
Revises: e5c0b8d2a917
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a7d3e9f1c4b8"
down_revision: str | None = "e5c0b8d2a917"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

audit = sa.table("audit", sa.column("template_version_id", sa.Integer), sa.column("final_grade", sa.String))
version = sa.table("template_version", sa.column("id", sa.Integer), sa.column("definition", _JSON))


def upgrade() -> None:
    with op.batch_alter_table("audit_moderation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moderator_answers", _JSON, nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("auditor_answers", _JSON, nullable=False, server_default="{}"))
        batch_op.add_column(
            sa.Column("rate_raised_because", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
    _clear_invented_grades()


def _without_grades(definition: dict) -> bool:
    """A template version with no overall grade and no judgement section (the dip sample)."""
    return not definition.get("overall") and not any(s.get("judgement") for s in definition.get("sections") or ())


def _clear_invented_grades() -> None:
    bind = op.get_bind()
    ids = [i for i, d in bind.execute(sa.select(version.c.id, version.c.definition)).all() if _without_grades(d)]
    if ids:
        bind.execute(
            audit.update()
            .where(audit.c.template_version_id.in_(ids), audit.c.final_grade.is_not(None))
            .values(final_grade=None)
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_moderation", schema=None) as batch_op:
        batch_op.drop_column("rate_raised_because")
        batch_op.drop_column("auditor_answers")
        batch_op.drop_column("moderator_answers")
