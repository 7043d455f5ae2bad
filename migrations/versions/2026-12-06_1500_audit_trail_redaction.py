"""audit-trail event details that can be redacted without breaking the chain

An event's details (summary, before, after) may name a child, so a retention rule must be able to remove them. The
chain now covers a hash of the details (`details_hash`, given at linking) rather than the details themselves, so
they can be replaced by "Details removed under retention rule <rule>" and the chain still verifies. Events linked
before this revision keep their old hash (over the details) and cannot be redacted.

The append-only triggers now allow exactly two changes:
- linking, as before: filling in the chain columns (and the details hash) of an event that has none;
- redaction, once per event: a linked event with a details hash, not itself a redaction, gets `redacted_at`,
  `redaction_rule` and `redacted_by_id` (an `audit_trail.redact` event recorded later, at the same moment), its
  summary becomes the fixed text naming the rule and its before/after become NULL; nothing else changes.
DELETE (and TRUNCATE on PostgreSQL) stay refused.

Revision ID: c5a1e7f9b2d4
Revises: b4e0f6a8c1d3
Create Date: 2026-12-06 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.db import UTCDateTime

revision: str = "c5a1e7f9b2d4"
down_revision: str | None = "b4e0f6a8c1d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "audit_event is append-only"
# The text a redacted event's summary becomes: app.audit_trail.service.REDACTED_SUMMARY says the same.
REDACTED_PREFIX = "Details removed under retention rule "
DETAILS = ("summary", "before", "after")
IDENTITY = ("occurred_at", "actor_id", "actor_label", "action", "entity_type", "entity_id")
CHAIN = ("seq", "prev_hash", "hash", "seal", "details_hash")
REDACTION = ("redacted_at", "redaction_rule", "redacted_by_id")
COLUMNS = (
    ("details_hash", sqlmodel.sql.sqltypes.AutoString(length=64)),
    ("redacted_at", UTCDateTime()),
    ("redaction_rule", sqlmodel.sql.sqltypes.AutoString(length=80)),
    ("redacted_by_id", sa.Integer()),
)


def _allowed(dialect: str) -> str:
    """SQL true when an UPDATE of one audit_event row (OLD -> NEW) is linking or a redaction, and false otherwise
    (never NULL: SQLite's trigger fires on a WHEN that is true, so NULL must not slip through)."""
    same = "IS NOT DISTINCT FROM" if dialect == "postgresql" else "IS"
    rule_of = "r.\"after\" ->> 'rule'" if dialect == "postgresql" else "json_extract(r.\"after\", '$.rule')"

    def unchanged(columns: Sequence[str]) -> str:
        return " AND ".join(f'NEW."{c}" {same} OLD."{c}"' for c in columns)

    linking = (
        f"OLD.hash IS NULL AND NEW.hash IS NOT NULL AND NEW.id = OLD.id AND {unchanged(IDENTITY + DETAILS)} "
        f"AND (OLD.details_hash IS NULL OR NEW.details_hash {same} OLD.details_hash) AND {unchanged(REDACTION)}"
    )
    redaction = (
        "OLD.hash IS NOT NULL AND OLD.details_hash IS NOT NULL AND OLD.redacted_at IS NULL "
        "AND OLD.action <> 'audit_trail.redact' "
        "AND NEW.redacted_at IS NOT NULL AND NEW.redaction_rule IS NOT NULL AND NEW.redacted_by_id IS NOT NULL "
        f"AND NEW.summary = '{REDACTED_PREFIX}' || NEW.redaction_rule "
        'AND NEW."before" IS NULL AND NEW."after" IS NULL '
        f"AND NEW.id = OLD.id AND {unchanged(IDENTITY + CHAIN)} "
        "AND EXISTS (SELECT 1 FROM audit_event r WHERE r.id = NEW.redacted_by_id AND r.id > OLD.id "
        f"AND r.action = 'audit_trail.redact' AND r.occurred_at = NEW.redacted_at AND {rule_of} = NEW.redaction_rule)"
    )
    false = "false" if dialect == "postgresql" else "0"
    return f"COALESCE(({linking}) OR ({redaction}), {false})"


def _linking_only_0400(dialect: str) -> str:
    """The rule before this revision (2026-12-06_0400): linking only."""
    same = "IS NOT DISTINCT FROM" if dialect == "postgresql" else "IS"
    content = " AND ".join(f"NEW.{c} {same} OLD.{c}" for c in IDENTITY + DETAILS)
    return f"(OLD.hash IS NULL AND NEW.hash IS NOT NULL AND NEW.id = OLD.id AND {content})"


def _set_rule(condition: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'UPDATE' AND {condition} THEN RETURN NEW; END IF; "
            f"RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
        return
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
    op.execute(
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        f"WHEN NOT {condition} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    )


def upgrade() -> None:
    # Plain ALTER TABLE (no batch copy on SQLite): the table keeps its triggers, and DELETE stays refused throughout.
    for name, kind in COLUMNS:
        op.add_column("audit_event", sa.Column(name, kind, nullable=True))
    _set_rule(_allowed(op.get_bind().dialect.name))


def downgrade() -> None:
    # The older trail hashes every event over its details: events linked since this revision (with a details hash)
    # would no longer verify once the column is gone, and a redacted event's details cannot be brought back.
    bind = op.get_bind()
    hashed = bind.execute(sa.text("SELECT count(*) FROM audit_event WHERE details_hash IS NOT NULL")).scalar_one()
    if hashed:
        raise RuntimeError(
            f"{hashed} audit events are hashed over their details' hash (some may be redacted): the trail before "
            "this revision cannot verify them, so it cannot be downgraded past it"
        )
    _set_rule(_linking_only_0400(bind.dialect.name))
    # SQLite drops a column only once no trigger names it (the old rule above names none of these).
    for name, _ in reversed(COLUMNS):
        op.drop_column("audit_event", name)
