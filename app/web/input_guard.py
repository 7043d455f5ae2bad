"""One rule for all text the service is sent: characters that cannot be stored are refused, naming the field.

NUL cannot be stored in PostgreSQL text at all; the other C0 control characters (all but tab, line feed and
carriage return) break the XLSX exports for everyone once stored; lone surrogates (from JSON "\\ud800") cannot be
encoded. Rather than strip them silently (changing what someone typed without telling them), every request's
query parameters, path parameters, form fields and JSON strings are checked before any route runs, and a request
carrying one is refused with 422 naming each field: nothing is read or written with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from fastapi import Request

from app.errors import ValidationFailed

UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
MESSAGE = (
    "This contains characters that cannot be stored (a null, control or broken character, often pasted in by "
    "mistake). Remove them and try again."
)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def unstorable(text: str) -> bool:
    """True when the text has a character the service will not store."""
    return UNSTORABLE.search(text) is not None


def _json_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            yield name, str(key)
            yield from _json_strings(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{path}[{index}]")


async def _texts(request: Request) -> Iterator[tuple[str, str]]:
    found: list[tuple[str, str]] = [*request.query_params.multi_items()]
    found += [(name, str(value)) for name, value in request.path_params.items()]
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(_FORM_TYPES):
        form = await request.form()  # parsed once: the view and the CSRF check read the same copy
        for name, value in form.multi_items():
            found.append((name, value if isinstance(value, str) else (value.filename or "")))
    elif "json" in content_type:
        try:
            data = json.loads(await request.body())
        except ValueError:
            data = None  # not JSON: the route's own validation says so
        found += _json_strings(data, "")
    return iter(found)


async def reject_unstorable_text(request: Request) -> None:
    """An app-wide dependency: 422 naming every field that carries a character the service will not store."""
    errors: dict[str, str] = {}
    for name, text in await _texts(request):
        if unstorable(text) or unstorable(name):
            errors[UNSTORABLE.sub("?", name) or "field"] = MESSAGE
    if errors:
        raise ValidationFailed(errors)
