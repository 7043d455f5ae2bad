"""The application factory."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from app.accounts.passwords import passwords_configure
from app.audit_trail.service import audit_trail_configure, commit_and_link
from app.config import PROJECT_DIR, Settings, get_settings
from app.db import make_engine
from app.jobs.local import local_queue_start, local_queue_stop
from app.log_config import configure_logging
from app.web.body_limit import BodySizeLimit
from app.web.csrf import CSRF_COOKIE, new_nonce, valid_nonce, verify_csrf
from app.web.errors import install_error_handlers
from app.web.input_guard import reject_unstorable_text
from app.web.openapi_responses import document_responses
from app.web.templating import make_templates

STATIC_DIR = PROJECT_DIR / "app" / "static"
access_log = logging.getLogger("caseaudit.access")


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    @app.middleware("http")
    async def _browser_state(request: Request, call_next):
        started = time.perf_counter()
        nonce = request.cookies.get(CSRF_COOKIE)
        fresh = not valid_nonce(nonce)
        request.state.csrf_nonce = new_nonce() if fresh else nonce
        request.state.csp_nonce = secrets.token_urlsafe(16)
        response: Response = await call_next(request)
        if fresh and not request.url.path.startswith("/api/"):
            response.set_cookie(
                CSRF_COOKIE,
                request.state.csrf_nonce,
                httponly=True,
                samesite="lax",
                secure=settings.secure_cookies,
                path="/",
            )
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/static/"):
            # Pages, exports and the API carry children's and staff's data: never kept by a browser or a proxy
            # (a shared computer's back button, a disk cache). Only the static assets may be cached.
            headers["Cache-Control"] = "no-store"
        if not request.url.path.startswith("/docs"):
            # A form whose redirect goes on to another site (sign-out, on to the single sign-on provider) names it.
            form_action = " ".join(["'self'", *getattr(request.state, "form_action_origins", ())])
            headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                f"script-src 'self' 'nonce-{request.state.csp_nonce}'; "
                f"frame-ancestors 'none'; form-action {form_action}; base-uri 'self'",
            )
        # Method, path and status only: query strings can carry search terms about children.
        access_log.info(
            "%s %s %s %.0fms",
            request.method,
            request.url.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response


def _install_routes(app: FastAPI) -> None:
    from app.accounts import api as accounts_api
    from app.accounts import views as accounts_views
    from app.accounts.sso import views as sso_views
    from app.audit_templates import api as templates_api
    from app.audit_templates import views as templates_views
    from app.audit_trail import views as audit_trail_views
    from app.audits import api as audits_api
    from app.audits import views as audits_views
    from app.audits.partners import api as audit_partners_api
    from app.audits.partners import views as audit_partners_views
    from app.audits.replies import views as audit_reply_views
    from app.audits.workflow import views as audit_workflow_views
    from app.cases import api as cases_api
    from app.cases import people_views as case_people_views
    from app.cases import views as cases_views
    from app.cases.corrections import api as case_corrections_api
    from app.cases.corrections import views as case_correction_views
    from app.cases.imports import api as case_import_api
    from app.cases.imports import views as case_import_views
    from app.escalations import api as escalations_api
    from app.escalations import views as escalations_views
    from app.health import api as health_api
    from app.home import notices as notice_views
    from app.home import views as home_views
    from app.jobs import views as jobs_views
    from app.moderation import api as moderation_api
    from app.moderation import views as moderation_views
    from app.moderation.agreement import api as agreement_api
    from app.moderation.agreement import views as agreement_views
    from app.notifications import views as notification_views
    from app.recommendations import api as recommendations_api
    from app.recommendations import views as recommendations_views
    from app.recommendations.dashboard import views as recommendation_dashboard_views
    from app.recommendations.themes import views as theme_views
    from app.records import views as record_views
    from app.records.subject_access import api as records_request_api
    from app.records.subject_access import views as records_request_views
    from app.reports import agency_views as reports_agency_views
    from app.reports import api as reports_api
    from app.reports import drill_views as reports_drill_views
    from app.reports import export_views as reports_export_views
    from app.reports import pack_views as reports_pack_views
    from app.reports import views as reports_views
    from app.reports.packs import views as board_pack_views
    from app.retention import holds_views as legal_hold_views
    from app.retention import views as retention_views
    from app.sampling import api as sampling_api
    from app.sampling import views as sampling_views

    csrf = [Depends(verify_csrf)]
    for module in (
        home_views,
        notice_views,
        accounts_views,
        audit_trail_views,
        jobs_views,
        retention_views,
        cases_views,
        case_import_views,
        case_people_views,
        case_correction_views,
        templates_views,
        audit_partners_views,
        audits_views,
        audit_workflow_views,
        audit_reply_views,
        record_views,
        records_request_views,
        sampling_views,
        moderation_views,
        agreement_views,
        escalations_views,
        recommendation_dashboard_views,
        theme_views,
        notification_views,
        recommendations_views,
        reports_views,
        reports_agency_views,
        reports_drill_views,
        reports_export_views,
        reports_pack_views,
        board_pack_views,
        legal_hold_views,
    ):
        app.include_router(module.router, dependencies=csrf)
    for module in (
        accounts_api,
        cases_api,
        case_import_api,
        case_corrections_api,
        templates_api,
        audit_partners_api,
        audits_api,
        sampling_api,
        moderation_api,
        agreement_api,
        escalations_api,
        recommendations_api,
        reports_api,
        records_request_api,
    ):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(legal_hold_views.api_router, prefix="/api/v1")  # the pages' JSON twins, in one module
    app.include_router(health_api.router)
    # Single sign-on: the sign-in start and the callback are GETs (navigations to and from the provider); the
    # back-channel logout is a POST from the provider itself, server to server, which can carry no CSRF token and
    # is authenticated by its signed logout token instead. So this router is included without verify_csrf.
    app.include_router(sso_views.router)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Case file audit API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/assets/images/favicon.ico",
        )


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """On SQLite the app process runs the job queue itself, in a thread (app/jobs/local.py); on PostgreSQL
    `caseaudit worker` processes do."""
    settings: Settings = app.state.settings
    local = settings.jobs_in_process and app.state.engine.dialect.name == "sqlite"
    if local:
        local_queue_start(settings, app.state.engine)
    try:
        yield
    finally:
        if local:
            local_queue_stop(app.state.engine)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for these settings (the environment's by default)."""
    settings = settings or get_settings()
    configure_logging()  # in every process: with --workers N each worker builds its own app
    app = FastAPI(
        lifespan=_lifespan,
        title="Case file audit",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        description="JSON API for case file audit. Authenticate with POST /api/v1/tokens, then send "
        "`Authorization: Bearer <token>`.",
        dependencies=[Depends(reject_unstorable_text)],  # before any route reads its input (app.web.input_guard)
    )
    app.state.settings = settings
    passwords_configure(settings)
    audit_trail_configure(settings)
    app.state.engine = make_engine(settings.database_url)
    app.state.commit_session = commit_and_link  # how get_session commits (app.db): the trail links its events
    app.state.templates = make_templates(settings)
    app.mount("/assets", StaticFiles(directory=STATIC_DIR / "vendor" / "govuk-frontend" / "assets"), name="assets")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_handlers(app)
    _install_middleware(app, settings)
    # Outermost: an oversized body is refused before any other layer reads it.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_mb * 1024 * 1024)
    _install_routes(app)
    document_responses(app)  # the error responses each API operation really gives, in /openapi.json
    return app
