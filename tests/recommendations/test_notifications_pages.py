"""The notifications page: a person sees only their own, unread first, newest first, each linking to its
recommendation; they mark one or all read; someone else's is a 404 and stays unread. After the reminders have run on
several days, each recommendation is there once, as it stands now."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from app.notifications import service as notifications
from app.notifications.models import Notification
from app.recommendations import reminders
from tests.conftest import make_test_settings
from tests.factories import login, page_text, post_form
from tests.recommendations.conftest import NOW, TODAY, make_item


def notify(
    db: Session, user, item, *, kind: str = "overdue", day: date = TODAY, message: str | None = None, read: bool = False
) -> Notification:
    row = Notification(
        user_id=user.id,
        recommendation_id=item.id,
        kind=kind,
        day=day,
        message=message or f"Recommendation {item.id}: {kind} on {day.isoformat()}.",
        read_at=datetime(2026, 11, 26, 9, 0, tzinfo=UTC) if read else None,
    )
    db.add(row)
    db.flush()
    return row


def text_of(response) -> str:
    return html.unescape(page_text(response.text))


def reload(db: Session, row: Notification) -> Notification:
    db.expire_all()
    found = db.get(Notification, row.id)
    assert found is not None
    return found


@pytest.fixture
def rows(db: Session, world):
    item = make_item(db, world)
    other_item = make_item(db, world, due_date=date(2026, 12, 1))
    third_item = make_item(db, world, due_date=date(2026, 11, 27))
    return {
        "old_unread": notify(db, world.owner, item, day=TODAY - timedelta(days=2), message="Old unread one."),
        "new_unread": notify(db, world.owner, other_item, day=TODAY, message="New unread one."),
        "newest_read": notify(
            db, world.owner, third_item, day=TODAY, kind="due_tomorrow", message="Newest read one.", read=True
        ),
        "managers": notify(db, world.manager, item, kind="escalated", message="The manager's one."),
        "item": item,
    }


def test_a_person_sees_their_own_unread_first_newest_first(client, rows, world):
    login(client, "owner")
    response = client.get("/notifications")
    assert response.status_code == 200
    text = text_of(response)
    assert "The manager's one." not in text
    assert text.index("New unread one.") < text.index("Old unread one.") < text.index("Newest read one.")
    assert "2 unread." in text
    assert f'href="/recommendations/{rows["item"].id}"' in response.text


def test_unread_count_is_per_person(db, rows, world):
    assert notifications.unread_count(db, user_id=world.owner.id) == 2
    assert notifications.unread_count(db, user_id=world.manager.id) == 1
    assert notifications.unread_count(db, user_id=world.lead.id) == 0


def test_marking_one_read(client, db, rows, world):
    login(client, "owner")
    client.get("/notifications")
    response = post_form(client, f"/notifications/{rows['old_unread'].id}/read")
    assert response.status_code == 303 and response.headers["location"] == "/notifications"
    assert reload(db, rows["old_unread"]).read_at is not None
    assert reload(db, rows["new_unread"]).read_at is None
    assert "1 unread." in text_of(client.get("/notifications"))


def test_marking_one_read_keeps_when_it_was_first_read(client, db, rows):
    login(client, "owner")
    first = reload(db, rows["newest_read"]).read_at
    assert post_form(client, f"/notifications/{rows['newest_read'].id}/read").status_code == 303
    assert reload(db, rows["newest_read"]).read_at == first


def test_someone_elses_notification_is_not_found_and_stays_unread(client, db, rows):
    login(client, "owner")
    response = post_form(client, f"/notifications/{rows['managers'].id}/read")
    assert response.status_code == 404
    assert reload(db, rows["managers"]).read_at is None
    assert post_form(client, "/notifications/2147483647/read").status_code == 404


def test_marking_all_read_marks_only_ones_own(client, db, rows):
    login(client, "owner")
    response = post_form(client, "/notifications/read")
    assert response.status_code == 303
    assert reload(db, rows["old_unread"]).read_at is not None
    assert reload(db, rows["new_unread"]).read_at is not None
    assert reload(db, rows["managers"]).read_at is None
    text = text_of(client.get("/notifications"))
    assert "You have no unread notifications." in text and "Mark all as read" not in text


def test_marking_read_needs_the_csrf_token(client, db, rows):
    login(client, "owner")
    response = client.post(f"/notifications/{rows['old_unread'].id}/read", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert reload(db, rows["old_unread"]).read_at is None


def test_signing_in_is_needed(client, rows):
    response = client.get("/notifications", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=/notifications")


def test_no_notifications(client, world):
    login(client, "viewer")
    assert "You have no notifications." in text_of(client.get("/notifications"))


def test_the_list_is_paged(client, db, world):
    for n in range(30):
        notify(db, world.owner, make_item(db, world), day=TODAY - timedelta(days=n), message=f"Reminder number {n}.")
    login(client, "owner")
    first = text_of(client.get("/notifications"))
    assert "Showing 1 to 25 of 30 notifications" in first and "Reminder number 0." in first
    second = client.get("/notifications?page=2")
    text = text_of(second)
    assert "Showing 26 to 30 of 30 notifications" in text and "Reminder number 29." in text
    assert "Reminder number 0." not in text
    # Marking one read from page 2 comes back to page 2.
    last = db.execute(select(Notification).where(Notification.message == "Reminder number 29.")).scalar_one()
    response = post_form(client, f"/notifications/{last.id}/read?page=2")
    assert response.headers["location"] == "/notifications?page=2"


def test_after_several_days_of_reminders_each_item_is_listed_once_as_it_stands(client, db, database_url, world):
    settings = make_test_settings(database_url)
    overdue = make_item(db, world, due_date=TODAY - timedelta(days=3))
    due = make_item(db, world, due_date=TODAY + timedelta(days=1))
    closing = make_item(db, world, due_date=TODAY - timedelta(days=1))
    reminders.reminders_run(db, settings=settings, now=NOW)
    notifications.notifications_mark_all_read(db, user_id=world.owner.id, now=NOW)
    reminders.reminders_run(db, settings=settings, now=NOW + timedelta(days=1))
    closing.status, closing.closed_at = "closed", NOW + timedelta(days=1, hours=1)
    db.add(closing)
    db.flush()
    reminders.reminders_run(db, settings=settings, now=NOW + timedelta(days=2))
    reminders.reminders_run(db, settings=settings, now=NOW + timedelta(days=2, hours=1))

    login(client, "owner")
    text = text_of(client.get("/notifications"))
    assert "1 unread." in text and "Showing 1 to 2 of 2 notifications." in text
    assert text.count(f"Recommendation {overdue.id}:") == 1 and f"Recommendation {closing.id}:" not in text
    # Due tomorrow became overdue (unread again, dated the day it changed); the other is still read, as it was.
    assert text.index(f"Recommendation {due.id}: overdue since 27 November 2026") < text.index(
        f"Recommendation {overdue.id}: overdue since 23 November 2026"
    )
    assert "28 November 2026" in text and "26 November 2026" in text
