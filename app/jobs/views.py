"""The QA lead's Background jobs page: the queue at a glance and every failed attempt, with its error."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.jobs import selectors
from app.pagination import page_number
from app.web.auth import QALead
from app.web.templating import render_list

router = APIRouter(tags=["background jobs (HTML)"])


@router.get("/jobs")
def jobs_page(request: Request, session: SessionDep, _: QALead) -> Response:
    summaries = selectors.job_summaries()
    job = request.query_params.get("job", "")
    job = job if job in summaries else ""
    result = selectors.failures_page(session, job=job or None, page=page_number(request.query_params.get("page")))
    return render_list(
        request,
        "jobs/list.html",
        {"counts": selectors.queue_counts(session), "summaries": summaries, "job": job},
        result=result,
        params={"job": job} if job else {},
    )
