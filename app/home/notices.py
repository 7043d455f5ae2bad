"""The notices a council publishes with the service, open to everyone (no sign-in): `/privacy`, the privacy notice,
and `/accessibility`, the accessibility statement in the GOV.UK model format. Each is the shipped default
(templates/notices/, complete templates with the parts a council fills in marked), unless the council's own text is
in NOTICES_DIR (`privacy.html`, `accessibility.html`: HTML for the page's body, trusted as configuration is)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from app.web.templating import render

router = APIRouter(tags=["notices (HTML)"])

NOTICES = {"privacy": "Privacy notice", "accessibility": "Accessibility statement"}


def council_text(directory: Path | None, name: str) -> Markup | None:
    """The council's own text for notice `name`, if NOTICES_DIR holds one."""
    if directory is None:
        return None
    path = directory / f"{name}.html"
    return Markup(path.read_text(encoding="utf-8")) if path.is_file() else None  # the council's own, trusted HTML


def _notice(request: Request, name: str) -> Response:
    settings = request.app.state.settings
    context = {"title": NOTICES[name], "own": council_text(settings.notices_dir, name)}
    return render(request, f"notices/{name}.html", context)


@router.get("/privacy")
def privacy(request: Request) -> Response:
    return _notice(request, "privacy")


@router.get("/accessibility")
def accessibility(request: Request) -> Response:
    return _notice(request, "accessibility")
