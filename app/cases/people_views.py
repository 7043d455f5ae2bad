"""The Workers page (QA lead): map each worker the register names to a user account, by identity.

A practitioner reads and replies to the audits of their cases only once their worker in the register is mapped to
their account here; the list shows first the workers who need a decision (no account, or two accounts with the
same name in the team).
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.cases import people
from app.cases.schemas import WorkerMapForm, WorkerUnmapForm
from app.db import SessionDep
from app.errors import Conflict, ValidationFailed
from app.pagination import Page, page_number
from app.web.auth import QALead
from app.web.errors import refusal_page
from app.web.forms import FormDep, attempt, form_data
from app.web.templating import render

router = APIRouter(tags=["workers (HTML)"])

STATES = {
    "attention": "Need a decision",
    "unmapped": "No account",
    "ambiguous": "More than one account",
    "mapped": "Mapped",
    "all": "All",
}
PAGE_SIZE = 50


def _page(rows: list[people.RegisterWorker], page: int) -> Page[people.RegisterWorker]:
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    page = min(max(1, page), pages)
    return Page(items=rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], total=len(rows), page=page, page_size=PAGE_SIZE)


def _context(session: SessionDep, state: str, page: int, errors: dict[str, str] | None = None) -> dict[str, object]:
    workers = people.register_workers(session)
    counts = {name: sum(w.state == name for w in workers) for name in ("mapped", "unmapped", "ambiguous")}
    shown = [
        w
        for w in workers
        if state == "all" or w.state == state or (state == "attention" and w.state in ("unmapped", "ambiguous"))
    ]
    return {
        "result": _page(shown, page),
        "counts": counts,
        "state": state,
        "states": STATES,
        "practitioners": people.practitioners(session),
        "errors": errors or {},
        "query": lambda **changes: urlencode({"state": state, **changes}),
    }


@router.get("/workers")
def workers_page(
    request: Request, session: SessionDep, _: QALead, state: str = "attention", page: str | None = None
) -> Response:
    state = state if state in STATES else "attention"
    context = _context(session, state, page_number(page))
    context["flash"] = {key: request.query_params.get(key) for key in ("mapped", "removed")}
    return render(request, "cases/workers.html", context)


@router.post("/workers/map")
def worker_map(request: Request, session: SessionDep, actor: QALead, form: FormDep) -> Response:
    data = WorkerMapForm.model_validate(form_data(form, WorkerMapForm))
    key, state, user_id = data.key, data.state, data.user_id
    outcome = (
        attempt(session, lambda: people.worker_link_set(session, key=key, user_id=user_id, actor=actor))
        if user_id is not None
        else ValidationFailed({"user_id": "Choose the worker's account from the list of active practitioners"})
    )
    if isinstance(outcome, Conflict):
        return refusal_page(request, outcome)
    if isinstance(outcome, ValidationFailed):
        context = _context(session, state if state in STATES else "attention", 1, errors=outcome.errors)
        context["failed_key"] = key
        shown = [w.key for w in context["result"].items]  # type: ignore[attr-defined]
        context["failed_index"] = shown.index(key) + 1 if key in shown else None
        return render(request, "cases/workers.html", context, status_code=400)
    return RedirectResponse(f"/workers?{urlencode({'state': state, 'mapped': 1})}", status_code=303)


@router.post("/workers/unmap")
def worker_unmap(request: Request, session: SessionDep, actor: QALead, form: FormDep) -> Response:
    data = WorkerUnmapForm.model_validate(form_data(form, WorkerUnmapForm))
    people.worker_link_remove(session, key=data.key, actor=actor)
    return RedirectResponse(f"/workers?{urlencode({'state': data.state, 'removed': 1})}", status_code=303)
