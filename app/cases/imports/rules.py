"""Pure rules of an import's preview: which kinds of case an extract covers, and what changed since a preview.

No database here: the service (`app.cases.service`) gathers the facts and these decide.

- Coverage. A full import closes only open cases of the kinds the extract covers. An SSDA903 return covers
  children looked after (its only kind); an Annex A workbook covers the kinds of the lists (2-10) it has, even an
  empty one; a canonical CSV covers the case types that appear in its rows.
- Previews. A preview is confirmed only if the register would change exactly as it showed: the same counts, the
  same cases created, updated and closed, the same rows rejected. `preview_changes` names what is different.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.cases.facts import INTENSITY, OWN_KINDS, CaseType

MAX_LISTED_CLOSING = 200  # cases to close listed on an import record (by child ID); the rest are counted

# The order kinds are listed in: the most intensive first, care leavers and adoption last.
KIND_ORDER = INTENSITY + OWN_KINDS

# What each figure of a preview is called on the page.
FIGURE_LABELS = {
    "created": "Cases to create",
    "updated": "Cases to update",
    "unchanged": "Cases unchanged",
    "closed": "Open cases to close",
    "rejected": "Rows rejected",
}
# For a figure whose count is the same but whose cases are not: what differs.
SAME_COUNT_CHANGES = {
    "created": "Different cases would be created (still {n})",
    "updated": "Different cases would be updated (still {n})",
    "closed": "Different cases would be closed (still {n})",
    "rejected": "Different rows have problems (still {n} rejected)",
}


def extract_covers(format: str, kinds_read: Iterable[CaseType]) -> list[str]:
    """The kinds of case an extract covers, in KIND_ORDER, from the kinds its reader read (the rows' case types,
    and for Annex A every list it found). An SSDA903 return covers children looked after whatever it holds."""
    kinds = {CaseType.CLA} if format == "ssda903" else set(kinds_read)
    return [kind.value for kind in KIND_ORDER if kind in kinds]


def covers_text(covers: Iterable[str]) -> str:
    """The kinds' labels as a phrase, e.g. "Child in need, Child protection and Child looked after"."""
    labels = [CaseType(value).label for value in covers]
    if not labels:
        return "no kind of case"
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"


def digest(items: Iterable[Any]) -> str:
    """A short fingerprint of a list of values (child IDs, case IDs, problems), order as given."""
    text = json.dumps(list(items), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class PreviewFigures:
    """What a preview showed, or what confirming it would do now: the counts, the new teams and, for the figures
    that name cases or rows, a fingerprint of which ones."""

    created: int
    updated: int
    unchanged: int
    closed: int
    rejected: int
    new_teams: tuple[str, ...] = ()
    digests: Mapping[str, str] = field(default_factory=dict)


def preview_changes(shown: PreviewFigures, now: PreviewFigures) -> list[str]:
    """What is different between the preview that was shown and the plan now; empty: it may be written."""
    changes = []
    if not shown.digests:  # a preview from before fingerprints were kept: show it again rather than trust it
        changes.append("Which cases this preview would change was not recorded with it")
    for name, label in FIGURE_LABELS.items():
        before, after = getattr(shown, name), getattr(now, name)
        if before != after:
            changes.append(f"{label}: {before} in the preview, {after} now")
        elif name in SAME_COUNT_CHANGES and shown.digests and shown.digests.get(name) != now.digests.get(name):
            changes.append(SAME_COUNT_CHANGES[name].format(n=after))
    if shown.new_teams != now.new_teams:
        changes.append(
            f"New teams: {', '.join(shown.new_teams) or 'none'} in the preview, {', '.join(now.new_teams) or 'none'} now"
        )
    return changes


def preview_expired(status: str, expires_at: datetime | None, now: datetime) -> bool:
    """A preview waiting for confirmation is expired from its expiry time on (one without a time never expires)."""
    return status == "previewed" and expires_at is not None and now >= expires_at
