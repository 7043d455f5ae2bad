"""The QA lead's Retention page: the schedule in force with its sources, what is due today (a dry run), the runs."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import LoginAttempt
from app.accounts.roles import Role
from tests.factories import login, make_user, page_text
from tests.retention.test_retention_cli import OLD, _bad_schedule


def test_the_retention_page_shows_the_schedule_and_what_is_due(client, db) -> None:
    make_user(db, username="lead", roles=(Role.QA_LEAD,))
    make_user(db, username="auditor", roles=(Role.AUDITOR,))
    db.add(LoginAttempt(username="someone", client_address="127.0.0.1", succeeded=False, created_at=OLD))
    db.flush()
    login(client, "auditor")
    assert client.get("/retention").status_code == 403
    login(client, "lead")
    page = page_text(client.get("/retention").text)
    assert "Sign-in attempts 1 year after created Deleted 1 0 NCSC guidance" in page
    assert "Closed cases in the register, with everything about them 6 years after case closed Anonymised" in page
    assert "The schedule has not been applied yet." in page
    assert db.execute(select(LoginAttempt).where(LoginAttempt.username == "someone")).all()  # a dry run only


def test_the_page_says_when_the_schedule_cannot_be_used(client, db, app, tmp_path) -> None:
    make_user(db, username="lead", roles=(Role.QA_LEAD,))
    login(client, "lead")
    shared = app.state.settings
    app.state.settings = shared.model_copy(update={"retention_schedule": _bad_schedule(tmp_path)})
    try:
        response = client.get("/retention")
    finally:
        app.state.settings = shared
    assert response.status_code == 200
    page = page_text(response.text)
    assert "The retention schedule cannot be used" in page
    assert "rules.sign_in_attempts.keep:" in page and "is not a period like" in page
