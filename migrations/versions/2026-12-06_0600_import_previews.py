"""import previews: the kinds an extract covers, the cases it closes, fingerprints of the plan, expiry

`case_import.covers` and `closing` let a full import close only cases of the kinds its extract covers and say
which; `plan_digests` and `changes` let a confirmation write only what its preview showed (and say what changed
when the register moved on); `expires_at` ends a preview nobody confirmed. Previews waiting for confirmation at
upgrade expire 24 hours (the default IMPORT_PREVIEW_EXPIRY_HOURS) after they were uploaded. A preview made before
this revision has no fingerprints, so confirming it shows the preview again, with today's figures, to confirm.

Status values "discarded" and "expired" fit the existing column.

Revision ID: e5c0b8d2a917
Revises: f3a1d7c9b2e4
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db

revision: str = "e5c0b8d2a917"
down_revision: str | None = "f3a1d7c9b2e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_PREVIEW_EXPIRY = timedelta(hours=24)


def upgrade() -> None:
    with op.batch_alter_table("case_import", schema=None) as batch_op:
        batch_op.add_column(sa.Column("covers", _JSON, nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("closing", _JSON, nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("plan_digests", _JSON, nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("changes", _JSON, nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=True))
    imports = sa.table(
        "case_import",
        sa.column("id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("created_at", app.db.UTCDateTime(timezone=True)),
        sa.column("expires_at", app.db.UTCDateTime(timezone=True)),
    )
    connection = op.get_bind()
    waiting = connection.execute(sa.select(imports.c.id, imports.c.created_at).where(imports.c.status == "previewed"))
    for import_id, created_at in list(waiting):
        connection.execute(
            imports.update().where(imports.c.id == import_id).values(expires_at=created_at + _PREVIEW_EXPIRY)
        )


def downgrade() -> None:
    with op.batch_alter_table("case_import", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("changes")
        batch_op.drop_column("plan_digests")
        batch_op.drop_column("closing")
        batch_op.drop_column("covers")
