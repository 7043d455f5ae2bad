"""The records request form: a child ID and which version to produce (the page names what is wrong with either)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator

from app.web.forms import clip

FULL, REDACTED = "full", "redacted"
Variant = Literal["full", "redacted"]
VARIANTS: dict[str, str] = {
    FULL: "Full: everything, with the names of the staff involved",
    REDACTED: "Redacted: staff names replaced by labels such as “Staff member A (auditor)”",
}


class RecordsRequestForm(BaseModel):
    """What the page posts, as typed (cut to a length the page re-shows); the view checks both fields."""

    child_id: Annotated[str, BeforeValidator(clip(100))] = ""
    variant: Annotated[str, BeforeValidator(clip(20))] = ""
