"""Field types for what people and programs send: no silent guessing.

Pydantic's lax mode reads 0 as False and 0 as 1 January 1970. In a request that is a mistake, and an expensive
one (`dry_run: 0` would save a sample instead of previewing it), so yes/no fields take only true or false and
dates only a date or its ISO text (YYYY-MM-DD); anything else is a 422 naming the field.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, Strict

from app.numbers import IdValue

StrictFlag = Annotated[bool, Strict()]


def _date_or_text(value: Any) -> Any:
    if isinstance(value, date | str) or value is None:
        return value
    raise ValueError("Enter a date as text, YYYY-MM-DD")


DateValue = Annotated[date, BeforeValidator(_date_or_text)]

__all__ = ["DateValue", "IdValue", "StrictFlag"]
