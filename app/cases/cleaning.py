"""Reading messy extract cells: tolerant header matching, list prefixes, spreadsheet debris, dates.

Pure functions with no database: every reader (Annex A, SSDA903, canonical CSV) uses them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import NamedTuple

from app.numbers import digits

MISSING_MARKERS = frozenset({"", "#n/a", "n/a", "#na", "#value!", "#ref!", "#div/0!", "#name?", "null", "none", "-"})
_EXCEL_EPOCH = date(1899, 12, 30)
# "a) Male", "k) APKN", "q) 6: Police" -> the text after the list letter.
_LETTER_PREFIX = re.compile(r"^[a-z]{1,2}\)\s*", re.IGNORECASE)
# "E1: Placement order", "U6: Foster placement", "PR4 - Private provision", "N1 - Abuse or Neglect" -> the code.
_CODE_PREFIX = re.compile(r"^([A-Z]{1,3}\d{0,2})\s*(?::|\s-\s)\s*\S")
_MARKER_LENGTH = max(len(m) for m in MISSING_MARKERS)
_DMY_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?")
_WHOLE_NUMBER = re.compile(r"\d+(\.0+)?")
_YES_NO = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})


class CellProblem(ValueError):
    """A cell that cannot be read; the message is written for the person who made the file."""


class Cell(NamedTuple):
    """A cleaned cell value, or None with the reason it is missing (for a warning).

    A named tuple rather than a dataclass: one is made per cell of an extract, and this is cheaper.
    """

    value: str | None
    note: str | None = None


def normalise_header(text: object) -> str:
    """Headers compared without case, punctuation, curly quotes or repeated spaces."""
    if text is None:
        return ""
    value = unicodedata.normalize("NFKC", str(text)).translate(_QUOTES).lower()
    value = re.sub(r"[^a-z0-9]+", " ", value)
    return " ".join(value.split())


def match_headers(headers: list[object], aliases: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Map each field to the column whose header matches one of its aliases (normalised).

    An alias matches a header that equals it, or (for longer aliases) a header that
    starts with it, so "Age" and "Age of Child (Years)" both find the age column.
    """
    normalised = [normalise_header(h) for h in headers]
    found: dict[str, int] = {}
    for field, names in aliases.items():
        keys = [normalise_header(n) for n in names]
        for index, header in enumerate(normalised):
            if header and header in keys:
                found[field] = index
                break
        else:
            for index, header in enumerate(normalised):
                if header and any(len(k) >= 8 and header.startswith(k) for k in keys):
                    found[field] = index
                    break
    return found


def clean_text(raw: object, *, formulas: bool = True) -> Cell:
    """Trim spaces (non-breaking too); spreadsheet debris (#N/A, formulas) becomes missing with a note.

    `formulas=False` for text files (CSV), where a value starting with "=" is text someone typed, not a formula:
    it is kept as it is (exports neutralise it, so it never runs as a formula in a spreadsheet).
    """
    if raw is None:
        return Cell(None)
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, str) and _is_tidy(raw):
        # The hot path for big extracts: most cells need no cleaning at all.
        if len(raw) > _MARKER_LENGTH and (raw[0] != "=" or not formulas):
            return Cell(raw)
        text = raw
    else:
        text = " ".join(str(raw).replace("\u00a0", " ").split())
    if text.lower() in MISSING_MARKERS:
        return Cell(None, None if not text else f"'{text}' treated as blank")
    if formulas and text.startswith("="):
        return Cell(None, f"formula {text} treated as blank (save the workbook with values)")
    return Cell(text)


def _is_tidy(text: str) -> bool:
    """True when `text` has no outer, repeated, non-breaking or control white space (isprintable rules those out)."""
    return bool(text) and text.isprintable() and text[0] != " " and text[-1] != " " and "  " not in text


def strip_list_prefix(text: str | None) -> str | None:
    """`a) Male` -> `Male`; `q) 6: Police` -> `6: Police`."""
    if text is None:
        return None
    if text[1:2] != ")" and text[2:3] != ")":  # no list letter: skip the regular expression (the hot path)
        return text.strip() or None
    return _LETTER_PREFIX.sub("", text, count=1).strip() or None


def coded_value(text: str | None) -> str | None:
    """The code of a coded value: `E1: Placement order` -> `E1`; `f) U6: Foster placement` -> `U6`; `C2` -> `C2`."""
    value = strip_list_prefix(text)
    if value is None:
        return None
    match = _CODE_PREFIX.match(value)
    if match:
        return match.group(1)
    return value


def parse_date(raw: object) -> date | None:
    """Excel dates, Excel serial numbers, `dd/mm/yyyy` (or `dd-mm-yyyy`, `dd.mm.yyyy`) and ISO text.

    Raises CellProblem for anything else, naming the expected format.
    """
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if 1 <= raw < 2958466:
            return _EXCEL_EPOCH + timedelta(days=int(raw))
        raise CellProblem(f"{raw} is not a date")
    if isinstance(raw, str) and len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        try:  # the hot path: ISO dates in the canonical CSV
            return date.fromisoformat(raw)
        except ValueError:
            pass  # reported below with the message for the person who made the file
    cell = clean_text(raw)
    if cell.value is None:
        return None
    text = cell.value
    match = _DMY_DATE.fullmatch(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        iso = _ISO_DATE.fullmatch(text)
        if iso:
            year, month, day = (int(g) for g in iso.groups())
            return date(year, month, day)
    except ValueError as exc:
        raise CellProblem(f"'{text}' is not a real date") from exc
    raise CellProblem(f"'{text}' is not a date in the form dd/mm/yyyy")


def parse_yes_no(raw: object) -> bool | None:
    """`Yes`/`Y`/`a) Yes`/`1`/`true` -> True; `No`/`N`/`b) No`/`0`/`false` -> False; blank -> None."""
    cell = clean_text(raw)
    if cell.value is None:
        return None
    found = _YES_NO.get((strip_list_prefix(cell.value) or "").lower())
    if found is not None:
        return found
    raise CellProblem(f"'{cell.value}' is not Yes or No")


def parse_count(raw: object) -> int | None:
    """A whole number of episodes, placements and the like; blank -> None."""
    if isinstance(raw, bool):
        raise CellProblem(f"{raw} is not a number")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float):
        if not raw.is_integer():
            raise CellProblem(f"{raw} is not a whole number")
        value = int(raw)
    elif isinstance(raw, str) and raw.isascii() and digits(raw):
        value = int(raw)  # the hot path
    else:
        cell = clean_text(raw)
        if cell.value is None:
            return None
        if not _WHOLE_NUMBER.fullmatch(cell.value):
            raise CellProblem(f"'{cell.value}' is not a whole number")
        value = int(float(cell.value))
    if value < 0:
        raise CellProblem(f"{value} is negative")
    return value


def normalise_person_name(text: str | None) -> str | None:
    """Workers' names with non-breaking and repeated spaces folded."""
    if text is None:
        return None
    return " ".join(text.replace("\u00a0", " ").split()) or None
