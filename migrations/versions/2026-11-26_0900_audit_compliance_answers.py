"""audit compliance answers: one short code per completed audit for the reports, and the reports' indexes

Revision ID: 3b8e1f0c2d47
Revises: f6adcd047a29
Create Date: 2026-11-26 15:40:00.000000

Completed audits get `compliance_answers` (app.audit_templates.scoring.compliance_code): one character per
compliance question of the audit's template version. Audits completed before this revision are filled in here
from their answers, a batch at a time.
"""

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.audit_templates.schema import TemplateDefinition
from app.audit_templates.scoring import compliance_code
from app.db import JSONType

revision: str = "3b8e1f0c2d47"
down_revision: str | None = "f6adcd047a29"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2_000

audit = sa.table(
    "audit",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("template_version_id", sa.Integer),
    sa.column("compliance_answers", sa.Text),
)
answer = sa.table(
    "audit_answer",
    sa.column("audit_id", sa.Integer),
    sa.column("question_key", sa.String),
    sa.column("value", JSONType),
)
version = sa.table("template_version", sa.column("id", sa.Integer), sa.column("definition", JSONType))


def upgrade() -> None:
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("compliance_answers", sa.Text(), nullable=True))
        batch_op.create_index("ix_audit_status_completed_at", ["status", "completed_at"], unique=False)
        batch_op.create_index(
            "ix_audit_case_id_status_completed_at", ["case_id", "status", "completed_at"], unique=False
        )
    _fill_completed()


def _fill_completed() -> None:
    bind = op.get_bind()
    definitions = {
        i: TemplateDefinition.model_validate(d)
        for i, d in bind.execute(sa.select(version.c.id, version.c.definition)).all()
    }
    last = 0
    while True:
        rows = bind.execute(
            sa.select(audit.c.id, audit.c.template_version_id)
            .where(audit.c.status == "completed", audit.c.id > last)
            .order_by(audit.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        answers: dict[int, dict] = defaultdict(dict)
        for audit_id, key, value in bind.execute(
            sa.select(answer.c.audit_id, answer.c.question_key, answer.c.value).where(
                answer.c.audit_id.in_([r[0] for r in rows])
            )
        ):
            answers[audit_id][key] = value
        for audit_id, version_id in rows:
            bind.execute(
                audit.update()
                .where(audit.c.id == audit_id)
                .values(compliance_answers=compliance_code(definitions[version_id], answers[audit_id]))
            )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_case_id_status_completed_at")
        batch_op.drop_index("ix_audit_status_completed_at")
        batch_op.drop_column("compliance_answers")
