"""HTML forms: read the posted fields, validate them with a pydantic model, and word errors for people."""

from __future__ import annotations

import types
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, BeforeValidator, ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from app.errors import Conflict, ValidationFailed
from app.numbers import digits, parse_int

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

Refusal = ValidationFailed | Conflict  # what a page shows as its own form again, rather than as an error page


def attempt(session: Session, action: Callable[[], T]) -> T | Refusal:
    """Run a service call so that, if it is refused, nothing it wrote survives: the one way a POST handler (or an API
    route that answers an error without raising) calls a service whose refusal it shows itself.

    Why: the request's session commits after the view returns (app.db.get_session), whatever the status of the page
    it returned, and a service may write before it refuses (a version claimed, a row added, then a rule broken).
    So `action` runs inside a savepoint (`session.begin_nested()`). It returns the action's result; or, when the
    action raised ValidationFailed or Conflict, rolls the savepoint back and returns the error, for the view to
    re-render with (400 and `errors`, 409 and the message, as its page does). Everything in the session is then
    expired, so the page re-reads rows as they are stored, never as the refused call left them in memory. Any other
    error propagates, and get_session rolls the whole request back. (A refusal a page shows as an error page is
    shown with app.web.errors.refusal_page while the session is open.)"""
    try:
        with session.begin_nested():
            return action()
    except (ValidationFailed, Conflict) as exc:
        session.expire_all()
        return exc


async def read_form(request: Request) -> FormData:
    """The posted form (parsed once; the CSRF check reads the same copy)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]


def _label(model: type[BaseModel], field: str) -> str:
    info = model.model_fields.get(field)
    return (info.title if info and info.title else field.replace("_", " ")).lower()


# --- Field types for what a browser posts: blank text for "none", a ticked box as "yes".


def _blank_id(value: object) -> object:
    """Blank (or all-space) text reads as None: an unchosen select, an empty optional box."""
    return None if isinstance(value, str) and not value.strip() else value


def _ticked(value: object) -> object:
    """A ticked checkbox posts "yes"; anything else posted is unticked (an unticked box is not posted at all)."""
    return value == "yes" if isinstance(value, str) else value


def _chosen_id(value: object) -> object:
    """An id picked from a list (ASCII digits, at most nine), or None for anything else, for the service to name."""
    return parse_int(value) if isinstance(value, str) else value


def clip(length: int) -> Callable[[object], object]:
    """A BeforeValidator function cutting text to `length` characters: a page re-shows, and a service weighs,
    no more than that (the service's own limit, a little lower, still names a long entry)."""

    def _clip(value: object) -> object:
        return value[:length] if isinstance(value, str) else value

    return _clip


FormId = Annotated[int | None, BeforeValidator(_blank_id)]  # an optional id from a select: blank is None
ChosenId = Annotated[int | None, BeforeValidator(_chosen_id)]  # an id from a list: not one is None, never an error
BlankNone = Annotated[str | None, BeforeValidator(_blank_id)]  # optional text: blank is None
Ticked = Annotated[bool, BeforeValidator(_ticked)]  # a checkbox


def friendly_message(model: type[BaseModel], error: dict[str, Any]) -> tuple[str, str]:
    """(field, message) for one pydantic error, in the GOV.UK voice."""
    field = str(error["loc"][0]) if error.get("loc") else "form"
    label = _label(model, field)
    kind = error["type"]
    ctx = error.get("ctx") or {}
    given = error.get("input")
    if kind in {"too_short", "too_long"} and isinstance(given, str):
        # A constrained `str | None` field reports its length as a generic "too_short"/"too_long".
        kind = f"string_{kind}"
    if (
        kind == "missing"
        or (kind == "string_too_short" and ctx.get("min_length") == 1)
        or (kind.endswith("_type") and given is None)  # a blank date input arrives as None
    ):
        message = f"Enter {label}"
    elif kind == "too_short" and ctx.get("min_length") == 1:
        message = f"Select at least one of the {label}"
    elif kind == "string_too_short":
        message = f"{label.capitalize()} must be {ctx['min_length']} characters or more"
    elif kind == "string_too_long":
        message = f"{label.capitalize()} must be {ctx['max_length']} characters or fewer"
    elif kind in {"enum", "literal_error", "int_parsing", "bool_parsing"}:
        message = f"Select {label} from the list"
    elif kind.startswith("date"):
        message = f"{label.capitalize()} must be a real date"
    elif kind == "value_error":
        message = str(ctx.get("error") or error["msg"]).removeprefix("Value error, ")
        if message.startswith("value is not a valid email address"):
            message = f"Enter an {label} in the correct format, like name@example.org"
    else:
        message = f"{label.capitalize()}: {error['msg']}"
    return field, message


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) is list:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_list(arg) for arg in get_args(annotation))
    return False


def form_data(form: FormData, model: type[BaseModel]) -> dict[str, Any]:
    """The posted fields `model` reads, as sent (kept as typed, to show the form again): every value of a list field,
    the text of the others. A required field not posted reads as blank, as a browser sends an empty box; an optional
    one not posted is left out, so it keeps its default and a partial model (UserUpdate) leaves it unchanged."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if _is_list(info.annotation):
            data[name] = [str(v) for v in form.getlist(name)]
        elif name in form or info.is_required():
            data[name] = str(form.get(name, ""))
    return data


def validate(model: type[M], data: dict[str, Any]) -> tuple[M | None, dict[str, str]]:
    """Validate form data; returns the model, or None and a message per field (first error wins)."""
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            field, message = friendly_message(model, error)
            errors.setdefault(field, message)
        return None, errors


def validate_all_named(model: type[M], data: dict[str, Any]) -> tuple[M, dict[str, str]]:
    """Validate form data so a page can name every problem at once: the model, and a message per refused field. The
    model is read again without the refused fields (each must have a default), so the page's own checks of the other
    fields still run and are named together with them."""
    found, errors = validate(model, data)
    if found is None:
        found = model.model_validate({k: v for k, v in data.items() if k not in errors})
    return found, errors


def date_from_parts(form: FormData, name: str) -> str | None:
    """Join a GOV.UK date input (`name-day`, `name-month`, `name-year`) into ISO text, or None if all blank.

    Anything that is not a real date comes back as given, joined with slashes so it can never be read
    as an ISO date (day 2026, month 01, year 01 is not 1 January 2026), and validation names the field.
    """
    parts = [str(form.get(f"{name}-{part}", "")).strip() for part in ("day", "month", "year")]
    if not any(parts):
        return None
    day, month, year = parts
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return "/".join(parts)


def date_part_values(form: FormData, name: str) -> dict[str, str]:
    """A GOV.UK date input's three boxes as posted (each cut to 10 characters), to show the form again."""
    return {f"{name}-{part}": str(form.get(f"{name}-{part}", ""))[:10] for part in ("day", "month", "year")}


def error_summary(
    errors: dict[str, str], order: list[str] | None = None, targets: dict[str, str] | None = None
) -> list[dict[str, str]]:
    """Items for govukErrorSummary in page order (`order`), each linking to its field (or `targets[field]`)."""
    order = order or []
    targets = targets or {}
    fields = [f for f in order if f in errors] + [f for f in errors if f not in order]
    return [{"text": errors[f], "href": f"#{targets.get(f, f)}"} for f in fields]


def field_error(errors: dict[str, str] | None, name: str) -> dict[str, str] | None:
    """The `errorMessage` parameter of a GOV.UK macro for this field, or None."""
    if errors and name in errors:
        return {"text": errors[name]}
    return None


def see_other(url: str) -> RedirectResponse:
    """Post/redirect/get: after a form is handled, the browser GETs `url` (303)."""
    return RedirectResponse(url, status_code=303)


def request_today(request: Request) -> date:
    """Today in the council's time zone, from the clock seam the app's settings hold (tests set it)."""
    today: date = request.app.state.settings.today()
    return today


STALE_VERSION = 0  # no row has it (versions start at 1): a form whose version cannot be read is refused as stale


def posted_version(form: Any, name: str = "version") -> int | None:
    """The version a form says it was read at (the hidden `version` field), or None when it is missing or not a
    whole number of at most nine digits."""
    text = str(form.get(name, "") or "").strip()
    return int(text) if digits(text) and len(text) <= 9 else None
