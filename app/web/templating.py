"""Jinja environment with GOV.UK Frontend macros, and the one function views use to render a page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2_fragments.fastapi import Jinja2Blocks

from app.accounts.roles import ROLE_LABELS, Role
from app.config import Settings
from app.pagination import Page
from app.web.csrf import CSRF_FIELD, CSRF_HEADER, request_csrf_token
from app.web.documents import documents_environment
from app.web.nav import nav_for
from app.web.query import query_builder

GOVUK_FRONTEND_VERSION = "6.3.0"


def make_templates(settings: Settings) -> Jinja2Blocks:
    """The pages' templates: the documents' environment (app.web.documents) and what pages add."""
    env = documents_environment(settings)

    def role_label(value: str) -> str:
        try:
            return ROLE_LABELS[Role(value)]
        except ValueError:
            return value

    env.filters.update(role_label=role_label)
    env.globals.update(
        csrf_field=CSRF_FIELD,
        csrf_header=CSRF_HEADER,
        govuk_frontend_version=GOVUK_FRONTEND_VERSION,
    )
    return Jinja2Blocks(env=env)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
) -> HTMLResponse:
    """Render a page; an htmx request that names a block gets just that block."""
    user = getattr(request.state, "user", None)
    ctx: dict[str, Any] = {
        "current_user": user,
        "csrf_token": request_csrf_token(request),
        "nav_items": nav_for(user, request.url.path),
        "current_path": request.url.path,
    }
    ctx.update(context or {})
    block_name = block if block and request.headers.get("HX-Request") == "true" else None
    response = request.app.state.templates.TemplateResponse(
        request, template, ctx, status_code=status_code, block_name=block_name
    )
    response.headers["Vary"] = "HX-Request"
    return response


RESULTS_BLOCK = "results"


def wants_results(request: Request) -> bool:
    """An htmx request for a list page's results (its filter form targets #results): not one that restores a page
    from history, which needs the whole page, nor one aimed at another element."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-History-Restore-Request") != "true"
        and headers.get("HX-Target") in (None, RESULTS_BLOCK)
    )


def render_list(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    result: Page[Any],
    params: Mapping[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    """A list page that htmx filters (layouts/list_page.html): the whole page, or just its `results` block for
    htmx. Adds what the results need (layouts/_results.html): `result`, the page of rows, and `query`, building
    the links of the list's pages from `params` (its filter's `query()`)."""
    block = RESULTS_BLOCK if wants_results(request) else None
    context = {**context, "result": result, "query": query_builder({**params, "page": result.page})}
    return render(request, template, context, status_code=status_code, block=block)
