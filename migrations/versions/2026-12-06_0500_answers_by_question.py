"""answers remember the audit version that last changed them; a safeguarding concern's chosen recipient is kept

`audit_answer.changed_version` lets a save be refused only when one of its own questions was changed by someone
else since the version it was based on (saves that touch different questions both succeed). Existing answers take
their audit's current version, which is the cautious choice: a page opened before this migration that changes one
of them is asked to reload rather than trusted.

`audit.safeguarding_recipient_id` keeps the person the auditor chose to tell about a safeguarding concern that is
started but not yet complete (no description yet), so the choice survives a reload and is used once it is complete.

Revision ID: f3a1d7c9b2e4
Revises: c3d8e5a1f4b7
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3a1d7c9b2e4"
down_revision: str | None = "c3d8e5a1f4b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_answer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changed_version", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE audit_answer SET changed_version = "
        "(SELECT audit.version FROM audit WHERE audit.id = audit_answer.audit_id)"
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("safeguarding_recipient_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_safeguarding_recipient_id_app_user"), "app_user", ["safeguarding_recipient_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_audit_safeguarding_recipient_id_app_user"), type_="foreignkey")
        batch_op.drop_column("safeguarding_recipient_id")
    with op.batch_alter_table("audit_answer", schema=None) as batch_op:
        batch_op.drop_column("changed_version")
