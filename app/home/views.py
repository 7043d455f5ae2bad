"""`/`: a home page that shows each user what their roles let them do."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts import selectors
from app.audits.replies import service as replies
from app.db import SessionDep
from app.escalations import selectors as escalation_selectors
from app.notifications.service import unread_count
from app.recommendations import selectors as recommendation_selectors
from app.web.auth import CurrentUser
from app.web.nav import RECOMMENDATION_ROLES
from app.web.templating import render

router = APIRouter(tags=["home (HTML)"])


@router.get("/")
def home(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    today = request.app.state.settings.today()
    records = selectors.training_for_user(session, user_id=user.id)
    return render(
        request,
        "home/index.html",
        {
            "user": user,
            "training": selectors.training_status(records, today=today),
            # Unacknowledged safeguarding escalations (all for the QA lead, theirs for a recipient) head the page.
            "open_escalations": escalation_selectors.escalation_rows(
                session, escalations=escalation_selectors.open_escalations_for(session, user=user)
            ),
            "findings": replies.completed_audits_for_worker(session, user=user),
            "unread": unread_count(session, user_id=user.id),
            "actions": (
                recommendation_selectors.action_counts(session, user=user, today=today)
                if user.has_role(*RECOMMENDATION_ROLES)
                else None
            ),
        },
    )
