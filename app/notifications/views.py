"""In-app notifications as pages: a person's own list (unread first, newest first), marking one or all read.
Someone else's notification does not exist for you (404)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.db import RowId, SessionDep
from app.errors import NotFound
from app.notifications import service as notifications
from app.pagination import page_number
from app.web.auth import CurrentUser
from app.web.query import query_builder
from app.web.templating import render

router = APIRouter(tags=["notifications (HTML)"])

PAGE_SIZE = 25
NOT_FOUND = "There is no notification with that number, or it is not yours."


def _back_to_list(page: str | None) -> RedirectResponse:
    number = page_number(page)
    return RedirectResponse("/notifications" + (f"?page={number}" if number > 1 else ""), status_code=303)


@router.get("/notifications")
def notifications_list(request: Request, session: SessionDep, user: CurrentUser, page: str | None = None) -> Response:
    assert user.id is not None
    result = notifications.notifications_page(session, user_id=user.id, page=page_number(page), page_size=PAGE_SIZE)
    return render(
        request,
        "notifications/list.html",
        {
            "result": result,
            "query": query_builder({"page": result.page}),
            "unread": notifications.unread_count(session, user_id=user.id),
        },
    )


@router.post("/notifications/read")
def notifications_read_all(session: SessionDep, user: CurrentUser, page: str | None = None) -> Response:
    assert user.id is not None
    notifications.notifications_mark_all_read(session, user_id=user.id)
    return _back_to_list(page)


@router.post("/notifications/{notification_id}/read")
def notification_read(
    session: SessionDep, user: CurrentUser, notification_id: RowId, page: str | None = None
) -> Response:
    assert user.id is not None
    notification = notifications.notification_get_own(session, user_id=user.id, notification_id=notification_id)
    if notification is None:
        raise NotFound(NOT_FOUND)
    notifications.notification_mark_read(session, notification=notification)
    return _back_to_list(page)
