"""The Jinja environment of the app's documents, without a request: the template folder and GOV.UK Frontend's macros,
local times and dates, and the service's name. Pages build on it (app.web.templating adds what a page needs from its
request); the job queue renders documents with it alone (an issued board pack's PDF)."""

from __future__ import annotations

from datetime import datetime

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape

from app.config import PROJECT_DIR, Settings
from app.dates import long_date
from app.web.forms import error_summary, field_error

TEMPLATES_DIR = PROJECT_DIR / "templates"


def documents_environment(settings: Settings) -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(TEMPLATES_DIR),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    tz = settings.tz

    def localtime(value: datetime | None, fmt: str = "%-d %b %Y, %H:%M") -> str:
        if value is None:
            return ""
        return value.astimezone(tz).strftime(fmt)

    env.filters.update(localtime=localtime, long_date=long_date)
    env.globals.update(error_list=error_summary, field_error=field_error, service_name=settings.service_name)
    return env
