"""safeguarding alerts: the email outbox, the chase ladder, acknowledgement outcomes and withdrawal

`email_outbox` holds every email the service sends (a transactional outbox: added with the change it reports, sent
afterwards, once: `dedupe_key` is unique). `escalation_chase` records each step of an unacknowledged escalation's
chase ladder once (unique per escalation and step). `safeguarding_escalation` gains `outcome` (what was done, on
acknowledgement: rows acknowledged before this have none, shown as "Not recorded") and the auditor's withdrawal
(`withdrawn_at`, `withdrawn_by_id`, `withdrawn_reason`). `notification.escalation_id` lets an in-app notification be
about an escalation (one per person and escalation).

Revision ID: f2c8d4e6a9b3
Revises: a3d9e5f7b0c4
Create Date: 2026-12-06 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.db import UTCDateTime

revision: str = "f2c8d4e6a9b3"
down_revision: str | None = "a3d9e5f7b0c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "email_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_user_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=254), server_default="", nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["to_user_id"], ["app_user.id"], name="fk_email_outbox_to_user_id_app_user", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_email_outbox"),
        sa.UniqueConstraint("dedupe_key", name="uq_email_outbox_dedupe_key"),
    )
    op.create_index("ix_email_outbox_due", "email_outbox", ["sent_at", "next_attempt_at"])
    op.create_index("ix_email_outbox_to_user_id", "email_outbox", ["to_user_id"])

    op.create_table(
        "escalation_chase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("recipient_ids", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["safeguarding_escalation.id"],
            name="fk_escalation_chase_escalation_id_safeguarding_escalation",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_escalation_chase"),
        sa.UniqueConstraint("escalation_id", "step", name="uq_escalation_chase_step"),
    )

    # Plain ADD/DROP COLUMN (SQLite has both): a batch copy of these tables would break the keys that point at them.
    # Existing acknowledged escalations keep a null outcome ("Not recorded").
    op.add_column("safeguarding_escalation", sa.Column("outcome", sa.String(length=40), nullable=True))
    op.add_column("safeguarding_escalation", sa.Column("withdrawn_at", UTCDateTime(), nullable=True))
    _add_key_column("safeguarding_escalation", "withdrawn_by_id", "app_user")
    op.add_column("safeguarding_escalation", sa.Column("withdrawn_reason", sa.Text(), nullable=True))
    _add_key_column("notification", "escalation_id", "safeguarding_escalation")
    op.create_index("ix_notification_user_escalation", "notification", ["user_id", "escalation_id"], unique=True)


def downgrade() -> None:
    # A column's foreign key goes with it (PostgreSQL drops it; in SQLite it is part of the column's definition).
    op.drop_index("ix_notification_user_escalation", table_name="notification")
    op.drop_column("notification", "escalation_id")
    op.drop_column("safeguarding_escalation", "withdrawn_reason")
    op.drop_column("safeguarding_escalation", "withdrawn_by_id")
    op.drop_column("safeguarding_escalation", "withdrawn_at")
    op.drop_column("safeguarding_escalation", "outcome")
    op.drop_table("escalation_chase")
    op.drop_index("ix_email_outbox_to_user_id", table_name="email_outbox")
    op.drop_index("ix_email_outbox_due", table_name="email_outbox")
    op.drop_table("email_outbox")


def _add_key_column(table: str, column: str, referred: str) -> None:
    """ADD COLUMN (nullable) with a foreign key to `referred`.id, named as the models' naming convention names it.
    SQLite cannot add a constraint to a table, but takes REFERENCES in the column itself (which DROP COLUMN then
    drops with it); PostgreSQL adds the named constraint."""
    key = sa.ForeignKey(f"{referred}.id", name=f"fk_{table}_{column}_{referred}")
    inline = op.get_bind().dialect.name == "sqlite"
    op.add_column(table, sa.Column(column, sa.Integer(), key, nullable=True), inline_references=inline)
