"""The QA lead's Retention page: the schedule in force (with the source of each period), what is due today (a dry
run: nothing changes), and the runs so far. Applying the schedule is the nightly job's or `caseaudit retention run`'s
work, never a web request's."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import col

from app.db import SessionDep
from app.retention.holds import held_case_ids
from app.retention.models import RetentionRun
from app.retention.run import DONE_WORDS, retention_run
from app.retention.schedule import KINDS, ScheduleError, schedule_load
from app.web.auth import QALead
from app.web.templating import render

router = APIRouter(tags=["retention (HTML)"])
RECENT_RUNS = 10


@router.get("/retention")
def retention_page(request: Request, session: SessionDep, _: QALead) -> Response:
    settings = request.app.state.settings
    held = len(held_case_ids(session))
    runs = list(
        session.execute(select(RetentionRun).order_by(col(RetentionRun.id).desc()).limit(RECENT_RUNS)).scalars()
    )
    context = {"kinds": KINDS, "done_words": DONE_WORDS, "held": held, "runs": runs, "settings": settings}
    try:
        schedule = schedule_load(settings.retention_schedule)
    except ScheduleError as exc:
        return render(request, "retention/page.html", {**context, "problem": exc, "schedule": None, "due": None})
    due = retention_run(session, schedule, today=settings.today(), tz=settings.tz, dry_run=True)
    return render(
        request,
        "retention/page.html",
        {**context, "problem": None, "schedule": schedule, "due": {o.kind: o for o in due.rules}},
    )
