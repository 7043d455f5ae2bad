"""The moderation agreement page: how far moderators agree with auditors' grades, and who may need training (the QA
lead); a moderator sees the same page with only their own figures (`app.moderation.agreement.permissions`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep, valid_row_id
from app.errors import NotFound
from app.moderation.agreement.kappa import ANSWER_METHOD, FLAG_LABELS, METHOD
from app.moderation.agreement.lookups import AgreementReader
from app.moderation.agreement.permissions import agreement_moderator
from app.moderation.agreement.service import agreement_cycles, agreement_report
from app.numbers import digits
from app.web.templating import render

router = APIRouter(tags=["moderation agreement (HTML)"])


@router.get("/moderation/agreement")
def agreement_page(
    request: Request, session: SessionDep, user: AgreementReader, cycle_id: str | None = None
) -> Response:
    cycles = agreement_cycles(session)
    cycle = None
    if cycle_id:  # an empty choice means every cycle
        number = int(cycle_id) if digits(cycle_id) and len(cycle_id) <= 10 else None
        cycle = next((c for c in cycles if c.id == number), None) if valid_row_id(number) else None
        if cycle is None:
            raise NotFound("There is no audit cycle with that number.")
    settings = request.app.state.settings
    report = agreement_report(
        session,
        cycle_id=cycle.id if cycle else None,
        min_pairs=settings.agreement_min_pairs,
        low_kappa=settings.agreement_low_kappa,
        moderator_id=agreement_moderator(user),
    )
    return render(
        request,
        "moderation/agreement.html",
        {
            "report": report,
            "cycles": cycles,
            "cycle": cycle,
            "method": METHOD,
            "answer_method": ANSWER_METHOD,
            "flag_labels": FLAG_LABELS,
        },
    )
