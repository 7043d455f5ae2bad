"""Reads for published template versions."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from app.audit_templates.models import TemplateVersion


def template_versions(session: Session) -> list[TemplateVersion]:
    """Every published version, by key then newest version first."""
    return list(
        session.execute(select(TemplateVersion).order_by(TemplateVersion.key, TemplateVersion.version.desc())).scalars()
    )


def template_version_get(session: Session, *, key: str, version: int) -> TemplateVersion | None:
    return session.execute(
        select(TemplateVersion).where(TemplateVersion.key == key, TemplateVersion.version == version)
    ).scalar_one_or_none()


def template_latest(session: Session, *, key: str) -> TemplateVersion | None:
    return session.execute(
        select(TemplateVersion).where(TemplateVersion.key == key).order_by(TemplateVersion.version.desc()).limit(1)
    ).scalar_one_or_none()


def template_latest_versions(session: Session) -> list[TemplateVersion]:
    """The newest version of each template, by title: what a new audit is started on."""
    newest: dict[str, TemplateVersion] = {}
    for row in template_versions(session):
        newest.setdefault(row.key, row)
    return sorted(newest.values(), key=lambda row: row.title.lower())
