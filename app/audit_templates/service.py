"""Publishing template files into the database as immutable versions, and reading them back.

`templates_publish` loads every file in `audit_templates/`, all or nothing: new versions are added
(one audit-trail event each); a version already published with the same content is left alone; a
published version whose file has changed is refused with a message naming the file and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, text
from sqlmodel import Session

from app.accounts.models import User
from app.audit_templates.loader import TemplateError, content_hash, load_templates
from app.audit_templates.models import TemplateVersion
from app.audit_templates.schema import TemplateDefinition
from app.audit_trail.service import audit_record
from app.errors import Conflict, ValidationFailed

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "audit_templates"
PUBLISH_LOCK = 4_200_417  # a PostgreSQL advisory lock number of our own


@dataclass
class PublishReport:
    added: list[str] = field(default_factory=list)  # "dip_sample v2"
    unchanged: list[str] = field(default_factory=list)


class PublishedTemplateChanged(Conflict):
    """A published version's file was edited in place: refused, nothing loaded."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


def templates_publish(
    session: Session, *, directory: Path | str = TEMPLATES_DIR, actor: User | None = None
) -> PublishReport:
    """Load every template file; add new versions; refuse edits to published ones. Nothing is written on error."""
    try:
        definitions = load_templates(directory)
    except TemplateError as exc:
        raise ValidationFailed({"templates": "\n".join(str(m) for m in exc.messages)}) from None
    if session.get_bind().dialect.name == "postgresql":
        # Replicas starting together each publish: one at a time (SQLite's BEGIN IMMEDIATE already serialises).
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PUBLISH_LOCK})
    published = {(row.key, row.version): row.content_hash for row in session.execute(select(TemplateVersion)).scalars()}
    report = PublishReport()
    changed: list[str] = []
    new: list[tuple[TemplateDefinition, str]] = []
    for definition in definitions:
        name = f"{definition.key} v{definition.version}"
        digest = content_hash(definition)
        stored = published.get((definition.key, definition.version))
        if stored is None:
            new.append((definition, digest))
        elif stored == digest:
            report.unchanged.append(name)
        else:
            file_name = source_file_name(definition)
            changed.append(
                f"{file_name}: '{definition.key}' version {definition.version} is already published and this file "
                f"has changed since. Published versions never change, so audits stay tied to what they were done on: "
                f"put the file back as it was and make your changes in {definition.key}.v{definition.version + 1}.yaml "
                f"with 'version: {definition.version + 1}'."
            )
    if changed:
        raise PublishedTemplateChanged(changed)
    for definition, digest in new:
        row = TemplateVersion(
            key=definition.key,
            version=definition.version,
            title=definition.title,
            kind=definition.kind.value,
            description=definition.description,
            content_hash=digest,
            definition=definition.model_dump(mode="json", by_alias=True),
            source_file=source_file_name(definition),
        )
        session.add(row)
        session.flush()
        audit_record(
            session,
            actor=actor,
            action="template.publish",
            summary=f"Published template {definition.title} ({definition.key} version {definition.version})",
            entity_type="template_version",
            entity_id=row.id,
            after={"key": definition.key, "version": definition.version, "content_hash": digest},
        )
        report.added.append(f"{definition.key} v{definition.version}")
    return report


def source_file_name(definition: TemplateDefinition) -> str:
    return f"{definition.key}.v{definition.version}.yaml"


# Parsed definitions by content hash: the same content is the same definition, so each is parsed once.
_parsed: dict[str, TemplateDefinition] = {}


def template_definition(version: TemplateVersion) -> TemplateDefinition:
    """The definition of a published version."""
    found = _parsed.get(version.content_hash)
    if found is None:
        found = _parsed[version.content_hash] = TemplateDefinition.model_validate(version.definition)
    return found
