"""Question keys across a template's versions: a later version's `replaces` maps a key of the version before to its
own (a renamed question whose answers mean the same), so a figure counts every version's answers under the newest
key. Pure functions over definitions; `all_versions` reads the definitions they need."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import Session, col

from app.audit_templates.models import TemplateVersion
from app.audit_templates.schema import TemplateDefinition
from app.audit_templates.service import template_definition


def newest_keys(definitions: Iterable[TemplateDefinition]) -> dict[tuple[str, int], dict[str, str]]:
    """For each (template key, version): each of its question keys, renamed through every later version's
    `replaces` to the key the newest version gives it (a key no later version renames stays as it is). Versions
    missing from `definitions` break the chain, so pass all of a template's versions (`all_versions`)."""
    by_template: dict[str, list[TemplateDefinition]] = defaultdict(list)
    for definition in definitions:
        by_template[definition.key].append(definition)
    found: dict[tuple[str, int], dict[str, str]] = {}
    for key, versions in by_template.items():
        versions.sort(key=lambda d: d.version)
        for i, definition in enumerate(versions):
            names = {q.key: q.key for q in definition.questions}
            for later in versions[i + 1 :]:
                renamed = later.replaces or {}
                names = {own: renamed.get(now, now) for own, now in names.items()}
            found[(key, definition.version)] = names
    return found


def key_aliases(definitions: Iterable[TemplateDefinition], template_key: str, question_key: str) -> list[str]:
    """Every key, in any version of the template, whose answers count under `question_key` (itself included)."""
    found = {question_key}
    for (key, _), names in newest_keys(definitions).items():
        if key == template_key:
            found.update(own for own, newest in names.items() if newest == question_key)
    return sorted(found)


def all_versions(session: Session, template_keys: Iterable[str]) -> list[TemplateDefinition]:
    """Every published version of these templates."""
    wanted = sorted(set(template_keys))
    if not wanted:
        return []
    rows = session.execute(select(TemplateVersion).where(col(TemplateVersion.key).in_(wanted))).scalars()
    return [template_definition(v) for v in rows]
