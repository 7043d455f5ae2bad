"""The QA lead's pages for users, teams and training records, driven through the real forms."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.accounts.auth import SESSION, token_issue
from app.accounts.models import ServiceArea, Team, TrainingRecord, User
from app.accounts.passwords import password_verify
from app.accounts.roles import Role, TrainingKind
from app.audit_trail.models import AuditEvent
from app.web.auth import SESSION_COOKIE
from tests.factories import PASSWORD, add_training, login, make_team, make_user, page_text, post_form

NEW_PASSWORD = "a-brand-new-password"


# --- Helpers ---------------------------------------------------------------------------------


def sign_in_quickly(client: TestClient, db, user: User) -> None:
    """Give the browser a session cookie without the sign-in form's deliberately slow password check.

    Signing in through the form is tested in test_login.py and below (sign-in events, deactivation).
    """
    raw, _ = token_issue(db, user=user, kind=SESSION, lifetime=timedelta(hours=1))
    client.cookies.set(SESSION_COOKIE, raw)


@pytest.fixture
def lead(client, db) -> User:
    """A signed-in QA lead."""
    user = make_user(db, username="lead", roles=(Role.QA_LEAD,), full_name="Quinn Lead")
    sign_in_quickly(client, db, user)
    assert client.get("/users", follow_redirects=False).status_code == 200
    return user


def events(db, action: str, *, include_system: bool = False) -> list[AuditEvent]:
    """Events of one kind; by default not those the test factories record as "system"."""
    stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if not include_system:
        stmt = stmt.where(AuditEvent.actor_label != "system")
    return list(db.execute(stmt).scalars())


def one_event(db, action: str) -> AuditEvent:
    found = events(db, action)
    assert len(found) == 1, f"expected one {action} event, found {len(found)}"
    return found[0]


def user_named(db, username: str) -> User | None:
    db.expire_all()
    return db.execute(select(User).where(User.username == username)).unique().scalar_one_or_none()


def another_browser(client: TestClient) -> TestClient:
    """A second browser (its own cookies) on the same app and test database."""
    return TestClient(client.app, base_url="http://testserver")


def error_summary(html: str) -> list[str]:
    """The messages in the GOV.UK error summary, in order."""
    block = re.search(r'<div class="govuk-error-summary".*?</ul>', html, flags=re.S)
    assert block, "no error summary on the page"
    return [page_text(item) for item in re.findall(r"<li>(.*?)</li>", block.group(0), flags=re.S)]


def results_text(html: str) -> str:
    """The text of the list of results only (not the "Signed in as" header or the filters)."""
    start = html.index('id="results"')
    return page_text(html[start : html.index("<footer", start)])


def hidden_version(html: str) -> str:
    match = re.search(r'name="version" value="([^"]*)"', html)
    assert match, "no version field on the page"
    return match.group(1)


def user_form(**overrides) -> dict:
    data = {
        "username": "asha",
        "full_name": "Asha Patel",
        "email": "asha@example.org",
        "roles": ["auditor"],
        "team_id": "",
        "service_area": "",
        "password": PASSWORD,
    }
    data.update(overrides)
    return data


def edit_form(user: User, **overrides) -> dict:
    data = {
        "version": str(user.version),
        "full_name": user.full_name,
        "email": user.email or "",
        "roles": sorted(user.roles),
        "team_id": str(user.team_id or ""),
        "service_area": user.service_area.name if user.service_area else "",
        "password": "",
    }
    data.update(overrides)
    return data


def training_form(kind="auditor", completed=("27", "3", "2026"), expires=("", "", "")) -> dict:
    data = {"kind": kind}
    for name, parts in (("completed_on", completed), ("expires_on", expires)):
        for part, value in zip(("day", "month", "year"), parts, strict=False):
            data[f"{name}-{part}"] = value
    return data


# --- Who may use these pages -----------------------------------------------------------------


ADMIN_PAGES = ["/users", "/users/new", "/teams"]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_signed_out_visitor_is_sent_to_sign_in(client, url):
    response = client.get(url, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={url}"


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_auditor_is_refused_the_qa_lead_pages(client, db, url):
    make_user(db, username="asha", roles=(Role.AUDITOR, Role.MODERATOR))
    login(client, "asha")
    response = client.get(url)
    assert response.status_code == 403
    assert "You need the QA lead role to do this." in page_text(response.text)


def test_auditor_cannot_create_a_user_by_posting_the_form(client, db):
    make_user(db, username="asha", roles=(Role.AUDITOR,))
    login(client, "asha")
    response = post_form(client, "/users/new", user_form(username="sneaky", roles=["qa_lead"]))
    assert response.status_code == 403
    assert user_named(db, "sneaky") is None


def test_qa_lead_sees_users_and_teams_in_the_navigation(client, db, lead):
    text = page_text(client.get("/users").text)
    assert "Users Teams Audit trail" in text


# --- Creating users --------------------------------------------------------------------------


def test_create_user_with_roles_and_team(client, db, lead):
    team = make_team(db, name="Safeguarding Team 2", service_area="Safeguarding")
    form = client.get("/users/new")
    assert form.status_code == 200
    assert "Safeguarding Team 2 (Safeguarding)" in page_text(form.text)

    response = post_form(
        client, "/users/new", user_form(username="  Asha.Patel ", roles=["auditor", "moderator"], team_id=str(team.id))
    )
    assert response.status_code == 303
    created = user_named(db, "asha.patel")
    assert created is not None, "the username is stored trimmed and in lower case"
    assert response.headers["location"] == f"/users/{created.id}?created=1"
    assert created.roles == {"auditor", "moderator"}
    assert created.team_id == team.id
    assert created.email == "asha@example.org"
    assert password_verify(PASSWORD, created.password_hash)[0]

    detail = page_text(client.get(response.headers["location"]).text)
    assert "User created." in detail
    assert "Asha Patel" in detail and "Auditor, Moderator" in detail
    assert "Safeguarding Team 2 (Safeguarding)" in detail

    event = one_event(db, "user.create")
    assert (event.actor_id, event.actor_label) == (lead.id, "lead")
    assert (event.entity_type, event.entity_id) == ("user", str(created.id))
    assert event.after["roles"] == ["auditor", "moderator"]
    assert event.after["team"] == "Safeguarding Team 2"
    assert "password" not in event.after and PASSWORD not in str(event.after)


def test_created_user_can_sign_in_with_the_initial_password(client, db, lead):
    post_form(client, "/users/new", user_form())
    newcomer = another_browser(client)
    assert login(newcomer, "asha").status_code == 303
    assert "Welcome, Asha Patel" in page_text(newcomer.get("/").text)


def test_empty_user_form_is_shown_again_with_every_problem(client, db, lead):
    response = post_form(client, "/users/new", {})
    assert response.status_code == 400
    messages = error_summary(response.text)
    assert "Enter full name" in messages
    assert "Select at least one of the roles" in messages
    assert "Password must be 10 characters or more" in messages
    text = page_text(response.text)
    assert text.startswith("Error: Create a user")
    assert "Error: Select at least one of the roles" in text  # next to the field as well
    assert '<a href="#roles">Select at least one of the roles</a>' in response.text
    assert events(db, "user.create") == []


def test_blank_username_is_refused(client, db, lead):
    before = db.execute(select(func.count()).select_from(User)).scalar_one()
    response = post_form(client, "/users/new", user_form(username="   "))
    assert response.status_code == 400
    assert "Enter username" in error_summary(response.text)
    db.expire_all()
    assert db.execute(select(func.count()).select_from(User)).scalar_one() == before


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"password": "short"}, "Password must be 10 characters or more"),
        ({"password": "x" * 201}, "Password must be 200 characters or fewer"),
        ({"email": "asha-at-example"}, "Enter an email address in the correct format, like name@example.org"),
        (
            {"username": "asha patel!"},
            "Username must be 2 to 80 characters: letters, numbers, dots, hyphens or underscores",
        ),
        ({"roles": ["auditor", "overlord"]}, "Select roles from the list"),
        ({"team_id": "abc"}, "Select team from the list"),
        ({"team_id": "999999"}, "Select a team from the list"),
        ({"service_area": "Nowhere"}, "There is no service area called Nowhere"),
        ({"full_name": "x" * 201}, "Full name must be 200 characters or fewer"),
    ],
)
def test_invalid_user_details_are_explained_and_nothing_is_created(client, db, lead, overrides, field_message):
    response = post_form(client, "/users/new", user_form(**overrides))
    assert response.status_code == 400
    assert error_summary(response.text) == [field_message]
    assert user_named(db, "asha") is None
    assert events(db, "user.create") == []


def test_what_was_typed_is_kept_when_the_form_is_shown_again(client, db, lead):
    response = post_form(client, "/users/new", user_form(password="short", roles=["moderator"]))
    assert response.status_code == 400
    assert 'value="Asha Patel"' in response.text
    assert 'value="asha@example.org"' in response.text
    assert re.search(r'value="moderator"\s+checked', response.text)
    assert not re.search(r'value="auditor"\s+checked', response.text)


def test_duplicate_username_is_refused_whatever_the_case(client, db, lead):
    existing = make_user(db, username="asha", full_name="Asha Original")
    response = post_form(client, "/users/new", user_form(username="ASHA", full_name="Asha Impostor"))
    assert response.status_code == 400
    assert error_summary(response.text) == ["The username asha is already taken"]
    assert user_named(db, "asha").id == existing.id
    assert user_named(db, "asha").full_name == "Asha Original"


def test_head_of_service_can_be_given_an_area(client, db, lead):
    make_team(db, service_area="Early Help")
    response = post_form(
        client, "/users/new", user_form(username="hos", roles=["head_of_service"], service_area="Early Help")
    )
    assert response.status_code == 303
    assert user_named(db, "hos").service_area.name == "Early Help"


def test_deactivated_team_is_not_offered_for_new_users(client, db, lead):
    make_team(db, name="Open Team")
    closed = make_team(db, name="Closed Team")
    closed.active = False
    db.flush()
    text = page_text(client.get("/users/new").text)
    assert "Open Team" in text
    assert "Closed Team" not in text
    response = post_form(client, "/users/new", user_form(team_id=str(closed.id)))
    assert response.status_code == 400
    assert error_summary(response.text) == ["Select a team from the list"]


# --- Viewing a user, and unknown ids ---------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/edit", "/status", "/training/new"])
def test_unknown_user_shows_page_not_found(client, db, lead, suffix):
    response = client.get(f"/users/999999{suffix}")
    assert response.status_code == 404
    text = page_text(response.text)
    assert "Page not found" in text
    assert "There is no user with that number." in text


def test_posting_to_an_unknown_user_is_not_found_and_records_nothing(client, db, lead):
    response = post_form(client, "/users/999999/edit", {"version": "1", "full_name": "Ghost", "roles": ["auditor"]})
    assert response.status_code == 404
    assert events(db, "user.update") == []


def test_user_detail_shows_roles_team_and_training(client, db, lead):
    team = make_team(db, name="MASH", service_area="Front Door")
    user = make_user(db, username="morgan", roles=(Role.MODERATOR, Role.AUDITOR), team=team, full_name="Morgan Hughes")
    add_training(db, user, TrainingKind.AUDITOR, date(2020, 1, 1), date(2021, 1, 1))
    text = page_text(client.get(f"/users/{user.id}").text)
    assert "Morgan Hughes" in text
    assert "Auditor, Moderator" in text
    assert "MASH (Front Door)" in text
    assert "Auditor 1 January 2020 1 January 2021 Expired" in text
    assert "Never" in text  # has not signed in yet


# --- Editing users ---------------------------------------------------------------------------


def test_edit_form_is_filled_with_the_current_details(client, db, lead):
    team = make_team(db, name="Early Help North")
    user = make_user(db, username="asha", roles=(Role.AUDITOR,), team=team, full_name="Asha Patel")
    response = client.get(f"/users/{user.id}/edit")
    assert response.status_code == 200
    assert 'value="Asha Patel"' in response.text
    assert hidden_version(response.text) == str(user.version)
    assert re.search(rf'value="{team.id}"\s+selected', response.text)
    assert re.search(r'value="auditor"\s+checked', response.text)


def test_edit_details_saves_and_records_only_what_changed(client, db, lead):
    user = make_user(db, username="asha", full_name="Asha Patel")
    response = post_form(client, f"/users/{user.id}/edit", edit_form(user, full_name="Asha Patel-Jones"))
    assert response.status_code == 303
    assert response.headers["location"] == f"/users/{user.id}?updated=1"
    assert "Changes saved." in page_text(client.get(response.headers["location"]).text)
    changed = user_named(db, "asha")
    assert changed.full_name == "Asha Patel-Jones"
    assert changed.version == 2
    event = one_event(db, "user.update")
    assert (event.actor_id, event.entity_id) == (lead.id, str(user.id))
    assert event.before == {"full_name": "Asha Patel"}
    assert event.after == {"full_name": "Asha Patel-Jones"}


def test_changing_roles_is_recorded_as_a_roles_change(client, db, lead):
    user = make_user(db, username="asha", roles=(Role.AUDITOR,))
    response = post_form(client, f"/users/{user.id}/edit", edit_form(user, roles=["moderator", "viewer"]))
    assert response.status_code == 303
    assert user_named(db, "asha").roles == {"moderator", "viewer"}
    event = one_event(db, "user.roles_change")
    assert event.actor_id == lead.id
    assert event.before == {"roles": ["auditor"]}
    assert event.after == {"roles": ["moderator", "viewer"]}


def test_removing_every_role_is_refused(client, db, lead):
    user = make_user(db, username="asha", roles=(Role.AUDITOR,))
    response = post_form(client, f"/users/{user.id}/edit", edit_form(user, roles=[], full_name="Asha Changed"))
    assert response.status_code == 400
    assert error_summary(response.text) == ["Select at least one of the roles"]
    assert user_named(db, "asha").roles == {"auditor"}
    assert user_named(db, "asha").full_name != "Asha Changed"


def test_moving_a_user_to_another_team_and_clearing_it(client, db, lead):
    first = make_team(db, name="First")
    second = make_team(db, name="Second")
    user = make_user(db, username="asha", team=first)
    assert post_form(client, f"/users/{user.id}/edit", edit_form(user, team_id=str(second.id))).status_code == 303
    moved = user_named(db, "asha")
    assert moved.team_id == second.id
    assert one_event(db, "user.update").after == {"team": "Second"}
    assert post_form(client, f"/users/{user.id}/edit", edit_form(moved, team_id="")).status_code == 303
    assert user_named(db, "asha").team_id is None


def test_editing_a_user_in_a_deactivated_team_keeps_their_team(client, db, lead):
    team = make_team(db, name="Closing Team")
    user = make_user(db, username="asha", team=team)
    team.active = False
    db.flush()
    page = client.get(f"/users/{user.id}/edit")
    assert re.search(rf'value="{team.id}"\s+selected', page.text), "the current team must stay selectable"
    # The browser submits what the page selected.
    response = post_form(client, f"/users/{user.id}/edit", edit_form(user, full_name="Asha Renamed"))
    assert response.status_code == 303
    assert user_named(db, "asha").team_id == team.id


def test_edit_with_a_stale_version_is_a_conflict_and_overwrites_nothing(client, db, lead):
    user = make_user(db, username="asha", full_name="Asha Patel", roles=(Role.AUDITOR,))
    form_version = hidden_version(client.get(f"/users/{user.id}/edit").text)
    # Someone else saves first.
    assert (
        post_form(client, f"/users/{user.id}/edit", edit_form(user, full_name="Asha Someone-Else")).status_code == 303
    )
    mine = edit_form(user, version=form_version, full_name="Asha Mine", roles=["moderator"], password=NEW_PASSWORD)
    response = post_form(client, f"/users/{user.id}/edit", mine)
    assert response.status_code == 409
    text = page_text(response.text)
    assert "Someone else changed this user while you were editing it." in text
    assert "Check the current details and make your change again." in text
    current = user_named(db, "asha")
    assert current.full_name == "Asha Someone-Else"
    assert current.roles == {"auditor"}
    assert current.version == 2
    assert password_verify(PASSWORD, current.password_hash)[0]
    assert len(events(db, "user.update")) == 1
    assert events(db, "user.roles_change") == []
    # The page now carries the current version, so saving again works.
    assert hidden_version(response.text) == "2"
    again = post_form(client, f"/users/{user.id}/edit", {**mine, "version": hidden_version(response.text)})
    assert again.status_code == 303
    assert user_named(db, "asha").full_name == "Asha Mine"


def test_qa_lead_sets_a_new_password_for_a_user(client, db, lead):
    user = make_user(db, username="asha")
    response = post_form(client, f"/users/{user.id}/edit", edit_form(user, password=NEW_PASSWORD))
    assert response.status_code == 303
    event = one_event(db, "user.update")
    assert event.after == {"password": "changed"}
    assert NEW_PASSWORD not in str(event.before) + str(event.after)
    browser = another_browser(client)
    assert login(browser, "asha", PASSWORD).status_code == 400
    assert login(browser, "asha", NEW_PASSWORD).status_code == 303


def test_blank_password_on_edit_keeps_the_current_one(client, db, lead):
    user = make_user(db, username="asha")
    post_form(client, f"/users/{user.id}/edit", edit_form(user, full_name="Asha New", password=""))
    assert password_verify(PASSWORD, user_named(db, "asha").password_hash)[0]


def test_edit_with_bad_details_is_shown_again_and_saves_nothing(client, db, lead):
    user = make_user(db, username="asha", full_name="Asha Patel")
    response = post_form(
        client, f"/users/{user.id}/edit", edit_form(user, full_name="", email="nope", password="short")
    )
    assert response.status_code == 400
    messages = error_summary(response.text)
    assert "Enter full name" in messages
    assert "Enter an email address in the correct format, like name@example.org" in messages
    assert "Password must be 10 characters or more" in messages
    assert user_named(db, "asha").full_name == "Asha Patel"
    assert user_named(db, "asha").version == 1


def test_qa_lead_cannot_remove_their_own_qa_lead_role_and_nothing_else_is_saved(client, db, lead):
    response = post_form(
        client, f"/users/{lead.id}/edit", edit_form(lead, full_name="Quinn Renamed", roles=["auditor"])
    )
    assert response.status_code == 400
    assert error_summary(response.text) == ["You cannot remove the QA lead role from your own account"]
    current = user_named(db, "lead")
    assert current.roles == {"qa_lead"}
    assert current.full_name == "Quinn Lead", "a refused change must not be half saved"
    assert current.version == 1
    assert events(db, "user.update") == events(db, "user.roles_change") == []


def test_refused_team_change_saves_nothing_else(client, db, lead):
    user = make_user(db, username="asha", full_name="Asha Patel")
    response = post_form(client, f"/users/{user.id}/edit", edit_form(user, full_name="Asha Other", team_id="999999"))
    assert response.status_code == 400
    assert error_summary(response.text) == ["Select a team from the list"]
    assert user_named(db, "asha").full_name == "Asha Patel"


# --- Deactivating and reactivating -----------------------------------------------------------


def test_deactivating_a_user_signs_them_out_and_stops_sign_in(client, db, lead):
    user = make_user(db, username="asha", full_name="Asha Patel")
    theirs = another_browser(client)
    assert login(theirs, "asha").status_code == 303
    assert theirs.get("/", follow_redirects=False).status_code == 200

    confirm = client.get(f"/users/{user.id}/status")
    assert confirm.status_code == 200
    text = page_text(confirm.text)
    assert "Deactivate Asha Patel?" in text
    assert "They will be signed out at once" in text
    response = post_form(client, f"/users/{user.id}/status", {"version": hidden_version(confirm.text)})
    assert response.status_code == 303
    assert response.headers["location"] == f"/users/{user.id}?deactivated=1"
    detail = page_text(client.get(response.headers["location"]).text)
    assert "User deactivated. They can no longer sign in or use API tokens." in detail
    assert "Reactivate" in detail

    assert user_named(db, "asha").active is False
    # Their open session has stopped working...
    home = theirs.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"].startswith("/login")
    # ...and they cannot sign in again.
    refused = login(another_browser(client), "asha")
    assert refused.status_code == 400
    assert "Your account has been deactivated. Contact your QA lead." in page_text(refused.text)

    event = one_event(db, "user.deactivate")
    assert (event.actor_id, event.entity_id) == (lead.id, str(user.id))
    assert event.before == {"active": True} and event.after == {"active": False}
    failed = events(db, "auth.login_failed")[-1]
    assert failed.actor_id == user.id and "deactivated" in failed.summary


def test_deactivated_user_is_listed_under_deactivated_only(client, db, lead):
    make_user(db, username="gone", full_name="Gone Person", active=False)
    make_user(db, username="here", full_name="Here Person")
    active = results_text(client.get("/users").text)
    assert "Here Person" in active and "Gone Person" not in active
    deactivated = results_text(client.get("/users?status=deactivated").text)
    assert "Gone Person" in deactivated and "Here Person" not in deactivated
    every = results_text(client.get("/users?status=all").text)
    assert "Gone Person" in every and "Here Person" in every


def test_reactivating_lets_them_sign_in_with_their_old_password(client, db, lead):
    user = make_user(db, username="asha", full_name="Asha Patel", active=False)
    confirm = client.get(f"/users/{user.id}/status")
    text = page_text(confirm.text)
    assert "Reactivate Asha Patel?" in text
    assert "They will be able to sign in again with their existing password." in text
    response = post_form(client, f"/users/{user.id}/status", {"version": hidden_version(confirm.text)})
    assert response.headers["location"] == f"/users/{user.id}?reactivated=1"
    assert "User reactivated." in page_text(client.get(response.headers["location"]).text)
    assert user_named(db, "asha").active is True
    assert login(another_browser(client), "asha").status_code == 303
    event = one_event(db, "user.reactivate")
    assert event.actor_id == lead.id and event.after == {"active": True}


def test_sending_the_deactivate_form_twice_does_not_reactivate(client, db, lead):
    user = make_user(db, username="asha")
    form = {"version": hidden_version(client.get(f"/users/{user.id}/status").text)}
    assert post_form(client, f"/users/{user.id}/status", form).status_code == 303
    second = post_form(client, f"/users/{user.id}/status", form)
    assert second.status_code == 409
    assert "Someone else changed this user" in page_text(second.text)
    assert user_named(db, "asha").active is False
    assert events(db, "user.reactivate") == []


def test_qa_lead_cannot_deactivate_themselves(client, db, lead):
    response = post_form(client, f"/users/{lead.id}/status", {"version": str(lead.version)})
    assert response.status_code == 400
    assert error_summary(response.text) == ["You cannot deactivate your own account"]
    assert user_named(db, "lead").active is True
    assert client.get("/users", follow_redirects=False).status_code == 200


# --- Training records ------------------------------------------------------------------------


def test_record_training_with_day_month_year(client, db, lead):
    user = make_user(db, username="asha", full_name="Asha Patel")
    page = client.get(f"/users/{user.id}/training/new")
    assert "Record training for Asha Patel" in page_text(page.text)
    today = client.app.state.settings.today()
    response = post_form(
        client,
        f"/users/{user.id}/training/new",
        training_form("moderator", completed=("1", "2", str(today.year - 1)), expires=("1", "2", str(today.year + 2))),
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/users/{user.id}?trained=1"
    record = db.execute(select(TrainingRecord).where(TrainingRecord.user_id == user.id)).scalar_one()
    assert (record.kind, record.completed_on, record.expires_on) == (
        "moderator",
        date(today.year - 1, 2, 1),
        date(today.year + 2, 2, 1),
    )
    assert record.recorded_by_id == lead.id
    detail = page_text(client.get(response.headers["location"]).text)
    assert "Training record added." in detail
    assert f"Moderator 1 February {today.year - 1} 1 February {today.year + 2} Current" in detail
    event = one_event(db, "training.record")
    assert (event.actor_id, event.entity_id) == (lead.id, str(user.id))
    assert event.after == {
        "kind": "moderator",
        "completed_on": f"{today.year - 1}-02-01",
        "expires_on": f"{today.year + 2}-02-01",
    }


def test_training_without_expiry_is_saved_as_no_expiry(client, db, lead):
    user = make_user(db, username="asha")
    post_form(client, f"/users/{user.id}/training/new", training_form("auditor", completed=("5", "1", "2024")))
    record = db.execute(select(TrainingRecord).where(TrainingRecord.user_id == user.id)).scalar_one()
    assert record.expires_on is None
    assert "5 January 2024 No expiry Current" in page_text(client.get(f"/users/{user.id}").text)


@pytest.mark.parametrize(
    ("form", "field_messages"),
    [
        (training_form(completed=("31", "2", "2026")), ["Date completed must be a real date"]),
        (training_form(completed=("", "2", "2026")), ["Date completed must be a real date"]),
        (training_form(completed=("2026", "01", "01")), ["Date completed must be a real date"]),
        (training_form(completed=("1", "3", "2026"), expires=("29", "2", "2027")), ["Expiry date must be a real date"]),
        (
            training_form(completed=("1", "3", "2026"), expires=("1", "3", "2025")),
            ["Expiry date must be after the date completed"],
        ),
        (
            training_form(completed=("1", "3", "2026"), expires=("1", "3", "2026")),
            ["Expiry date must be after the date completed"],
        ),
        (training_form(kind="", completed=("", "", "")), ["Select training from the list", "Enter date completed"]),
        (training_form(kind="juggling"), ["Select training from the list"]),
    ],
)
def test_bad_training_dates_are_explained_and_nothing_is_saved(client, db, lead, form, field_messages):
    user = make_user(db, username="asha")
    response = post_form(client, f"/users/{user.id}/training/new", form)
    assert response.status_code == 400
    assert error_summary(response.text) == field_messages
    assert db.execute(select(TrainingRecord).where(TrainingRecord.user_id == user.id)).first() is None
    assert events(db, "training.record") == []


def test_impossible_date_is_shown_again_as_typed(client, db, lead):
    user = make_user(db, username="asha")
    response = post_form(client, f"/users/{user.id}/training/new", training_form(completed=("31", "2", "2026")))
    assert re.search(r'name="completed_on-day"[^>]*value="31"', response.text)
    assert re.search(r'name="completed_on-year"[^>]*value="2026"', response.text)
    assert "govuk-input--error" in response.text


# --- The list of users -----------------------------------------------------------------------


def test_users_list_pages_through_thirty_users_25_at_a_time(client, db, lead):
    for n in range(1, 31):
        make_user(db, username=f"p{n:02d}", full_name=f"Person {n:02d}")
    first = client.get("/users")
    text = results_text(first.text)
    assert "Showing 1 to 25 of 31 users" in text
    assert "Person 01" in text and "Person 25" in text
    assert "Person 26" not in text and "Quinn Lead" not in text
    assert "page=2" in first.text
    second = results_text(client.get("/users?page=2").text)
    assert "Showing 26 to 31 of 31 users" in second
    assert "Person 26" in second and "Person 30" in second and "Quinn Lead" in second
    assert "Person 25" not in second


def test_page_links_keep_the_filters(client, db, lead):
    for n in range(1, 31):
        make_user(db, username=f"m{n:02d}", full_name=f"Mod {n:02d}", roles=(Role.MODERATOR,))
    response = client.get("/users?role=moderator")
    assert "Showing 1 to 25 of 30 users" in page_text(response.text)
    assert "role=moderator&amp;team_id=&amp;status=active&amp;page=2" in response.text


def test_page_beyond_the_end_shows_the_last_page(client, db, lead):
    make_user(db, username="asha", full_name="Asha Patel")
    text = results_text(client.get("/users?page=99").text)
    assert "Showing 1 to 2 of 2 users" in text
    assert "Asha Patel" in text


def test_huge_page_number_is_not_a_server_error(client, db, lead):
    response = client.get(f"/users?page={10**20}")
    assert response.status_code == 200
    assert "Showing 1 to 1 of 1 users" in results_text(response.text)


def test_search_by_name_username_or_email(client, db, lead):
    post_form(client, "/users/new", user_form(username="a.patel", full_name="Asha Patel", email="asha@council.example"))
    post_form(client, "/users/new", user_form(username="m.hughes", full_name="Morgan Hughes", email="mh@other.example"))

    def names(query: str) -> set[str]:
        text = results_text(client.get(f"/users?{query}").text)
        return {name for name in ("Asha Patel", "Morgan Hughes", "Quinn Lead") if name in text}

    assert names("q=patel") == {"Asha Patel"}
    assert names("q=ASHA") == {"Asha Patel"}
    assert names("q=m.hug") == {"Morgan Hughes"}
    assert names("q=other.example") == {"Morgan Hughes"}
    assert names("q=") == {"Asha Patel", "Morgan Hughes", "Quinn Lead"}
    nobody = page_text(client.get("/users?q=zzz").text)
    assert "No users match these filters." in nobody


def test_filter_by_role_and_team(client, db, lead):
    north = make_team(db, name="North")
    south = make_team(db, name="South")
    make_user(db, username="a1", full_name="Auditor North", roles=(Role.AUDITOR,), team=north)
    make_user(db, username="m1", full_name="Moderator North", roles=(Role.MODERATOR, Role.AUDITOR), team=north)
    make_user(db, username="m2", full_name="Moderator South", roles=(Role.MODERATOR,), team=south)

    def names(query: str) -> set[str]:
        text = results_text(client.get(f"/users?{query}").text)
        return {n for n in ("Auditor North", "Moderator North", "Moderator South", "Quinn Lead") if n in text}

    assert names("role=moderator") == {"Moderator North", "Moderator South"}
    assert names("role=auditor") == {"Auditor North", "Moderator North"}
    assert names(f"team_id={north.id}") == {"Auditor North", "Moderator North"}
    assert names(f"role=moderator&team_id={south.id}") == {"Moderator South"}
    assert names("role=qa_lead") == {"Quinn Lead"}
    assert names("team_id=not-a-number") == {"Auditor North", "Moderator North", "Moderator South", "Quinn Lead"}
    # The chosen filters stay selected.
    page = client.get(f"/users?role=moderator&team_id={south.id}").text
    assert re.search(r'value="moderator"\s+selected', page)
    assert re.search(rf'value="{south.id}"\s+selected', page)


def test_htmx_filter_request_gets_only_the_results(client, db, lead):
    response = client.get("/users?q=quinn", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Quinn Lead" in response.text
    assert "<h1" not in response.text and "<html" not in response.text


# --- Teams -----------------------------------------------------------------------------------


def test_create_team_in_a_new_service_area(client, db, lead):
    page = client.get("/teams")
    assert "There are no teams yet." in page_text(page.text)
    response = post_form(client, "/teams", {"name": "  Early   Help North ", "service_area": "Early Help"})
    assert response.status_code == 303
    assert response.headers["location"] == "/teams?created=1"
    text = page_text(client.get(response.headers["location"]).text)
    assert "Team created." in text
    assert "Early Help North Early Help 0 Active" in text
    team = db.execute(select(Team).where(Team.name == "Early Help North")).unique().scalar_one()
    assert team.service_area.name == "Early Help"
    area_event = one_event(db, "service_area.create")
    assert area_event.actor_id == lead.id and area_event.after == {"name": "Early Help"}
    team_event = one_event(db, "team.create")
    assert (team_event.actor_id, team_event.entity_id) == (lead.id, str(team.id))
    assert team_event.after == {
        "name": "Early Help North",
        "service_area": "Early Help",
        "active": True,
        "manager_id": None,
    }


def test_new_team_joins_an_existing_service_area_whatever_the_case(client, db, lead):
    make_team(db, name="Safeguarding Team 1", service_area="Safeguarding")
    response = post_form(client, "/teams", {"name": "Safeguarding Team 2", "service_area": " safeguarding "})
    assert response.status_code == 303
    assert db.execute(select(func.count()).select_from(ServiceArea)).scalar_one() == 1
    assert events(db, "service_area.create") == []


@pytest.mark.parametrize("duplicate", ["Safeguarding Team 1", "safeguarding team 1", "  SAFEGUARDING   Team  1 "])
def test_duplicate_team_name_is_refused(client, db, lead, duplicate):
    make_team(db, name="Safeguarding Team 1")
    response = post_form(client, "/teams", {"name": duplicate, "service_area": "Somewhere"})
    assert response.status_code == 400
    messages = error_summary(response.text)
    assert len(messages) == 1 and messages[0].endswith("already exists")
    assert messages[0].lower() == "a team called safeguarding team 1 already exists"
    assert db.execute(select(func.count()).select_from(Team)).scalar_one() == 1
    assert events(db, "team.create") == []
    assert events(db, "service_area.create") == [], "no orphan service area is created"


def test_empty_team_form_names_both_fields(client, db, lead):
    response = post_form(client, "/teams", {"name": " ", "service_area": ""})
    assert response.status_code == 400
    assert error_summary(response.text) == ["Enter team name", "Enter service area"]
    assert page_text(response.text).startswith("Error: Teams")


def test_team_list_counts_active_members(client, db, lead):
    team = make_team(db, name="Counted")
    make_user(db, team=team)
    make_user(db, team=team)
    make_user(db, team=team, active=False)
    assert "Counted Safeguarding 2 Active" in page_text(client.get("/teams").text)


def test_rename_a_team_and_move_it_to_a_new_area(client, db, lead):
    team = make_team(db, name="Old Name", service_area="Safeguarding")
    page = client.get(f"/teams/{team.id}/edit")
    assert page.status_code == 200
    assert 'value="Old Name"' in page.text
    response = post_form(
        client,
        f"/teams/{team.id}/edit",
        {"version": hidden_version(page.text), "name": "New Name", "service_area": "Children in Care", "active": "yes"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/teams?updated=1"
    assert "Team updated." in page_text(client.get("/teams?updated=1").text)
    db.expire_all()
    changed = db.get(Team, team.id)
    assert (changed.name, changed.service_area.name, changed.active, changed.version) == (
        "New Name",
        "Children in Care",
        True,
        2,
    )
    event = one_event(db, "team.move")  # a move of area is one recorded change, with what moved along
    assert event.actor_id == lead.id
    assert event.summary == "Team New Name moved from Safeguarding to Children in Care with 0 cases, 0 recommendations"
    assert event.before == {"name": "Old Name", "service_area": "Safeguarding", "active": True, "manager_id": None}
    assert event.after == {
        "name": "New Name",
        "service_area": "Children in Care",
        "active": True,
        "manager_id": None,
        "cases": 0,
        "recommendations": 0,
    }


def test_deactivate_a_team_by_unticking_active(client, db, lead):
    team = make_team(db, name="Closing")
    page = client.get(f"/teams/{team.id}/edit")
    response = post_form(
        client,
        f"/teams/{team.id}/edit",
        {"version": hidden_version(page.text), "name": "Closing", "service_area": "Safeguarding"},
    )
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Team, team.id).active is False
    assert "Closing Safeguarding 0 Deactivated" in page_text(client.get("/teams").text)
    event = one_event(db, "team.deactivate")
    assert event.actor_id == lead.id and event.after["active"] is False
    # Reactivate.
    page = client.get(f"/teams/{team.id}/edit")
    post_form(
        client,
        f"/teams/{team.id}/edit",
        {"version": hidden_version(page.text), "name": "Closing", "service_area": "Safeguarding", "active": "yes"},
    )
    assert one_event(db, "team.reactivate").actor_id == lead.id


def test_team_edit_with_a_stale_version_is_a_conflict(client, db, lead):
    team = make_team(db, name="Shared")
    version = hidden_version(client.get(f"/teams/{team.id}/edit").text)
    post_form(
        client,
        f"/teams/{team.id}/edit",
        {"version": version, "name": "Renamed First", "service_area": "Safeguarding", "active": "yes"},
    )
    response = post_form(
        client, f"/teams/{team.id}/edit", {"version": version, "name": "Renamed Second", "service_area": "Safeguarding"}
    )
    assert response.status_code == 409
    assert "Someone else changed this team while you were editing it." in page_text(response.text)
    assert hidden_version(response.text) == "2"
    db.expire_all()
    current = db.get(Team, team.id)
    assert (current.name, current.active) == ("Renamed First", True)
    assert events(db, "team.deactivate") == []


def test_renaming_a_team_to_another_teams_name_is_refused(client, db, lead):
    make_team(db, name="Taken")
    team = make_team(db, name="Mine")
    response = post_form(
        client,
        f"/teams/{team.id}/edit",
        {"version": str(team.version), "name": " taken ", "service_area": "Safeguarding", "active": "yes"},
    )
    assert response.status_code == 400
    assert error_summary(response.text) == ["A team called taken already exists"]
    db.expire_all()
    assert db.get(Team, team.id).name == "Mine"


def test_team_edit_with_an_empty_name_is_refused(client, db, lead):
    team = make_team(db, name="Mine")
    response = post_form(
        client,
        f"/teams/{team.id}/edit",
        {"version": str(team.version), "name": "", "service_area": "Safeguarding", "active": "yes"},
    )
    assert response.status_code == 400
    assert error_summary(response.text) == ["Enter team name"]


def test_unknown_team_shows_page_not_found(client, db, lead):
    response = client.get("/teams/999999/edit")
    assert response.status_code == 404
    assert "There is no team with that number." in page_text(response.text)


# --- Sign-in events --------------------------------------------------------------------------


def test_sign_in_failed_sign_in_and_sign_out_are_recorded(client, db):
    user = make_user(db, username="asha")
    assert login(client, "asha", "wrong-password-here").status_code == 400
    failed = one_event(db, "auth.login_failed")
    assert (failed.actor_id, failed.actor_label, failed.entity_id) == (None, "asha", str(user.id))
    unknown = login(client, "Nobody.Here", "whatever-password")
    assert unknown.status_code == 400
    assert events(db, "auth.login_failed")[-1].actor_label == "nobody.here"
    assert login(client, "asha").status_code == 303
    signed_in = one_event(db, "auth.login")
    assert (signed_in.actor_id, signed_in.actor_label) == (user.id, "asha")
    assert client.cookies.get(SESSION_COOKIE)
    assert post_form(client, "/logout").status_code == 303
    signed_out = one_event(db, "auth.logout")
    assert (signed_out.actor_id, signed_out.entity_id) == (user.id, str(user.id))


def test_qa_lead_names_a_team_manager_and_clears_it(client, db, lead):
    team = make_team(db, name="North Team")
    manager = make_user(db, username="mgr", roles=(Role.PRACTITIONER,), team=team, full_name="Mona Manager")
    gone = make_user(db, username="gone", roles=(Role.PRACTITIONER,), full_name="Gone User", active=False)
    page = client.get(f"/teams/{team.id}/edit")
    assert "Mona Manager" in page.text and "Gone User" not in page.text
    form = {"name": "North Team", "service_area": "Safeguarding", "active": "yes"}
    refused = post_form(client, f"/teams/{team.id}/edit", {**form, "version": "1", "manager_id": str(gone.id)})
    assert refused.status_code == 400 and "Choose the team manager from the list" in page_text(refused.text)
    saved = post_form(client, f"/teams/{team.id}/edit", {**form, "version": "1", "manager_id": str(manager.id)})
    assert saved.status_code == 303
    db.refresh(team)
    assert team.manager_id == manager.id
    event = db.execute(select(AuditEvent).where(AuditEvent.action == "team.update")).scalars().all()[-1]
    assert event.before["manager_id"] is None and event.after["manager_id"] == manager.id
    cleared = post_form(client, f"/teams/{team.id}/edit", {**form, "version": "2", "manager_id": ""})
    assert cleared.status_code == 303
    db.refresh(team)
    assert team.manager_id is None
