"""The redacted variant of a child's records: a pure function of the collected structure (`collect.records_collect`),
which reads no database and changes nothing it is given.

Every person the records refer to (`people`) becomes "Staff member A (auditor)", "Staff member B (moderator)", ...:
letters in the order the records first mention them, and the first thing the records show them doing. The same
person has the same label everywhere: in each reference to them (`{"person": ..., "name": ...}`) and wherever their
name, another name the records give them (the register's spelling, the case system's id for a worker) or their
username appears in text. Usernames are replaced in the audit trail's summaries (which quote them) and, elsewhere,
when they cannot be an ordinary word (they hold a dot, digit, underscore or hyphen: "j.smith", "asmith2"). Nothing
else changes: the child's own data, ids, dates and codes stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

REDACTED = "redacted"
REDACTION_NOTE = (
    "Staff names, usernames and the case system's identifiers for staff are replaced by labels such as "
    "“Staff member A (auditor)”. The same person has the same label throughout. The child's own information is "
    "unchanged."
)
# Values that are codes, identifiers, dates or hashes: never rewritten (a label must not land inside a date).
KEEP_KEYS = frozenset(
    {
        "format",
        "variant",
        "timezone",
        "status",
        "action",
        "entity_type",
        "case_type",
        "source",
        "source_lists",
        "method",
        "mode",
        "reason",
        "decision",
        "priority",
        "outcome",
        "grade",
        "overall",
        "overall_grade",
        "final_grade",
        "auditor_overall_grade",
        "compliance_answers",
        "compared",
        "sha256",
        "how",
    }
)
KEEP_SUFFIXES = ("_at", "_on", "_date", "_key", "_hash", "_id", "_ids")
ALWAYS_REWRITTEN = frozenset({"worker_id"})  # the case system's identifier of a member of staff
TRAIL = "access_log"
# A name or username as a whole word: not inside a longer word, address or dotted username ("lead" is not found in
# "qa.lead"), but found before a full stop, a hyphen or a file's extension ("j.smith-notes.csv").
ALIAS_BEFORE = r"(?<![\w.@])"
ALIAS_AFTER = r"(?![\w@])"


def letters(index: int) -> str:
    """A, B, ..., Z, AA, AB, ...: the label's letters for the person at `index` (from 0)."""
    text = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        text = chr(ord("A") + rest) + text
    return text


def staff_label(index: int, roles: list[str]) -> str:
    return f"Staff member {letters(index)}" + (f" ({roles[0]})" if roles else "")


def _identifier_like(username: str) -> bool:
    """A username that cannot be an ordinary word in someone's text ("j.smith", "asmith2"), unlike "lead"."""
    return bool(re.search(r"[^A-Za-z]", username))


@dataclass(frozen=True)
class _Replacer:
    """Replaces each alias (as a whole word, in any case) by its person's label."""

    pattern: re.Pattern[str] | None
    labels: dict[str, str]  # alias casefolded -> label

    @classmethod
    def of(cls, aliases: Iterable[tuple[str, str]]) -> _Replacer:
        labels: dict[str, str] = {}
        for alias, label in aliases:
            alias = alias.strip()
            if len(alias) >= 2:
                labels.setdefault(alias.casefold(), label)
        if not labels:
            return cls(None, {})
        found = sorted(labels, key=len, reverse=True)  # the longest first: "Asha Auditor" before "Asha"
        joined = "|".join(re.escape(alias) for alias in found)
        return cls(re.compile(f"{ALIAS_BEFORE}(?:{joined}){ALIAS_AFTER}", re.IGNORECASE), labels)

    def __call__(self, text: str) -> str:
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda m: self.labels.get(m.group(0).casefold(), m.group(0)), text)


def _kept(key: str | None) -> bool:
    if key is None or key in ALWAYS_REWRITTEN:
        return False
    return key in KEEP_KEYS or key.endswith(KEEP_SUFFIXES)


def records_redact(records: Mapping[str, Any]) -> dict[str, Any]:
    """The redacted variant of `records` (the full variant, as collected): the same structure, staff as labels."""
    people: list[dict[str, Any]] = list(records.get("people") or [])
    refs: dict[str, tuple[str, str]] = {}  # person key -> (new key, label)
    everywhere: list[tuple[str, str]] = []
    trail_only: list[tuple[str, str]] = []
    for index, person in enumerate(people):
        label = staff_label(index, list(person.get("roles") or []))
        refs[person["person"]] = (f"staff-{letters(index).lower()}", label)
        names = [person.get("name") or "", *(person.get("also_known_as") or [])]
        everywhere += [(name, label) for name in names]
        username = person.get("username") or ""
        (everywhere if _identifier_like(username) else trail_only).append((username, label))
    in_text = _Replacer.of(everywhere)
    in_trail = _Replacer.of([*everywhere, *trail_only])

    def reference(value: Mapping[str, Any], trail: bool) -> dict[str, Any]:
        key = value.get("person")
        if key in refs:
            new_key, label = refs[key]
            return {"person": new_key, "name": label}
        # Not a person of the records (the service itself, a scheduled job): its words, names replaced all the same.
        name = value.get("name")
        return {"person": None, "name": (in_trail if trail else in_text)(name) if isinstance(name, str) else name}

    def walk(value: Any, key: str | None, trail: bool) -> Any:
        if isinstance(value, Mapping):
            if "person" in value and "name" in value:
                return reference(value, trail)
            return {k: walk(v, k, trail or k == TRAIL) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(item, key, trail) for item in value]
        if isinstance(value, str) and not _kept(key):
            return (in_trail if trail else in_text)(value)
        return value

    redacted: dict[str, Any] = {k: walk(v, k, k == TRAIL) for k, v in records.items() if k not in ("about", "people")}
    about = dict(walk(records.get("about") or {}, "about", False))
    about["variant"] = REDACTED
    about["redaction"] = REDACTION_NOTE
    result = {"about": about, **redacted}
    result["people"] = [
        {"person": refs[p["person"]][0], "name": refs[p["person"]][1], "roles": list(p.get("roles") or [])}
        for p in people
    ]
    return {key: result[key] for key in [*records.keys(), *(k for k in result if k not in records)]}
