"""Your account: details, training status and changing your own password."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.accounts.models import TrainingRecord, User
from app.accounts.passwords import password_verify
from app.accounts.roles import Role, TrainingKind
from app.accounts.selectors import training_status
from app.audit_trail.models import AuditEvent
from tests.factories import PASSWORD, add_training, login, make_team, make_user, page_text, post_form

NEW_PASSWORD = "a-much-better-passphrase"


@pytest.fixture
def asha(client, db) -> User:
    team = make_team(db, name="Safeguarding Team 2")
    user = make_user(db, username="asha", full_name="Asha Patel", roles=(Role.AUDITOR, Role.MODERATOR), team=team)
    assert login(client, "asha").status_code == 303
    return user


def change_password(client: TestClient, current: str, new: str, confirm: str | None = None):
    return post_form(
        client,
        "/account/password",
        {
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


def error_summary(html: str) -> list[str]:
    block = re.search(r'<div class="govuk-error-summary".*?</ul>', html, flags=re.S)
    assert block, "no error summary on the page"
    return [page_text(item) for item in re.findall(r"<li>(.*?)</li>", block.group(0), flags=re.S)]


def stored_hash(db, user: User) -> str:
    db.expire_all()
    return db.get(User, user.id).password_hash


def password_events(db, user: User) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == "user.password_change", AuditEvent.entity_id == str(user.id))
    return list(db.execute(stmt).scalars())


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account"


def test_account_page_shows_your_details_and_training(client, db, asha):
    today = client.app.state.settings.today()
    add_training(db, asha, TrainingKind.AUDITOR, today - timedelta(days=30), date(today.year + 2, 6, 30))
    add_training(db, asha, TrainingKind.MODERATOR, date(2020, 1, 1), date(2021, 1, 1))
    response = client.get("/account")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "Name Asha Patel" in text
    assert "Username asha" in text
    assert "Roles Auditor, Moderator" in text
    assert "Team Safeguarding Team 2" in text
    assert f"Auditor training Current until 30 June {today.year + 2}" in text
    assert "Moderator training Expired on 1 January 2021" in text


def test_account_page_without_training_says_none_recorded(client, db, asha):
    text = page_text(client.get("/account").text)
    assert "Auditor training None recorded" in text
    assert "Moderator training None recorded" in text


def test_wrong_current_password_is_refused(client, db, asha):
    before = stored_hash(db, asha)
    response = change_password(client, "not-my-password", NEW_PASSWORD)
    assert response.status_code == 400
    assert error_summary(response.text) == ["Your current password is not correct"]
    assert page_text(response.text).startswith("Error: Your account")
    assert stored_hash(db, asha) == before
    assert password_events(db, asha) == []


def test_new_passwords_that_do_not_match_are_refused(client, db, asha):
    before = stored_hash(db, asha)
    response = change_password(client, PASSWORD, NEW_PASSWORD, confirm=NEW_PASSWORD + "x")
    assert response.status_code == 400
    assert error_summary(response.text) == ["The two new passwords do not match"]
    assert stored_hash(db, asha) == before


def test_too_short_new_password_is_refused(client, db, asha):
    before = stored_hash(db, asha)
    response = change_password(client, PASSWORD, "short")
    assert response.status_code == 400
    assert error_summary(response.text) == ["Your new password must be 10 characters or more"]
    assert stored_hash(db, asha) == before


def test_too_long_new_password_is_refused_with_a_message_not_an_error_page(client, db, asha):
    response = change_password(client, PASSWORD, "x" * 201)
    assert response.status_code == 400
    assert error_summary(response.text) == ["Your new password must be 200 characters or fewer"]


def test_every_problem_is_listed_at_once(client, db, asha):
    response = change_password(client, "", "", confirm="")
    assert response.status_code == 400
    assert error_summary(response.text) == [
        "Your current password is not correct",
        "Your new password must be 10 characters or more",
    ]


def test_passwords_are_never_shown_back(client, db, asha):
    response = change_password(client, "typo-current-password", NEW_PASSWORD)
    assert "typo-current-password" not in response.text
    assert NEW_PASSWORD not in response.text


def test_changing_password_works_and_the_old_one_stops_working(client, db, asha):
    response = change_password(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 200
    assert "Your password has been changed." in page_text(response.text)
    assert password_verify(NEW_PASSWORD, stored_hash(db, asha))[0]
    # Still signed in in this browser.
    assert client.get("/account", follow_redirects=False).status_code == 200

    (event,) = password_events(db, asha)
    assert (event.actor_id, event.actor_label) == (asha.id, "asha")
    assert event.after == {"password": "changed", "other_sessions": "ended"}
    assert NEW_PASSWORD not in str(event.after) and PASSWORD not in str(event.before)

    assert post_form(client, "/logout").status_code == 303
    old = login(client, "asha", PASSWORD)
    assert old.status_code == 400
    assert "Enter a correct username and password" in page_text(old.text)
    assert login(client, "asha", NEW_PASSWORD).status_code == 303
    assert "Welcome, Asha Patel" in page_text(client.get("/").text)


def test_password_change_needs_the_csrf_token(client, db, asha):
    before = stored_hash(db, asha)
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert response.status_code == 403
    assert stored_hash(db, asha) == before


# --- training_status: the "current / expired / none" summary ---------------------------------

TODAY = date(2026, 3, 27)


def record(kind: TrainingKind, completed: date, expires: date | None = None) -> TrainingRecord:
    return TrainingRecord(user_id=1, kind=kind.value, completed_on=completed, expires_on=expires)


def test_no_records_means_nothing_current_for_either_kind():
    status = training_status([], today=TODAY)
    assert set(status) == {"auditor", "moderator"}
    for kind in status.values():
        assert (kind.current, kind.completed_on, kind.expires_on) == (False, None, None)


def test_current_record_with_expiry():
    status = training_status([record(TrainingKind.AUDITOR, date(2025, 1, 1), date(2027, 1, 1))], today=TODAY)
    assert status["auditor"].current is True
    assert status["auditor"].expires_on == date(2027, 1, 1)
    assert status["moderator"].current is False


def test_record_without_expiry_stays_current():
    status = training_status([record(TrainingKind.MODERATOR, date(2010, 5, 5))], today=TODAY)
    assert status["moderator"].current is True
    assert (status["moderator"].completed_on, status["moderator"].expires_on) == (date(2010, 5, 5), None)


def test_expired_record_is_not_current_but_is_reported():
    status = training_status([record(TrainingKind.AUDITOR, date(2023, 1, 1), date(2025, 1, 1))], today=TODAY)
    assert status["auditor"].current is False
    assert (status["auditor"].completed_on, status["auditor"].expires_on) == (date(2023, 1, 1), date(2025, 1, 1))


@pytest.mark.parametrize(
    ("completed", "expires", "current"),
    [
        (TODAY, None, True),  # completed today counts
        (TODAY - timedelta(days=1), TODAY, True),  # expires today: still current today
        (TODAY - timedelta(days=10), TODAY - timedelta(days=1), False),  # expired yesterday
        (TODAY + timedelta(days=1), None, False),  # not started yet
        (TODAY + timedelta(days=1), TODAY + timedelta(days=400), False),
    ],
)
def test_boundaries_of_current(completed, expires, current):
    status = training_status([record(TrainingKind.AUDITOR, completed, expires)], today=TODAY)
    assert status["auditor"].current is current


def test_a_current_record_wins_over_a_later_expired_or_future_one():
    records = [
        record(TrainingKind.AUDITOR, date(2024, 6, 1), date(2025, 6, 1)),  # expired
        record(TrainingKind.AUDITOR, date(2025, 1, 1), date(2026, 12, 31)),  # current
        record(TrainingKind.AUDITOR, date(2026, 9, 1), date(2028, 9, 1)),  # booked, not yet done
    ]
    status = training_status(records, today=TODAY)
    assert status["auditor"].current is True
    assert (status["auditor"].completed_on, status["auditor"].expires_on) == (date(2025, 1, 1), date(2026, 12, 31))


def test_among_current_records_the_longest_lasting_is_shown():
    records = [
        record(TrainingKind.MODERATOR, date(2025, 1, 1), date(2027, 1, 1)),
        record(TrainingKind.MODERATOR, date(2024, 1, 1), None),
        record(TrainingKind.MODERATOR, date(2025, 6, 1), date(2026, 6, 1)),
    ]
    status = training_status(records, today=TODAY)
    assert (status["moderator"].completed_on, status["moderator"].expires_on) == (date(2024, 1, 1), None)


def test_among_expired_records_the_latest_expiry_is_shown():
    records = [
        record(TrainingKind.AUDITOR, date(2020, 1, 1), date(2022, 1, 1)),
        record(TrainingKind.AUDITOR, date(2022, 2, 1), date(2024, 2, 1)),
    ]
    status = training_status(records, today=TODAY)
    assert status["auditor"].current is False
    assert status["auditor"].expires_on == date(2024, 2, 1)


def test_kinds_are_kept_apart():
    records = [record(TrainingKind.MODERATOR, date(2025, 1, 1), date(2027, 1, 1))]
    status = training_status(records, today=TODAY)
    assert status["moderator"].current is True
    assert status["auditor"].current is False and status["auditor"].completed_on is None


def test_only_future_training_is_not_shown_as_expired_on_the_account_page(client, db, asha):
    today = client.app.state.settings.today()
    add_training(db, asha, TrainingKind.AUDITOR, today + timedelta(days=30), today + timedelta(days=760))
    text = page_text(client.get("/account").text)
    assert "Auditor training Expired" not in text
    assert "Auditor training Not started from" in text


def test_training_state_names_each_case():
    future = TrainingRecord(user_id=1, kind="auditor", completed_on=TODAY + timedelta(days=5))
    lapsed = TrainingRecord(
        user_id=1, kind="moderator", completed_on=TODAY - timedelta(days=900), expires_on=TODAY - timedelta(days=1)
    )
    status = training_status([future, lapsed], today=TODAY)
    assert status["auditor"].state == "not_started"
    assert status["moderator"].state == "expired"
    assert training_status([], today=TODAY)["auditor"].state == "none"
