"""One rule for numbers typed into addresses and forms: ASCII digits only.

`str.isdigit()` also accepts other scripts' digits and superscripts ("¹", "٣"), which `int()` then refuses or
reads differently: every id, page, year and count parsed from text goes through these instead.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# Row ids are 32-bit integers in PostgreSQL: a larger number from a URL or a body is bad input,
# never something to send to the database.
MAX_ROW_ID = 2**31 - 1

# An id inside a request body (alone, or in a list or a mapping): out of range is a 422 naming the field.
IdValue = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]


def digits(text: str | None) -> bool:
    """True for a non-empty run of the ASCII digits 0-9 and nothing else."""
    return text is not None and text != "" and text.isascii() and text.isdigit()


def parse_int(text: str | None, *, max_digits: int = 9) -> int | None:
    """The whole number written in `text` (ASCII digits, at most `max_digits` of them), or None."""
    if text is None:
        return None
    text = text.strip()
    return int(text) if digits(text) and len(text) <= max_digits else None
