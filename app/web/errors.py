"""Turning errors into responses: JSON `{"detail": ...}` under /api, GOV.UK pages elsewhere."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from app.errors import DomainError, ValidationFailed
from app.web.auth import NotAuthenticated, is_api_request
from app.web.templating import render

log = logging.getLogger("caseaudit.errors")

TITLES = {
    400: "There is a problem with your request",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That action is not allowed here",
    409: "Someone else changed this first",
    422: "There is a problem with what you entered",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
}


def error_page(request: Request, status_code: int, message: str | None = None) -> Response:
    return render(
        request,
        "errors/error.html",
        {"status_code": status_code, "title": TITLES.get(status_code, "Something went wrong"), "message": message},
        status_code=status_code,
    )


def refusal_page(request: Request, exc: DomainError) -> Response:
    """A refused form shown as an error page by the view itself. After app.web.forms.attempt the session's rows are
    expired, so the page (whose navigation reads the signed-in user) must be rendered while the request's session
    is still open: raising the refusal instead would render it after the session closed."""
    return error_page(request, exc.status_code, exc.message)


def _validation_detail(errors: dict[str, str]) -> list[dict[str, object]]:
    return [{"loc": ["body", field], "msg": message, "type": "value_error"} for field, message in errors.items()]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def _not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if is_api_request(request):
            return JSONResponse(
                {"detail": "Not authenticated"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        target = "/login?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=200, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> Response:
        if is_api_request(request):
            if isinstance(exc, ValidationFailed):
                return JSONResponse({"detail": _validation_detail(exc.errors)}, status_code=exc.status_code)
            return JSONResponse({"detail": exc.message}, status_code=exc.status_code)
        return refusal_page(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api_request(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return error_page(request, exc.status_code, None if exc.status_code == 404 else str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if is_api_request(request):
            detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
            return JSONResponse({"detail": detail}, status_code=422)
        fields = ", ".join(str(e["loc"][-1]) for e in exc.errors() if e.get("loc"))
        return error_page(request, 400, f"These values were not valid: {fields}.")

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, exc: ClientDisconnect) -> Response:
        # Nobody is listening (or app.web.body_limit stopped an oversized upload and answers 413 itself).
        return Response(status_code=400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # The type and route only: exception messages can quote data from the request.
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        if is_api_request(request):
            return JSONResponse({"detail": "Internal server error"}, status_code=500)
        try:
            return error_page(request, 500)
        except Exception:  # the page itself failed: fall back to plain text
            return Response("Sorry, there is a problem with the service.", status_code=500, media_type="text/plain")
