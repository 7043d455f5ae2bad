"""The accounts part of the JSON API, as a script or BI tool would use it: tokens, /me, users, training."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.accounts.auth import API, token_digest
from app.accounts.models import AuthToken, TrainingRecord, User
from app.accounts.roles import Role, TrainingKind
from app.audit_trail.models import AuditEvent
from app.web.auth import SESSION_COOKIE
from tests.factories import PASSWORD, add_training, api_headers, login, make_team, make_user

NEW_PASSWORD = "a-long-enough-password"


def _today(client) -> date:
    return client.app.state.settings.today()


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def _raw(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def _assert_401(response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"


def _fields_at_fault(response) -> set[str]:
    """The fields named in a 422's detail (its `loc`s), so a test can check the right one is blamed."""
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    return {str(part) for error in detail for part in error["loc"] if part != "body"}


@pytest.fixture
def lead(db):
    return make_user(db, username="lead", roles=(Role.QA_LEAD,), full_name="Lena Lead")


@pytest.fixture
def lead_headers(client, lead):
    return api_headers(client, "lead")


# --- Tokens -------------------------------------------------------------------------------------


def test_token_for_right_credentials(client, db):
    make_user(db, username="asha")
    response = client.post("/api/v1/tokens", json={"username": "asha", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert len(body["access_token"]) >= 32
    # The token works, and only its digest is stored.
    assert client.get("/api/v1/me", headers=_bearer(body["access_token"])).json()["username"] == "asha"
    stored = db.execute(select(AuthToken.token_hash).where(AuthToken.kind == API)).scalars().all()
    assert token_digest(body["access_token"]) in stored
    assert body["access_token"] not in stored
    # It expires after the configured lifetime.
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires.utcoffset() is not None
    lifetime = timedelta(minutes=client.app.state.settings.api_token_lifetime_minutes)
    assert abs(expires - (clock.now() + lifetime)) < timedelta(minutes=1)


def test_username_is_matched_case_insensitively(client, db):
    make_user(db, username="asha")
    response = client.post("/api/v1/tokens", json={"username": "  ASHA ", "password": PASSWORD})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "username, password",
    [("asha", "not-the-password"), ("nobody", PASSWORD), ("", PASSWORD), ("asha", "")],
)
def test_token_refused_for_wrong_credentials(client, db, username, password):
    make_user(db, username="asha")
    response = client.post("/api/v1/tokens", json={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json() == {"detail": "Wrong username or password"}
    assert db.execute(select(func.count()).select_from(AuthToken)).scalar_one() == 0


def test_token_request_without_fields_is_422_json(client, db):
    response = client.post("/api/v1/tokens", json={"username": "asha"})
    assert "password" in _fields_at_fault(response)
    response = client.post("/api/v1/tokens", content=b"not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer not-a-real-token",
        "Bearer " + "x" * 5000,
        "Basic YXNoYTpjb3JyZWN0LWhvcnNlLWJhdHRlcnk=",
        "Token abc",
        "Bearer \u00e9\u00e9\u00e9".encode("latin-1"),
    ],
)
def test_missing_or_bad_bearer_token_is_401(client, db, authorization):
    make_user(db, username="asha")
    api_headers(client, "asha")  # a live token exists; it must not be picked up some other way
    headers = {} if authorization is None else {"Authorization": authorization}
    _assert_401(client.get("/api/v1/me", headers=headers))


def test_bearer_scheme_is_case_insensitive(client, db):
    make_user(db, username="asha")
    raw = _raw(api_headers(client, "asha"))
    assert client.get("/api/v1/me", headers={"Authorization": f"bearer {raw}"}).status_code == 200


def test_revoking_the_current_token(client, db):
    make_user(db, username="asha")
    headers = api_headers(client, "asha")
    other = api_headers(client, "asha")
    response = client.delete("/api/v1/tokens/current", headers=headers)
    assert response.status_code == 204
    _assert_401(client.get("/api/v1/me", headers=headers))
    _assert_401(client.delete("/api/v1/tokens/current", headers=headers))
    # Only that token: the user's other token still works.
    assert client.get("/api/v1/me", headers=other).status_code == 200


def test_expired_token_is_401(client, db):
    make_user(db, username="asha")
    headers = api_headers(client, "asha")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    token = db.execute(select(AuthToken).where(AuthToken.token_hash == token_digest(_raw(headers)))).scalar_one()
    token.expires_at = clock.now() - timedelta(seconds=1)
    db.add(token)
    db.flush()
    _assert_401(client.get("/api/v1/me", headers=headers))


def test_deactivated_user_token_is_401_and_no_new_token(client, db):
    user = make_user(db, username="asha")
    headers = api_headers(client, "asha")
    user.active = False
    db.add(user)
    db.flush()
    _assert_401(client.get("/api/v1/me", headers=headers))
    response = client.post("/api/v1/tokens", json={"username": "asha", "password": PASSWORD})
    assert response.status_code == 401
    assert "access_token" not in response.json()
    assert response.json()["detail"] == "Account deactivated"


def test_api_ignores_the_browser_session_cookie(client, db):
    make_user(db, username="asha", roles=(Role.QA_LEAD,))
    assert login(client, "asha").status_code == 303
    assert client.cookies.get(SESSION_COOKIE)
    assert client.get("/", follow_redirects=False).status_code == 200  # the browser is signed in
    _assert_401(client.get("/api/v1/me"))
    _assert_401(client.get("/api/v1/users"))
    before = db.execute(select(func.count()).select_from(User)).scalar_one()
    response = client.post(
        "/api/v1/users",
        json={"username": "sneaky", "full_name": "Sneaky", "password": NEW_PASSWORD, "roles": ["qa_lead"]},
    )
    _assert_401(response)
    assert db.execute(select(func.count()).select_from(User)).scalar_one() == before


def test_session_cookie_value_is_not_accepted_as_a_bearer_token(client, db):
    make_user(db, username="asha")
    login(client, "asha")
    raw_session = client.cookies.get(SESSION_COOKIE)
    client.cookies.clear()
    _assert_401(client.get("/api/v1/me", headers=_bearer(raw_session)))


def test_api_token_is_not_accepted_as_a_browser_session(client, db):
    make_user(db, username="asha")
    raw = _raw(api_headers(client, "asha"))
    client.cookies.set(SESSION_COOKIE, raw)
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


# --- /me ----------------------------------------------------------------------------------------


def test_me_describes_the_caller(client, db):
    team = make_team(db, name="Fostering North", service_area="Children in care")
    make_user(db, username="asha", full_name="Asha Patel", roles=(Role.AUDITOR, Role.MODERATOR), team=team)
    make_user(db, username="ben")
    response = client.get("/api/v1/me", headers=api_headers(client, "asha"))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "asha"
    assert body["full_name"] == "Asha Patel"
    assert body["roles"] == ["auditor", "moderator"]
    assert body["team_id"] == team.id and body["team"] == "Fostering North"
    assert body["service_area"] == "Children in care"
    assert body["active"] is True
    assert "password_hash" not in body and "password" not in body
    assert body["training"] == {
        "auditor": {"state": "none", "current": False, "completed_on": None, "expires_on": None},
        "moderator": {"state": "none", "current": False, "completed_on": None, "expires_on": None},
    }


def test_me_training_status_is_computed_against_today(client, db):
    user = make_user(db, username="asha", roles=(Role.AUDITOR, Role.MODERATOR))
    today = _today(client)
    # Auditor training: an old record that expired yesterday.
    add_training(db, user, TrainingKind.AUDITOR, today - timedelta(days=400), today - timedelta(days=1))
    # Moderator training: an expired one and a current one that expires today.
    add_training(db, user, TrainingKind.MODERATOR, today - timedelta(days=800), today - timedelta(days=400))
    add_training(db, user, TrainingKind.MODERATOR, today - timedelta(days=364), today)
    training = client.get("/api/v1/me", headers=api_headers(client, "asha")).json()["training"]
    assert training["auditor"] == {
        "state": "expired",
        "current": False,
        "completed_on": (today - timedelta(days=400)).isoformat(),
        "expires_on": (today - timedelta(days=1)).isoformat(),
    }
    assert training["moderator"] == {
        "state": "current",
        "current": True,
        "completed_on": (today - timedelta(days=364)).isoformat(),
        "expires_on": today.isoformat(),
    }


def test_me_training_recorded_for_a_future_date_is_not_yet_current(client, db):
    user = make_user(db, username="asha")
    today = _today(client)
    add_training(db, user, TrainingKind.AUDITOR, today + timedelta(days=3))
    training = client.get("/api/v1/me", headers=api_headers(client, "asha")).json()["training"]
    assert training["auditor"]["current"] is False
    assert training["auditor"]["state"] == "not_started"


# --- Users: create ------------------------------------------------------------------------------


def _new_user(**overrides):
    body = {
        "username": "carol",
        "full_name": "Carol  Jones",
        "email": "carol@example.org",
        "password": NEW_PASSWORD,
        "roles": ["auditor", "moderator"],
    }
    body.update(overrides)
    return body


def test_create_user(client, db, lead_headers, lead):
    team = make_team(db, name="Edge of care", service_area="Early help")
    response = client.post("/api/v1/users", headers=lead_headers, json=_new_user(team_id=team.id))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["username"] == "carol"
    assert body["full_name"] == "Carol Jones"
    assert body["roles"] == ["auditor", "moderator"]
    assert body["team_id"] == team.id and body["team"] == "Edge of care"
    assert body["service_area"] == "Early help"
    assert body["active"] is True and body["version"] == 1
    assert "password" not in body and "password_hash" not in body
    # The new user can sign in with the password they were given.
    me = client.get("/api/v1/me", headers=api_headers(client, "carol", NEW_PASSWORD)).json()
    assert me["id"] == body["id"]
    # And the creation is on the audit trail, attributed to the QA lead.
    event = db.execute(
        select(AuditEvent).where(AuditEvent.action == "user.create", AuditEvent.entity_id == str(body["id"]))
    ).scalar_one()
    assert event.actor_id == lead.id
    assert NEW_PASSWORD not in str(event.after)


def test_create_user_with_service_area_by_name(client, db, lead_headers):
    make_team(db, service_area="Safeguarding")
    response = client.post(
        "/api/v1/users",
        headers=lead_headers,
        json=_new_user(roles=["head_of_service"], service_area="  safeguarding "),
    )
    assert response.status_code == 201, response.text
    assert response.json()["service_area"] == "Safeguarding"


def _user_count(db) -> int:
    return db.execute(select(func.count()).select_from(User)).scalar_one()


def test_duplicate_username_is_422_naming_username(client, db, lead_headers):
    make_user(db, username="carol")
    before = _user_count(db)
    response = client.post("/api/v1/users", headers=lead_headers, json=_new_user(username="Carol"))
    assert _fields_at_fault(response) == {"username"}
    assert "already taken" in response.json()["detail"][0]["msg"]
    assert _user_count(db) == before


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"password": "short"}, "password"),
        ({"username": "has spaces"}, "username"),
        ({"username": "x"}, "username"),
        ({"username": "   "}, "username"),
        ({"username": ""}, "username"),
        ({"username": "ok\nname"}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"full_name": "   "}, "full_name"),
        ({"roles": []}, "roles"),
        ({"roles": ["auditor", "superuser"]}, "roles"),
        ({"team_id": "first"}, "team_id"),
    ],
)
def test_bad_user_fields_are_422_naming_the_field(client, db, lead_headers, overrides, field):
    before = _user_count(db)
    response = client.post("/api/v1/users", headers=lead_headers, json=_new_user(**overrides))
    assert field in _fields_at_fault(response)
    assert _user_count(db) == before


def test_unknown_team_id_is_422_naming_team_id(client, db, lead_headers):
    before = _user_count(db)
    response = client.post("/api/v1/users", headers=lead_headers, json=_new_user(team_id=999_999))
    assert _fields_at_fault(response) == {"team_id"}
    assert _user_count(db) == before


def test_unknown_service_area_is_422_naming_service_area(client, db, lead_headers):
    make_team(db, service_area="Safeguarding")
    before = _user_count(db)
    response = client.post("/api/v1/users", headers=lead_headers, json=_new_user(service_area="Atlantis"))
    assert _fields_at_fault(response) == {"service_area"}
    assert "Atlantis" in response.json()["detail"][0]["msg"]
    assert _user_count(db) == before


# --- Users: list --------------------------------------------------------------------------------


@pytest.fixture
def people(db, lead):
    north = make_team(db, name="North")
    south = make_team(db, name="South")
    return {
        "lead": lead,
        "north": north,
        "south": south,
        "amy": make_user(db, username="amy", full_name="Amy Adams", roles=(Role.AUDITOR,), team=north),
        "bob": make_user(db, username="bob", full_name="Bob Brown", roles=(Role.MODERATOR,), team=north),
        "cat": make_user(db, username="cat", full_name="Cat Clark", roles=(Role.AUDITOR, Role.MODERATOR), team=south),
        "dan": make_user(db, username="dan", full_name="Dan Dorsey", roles=(Role.AUDITOR,), team=south, active=False),
    }


def _names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["username"] for item in response.json()["items"]]


def test_list_users_is_a_page(client, people, lead_headers):
    response = client.get("/api/v1/users", headers=lead_headers)
    body = response.json()
    assert set(body) >= {"items", "total", "page", "page_size"}
    assert body["total"] == 5 and body["page"] == 1 and body["page_size"] == 50
    # Ordered by name.
    assert _names(response) == ["amy", "bob", "cat", "dan", "lead"]


def test_list_users_respects_page_size_and_page(client, people, lead_headers):
    first = client.get("/api/v1/users?page_size=2", headers=lead_headers).json()
    second = client.get("/api/v1/users?page_size=2&page=2", headers=lead_headers).json()
    third = client.get("/api/v1/users?page_size=2&page=3", headers=lead_headers).json()
    assert [u["username"] for u in first["items"]] == ["amy", "bob"]
    assert [u["username"] for u in second["items"]] == ["cat", "dan"]
    assert [u["username"] for u in third["items"]] == ["lead"]
    assert first["total"] == second["total"] == third["total"] == 5
    assert second["page"] == 2 and second["page_size"] == 2
    assert client.get("/api/v1/users?page_size=500", headers=lead_headers).json()["page_size"] == 500


def test_a_page_past_the_end_is_empty(client, people, lead_headers):
    beyond = client.get("/api/v1/users?page_size=2&page=9", headers=lead_headers).json()
    assert beyond["items"] == []
    assert beyond["total"] == 5 and beyond["page"] == 9


def test_paging_by_total_visits_everyone_once(client, people, lead_headers):
    first = client.get("/api/v1/users?page_size=2", headers=lead_headers).json()
    pages = -(-first["total"] // 2)
    seen = [u["username"] for u in first["items"]]
    for page in range(2, pages + 1):
        seen += [
            u["username"]
            for u in client.get(f"/api/v1/users?page_size=2&page={page}", headers=lead_headers).json()["items"]
        ]
    assert seen == ["amy", "bob", "cat", "dan", "lead"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("page_size=501", "page_size"),
        ("page_size=0", "page_size"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("active=perhaps", "active"),
        ("team_id=north", "team_id"),
    ],
)
def test_list_users_rejects_bad_paging_and_filters(client, people, lead_headers, query, field):
    response = client.get(f"/api/v1/users?{query}", headers=lead_headers)
    assert field in _fields_at_fault(response)


def test_list_users_filters(client, people, lead_headers):
    def names(query: str) -> list[str]:
        return _names(client.get(f"/api/v1/users?{query}", headers=lead_headers))

    assert names("q=clark") == ["cat"]
    assert names("q=BOB") == ["bob"]
    assert names("role=moderator") == ["bob", "cat"]
    assert names("role=qa_lead") == ["lead"]
    assert names(f"team_id={people['north'].id}") == ["amy", "bob"]
    assert names("active=false") == ["dan"]
    assert names("active=true") == ["amy", "bob", "cat", "lead"]
    assert names(f"role=auditor&team_id={people['south'].id}&active=true") == ["cat"]
    assert names("q=nobody-called-this") == []
    response = client.get("/api/v1/users?role=auditor", headers=lead_headers).json()
    assert response["total"] == 3


# --- Users: update ------------------------------------------------------------------------------


def _get_user(client, headers, user_id: int) -> dict:
    response = client.get(f"/api/v1/users/{user_id}", headers=headers)
    assert response.status_code == 200
    return response.json()


def test_update_with_current_version_bumps_version(client, people, lead_headers):
    amy = people["amy"]
    response = client.patch(
        f"/api/v1/users/{amy.id}",
        headers=lead_headers,
        json={
            "version": 1,
            "full_name": "Amy Adams-Smith",
            "roles": ["auditor", "moderator"],
            "team_id": people["south"].id,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2
    assert body["full_name"] == "Amy Adams-Smith"
    assert body["roles"] == ["auditor", "moderator"]
    assert body["team"] == "South"
    assert _get_user(client, lead_headers, amy.id) == body


def test_update_with_stale_version_is_409_and_changes_nothing(client, people, lead_headers):
    amy = people["amy"]
    first = client.patch(f"/api/v1/users/{amy.id}", headers=lead_headers, json={"version": 1, "full_name": "Amy A"})
    assert first.status_code == 200
    before = _get_user(client, lead_headers, amy.id)
    stale = client.patch(
        f"/api/v1/users/{amy.id}",
        headers=lead_headers,
        json={"version": 1, "full_name": "Amy B", "roles": ["qa_lead"], "active": False},
    )
    assert stale.status_code == 409
    assert isinstance(stale.json()["detail"], str) and "Someone else changed" in stale.json()["detail"]
    assert _get_user(client, lead_headers, amy.id) == before
    assert before["version"] == 2 and before["full_name"] == "Amy A"
    # Amy can still use the API: she was not deactivated.
    assert client.get("/api/v1/me", headers=api_headers(client, "amy")).status_code == 200


def test_update_without_version_is_422(client, people, lead_headers):
    response = client.patch(f"/api/v1/users/{people['amy'].id}", headers=lead_headers, json={"full_name": "X"})
    assert "version" in _fields_at_fault(response)


def test_update_unknown_user_is_404_json(client, people, lead_headers):
    response = client.patch("/api/v1/users/999999", headers=lead_headers, json={"version": 1, "full_name": "X"})
    assert response.status_code == 404
    assert response.json() == {"detail": "User 999999 not found"}


def test_deactivating_revokes_tokens_and_sessions(client, db, people, lead_headers):
    amy = people["amy"]
    amy_headers = api_headers(client, "amy")
    raw_session_response = login(client, "amy")
    assert raw_session_response.status_code == 303
    amy_session = client.cookies.get(SESSION_COOKIE)
    client.cookies.clear()
    response = client.patch(f"/api/v1/users/{amy.id}", headers=lead_headers, json={"version": 1, "active": False})
    assert response.status_code == 200
    assert response.json()["active"] is False
    _assert_401(client.get("/api/v1/me", headers=amy_headers))
    live = db.execute(
        select(func.count()).select_from(AuthToken).where(AuthToken.user_id == amy.id, AuthToken.revoked_at.is_(None))
    ).scalar_one()
    assert live == 0
    client.cookies.set(SESSION_COOKIE, amy_session)
    assert client.get("/", follow_redirects=False).status_code == 303
    client.cookies.clear()
    # Reactivating does not bring the old token back.
    again = client.patch(f"/api/v1/users/{amy.id}", headers=lead_headers, json={"version": 2, "active": True})
    assert again.status_code == 200 and again.json()["active"] is True
    _assert_401(client.get("/api/v1/me", headers=amy_headers))
    assert client.get("/api/v1/me", headers=api_headers(client, "amy")).status_code == 200


def test_qa_lead_cannot_deactivate_themselves(client, people, lead_headers):
    lead = people["lead"]
    response = client.patch(f"/api/v1/users/{lead.id}", headers=lead_headers, json={"version": 1, "active": False})
    assert _fields_at_fault(response) == {"active"}
    assert client.get("/api/v1/me", headers=lead_headers).json()["active"] is True
    assert _get_user(client, lead_headers, lead.id)["version"] == 1


def test_qa_lead_cannot_remove_their_own_qa_lead_role(client, people, lead_headers):
    lead = people["lead"]
    response = client.patch(f"/api/v1/users/{lead.id}", headers=lead_headers, json={"version": 1, "roles": ["auditor"]})
    assert _fields_at_fault(response) == {"roles"}
    assert client.get("/api/v1/me", headers=lead_headers).json()["roles"] == ["qa_lead"]


def test_password_change_through_the_api(client, people, lead_headers):
    amy = people["amy"]
    response = client.patch(
        f"/api/v1/users/{amy.id}", headers=lead_headers, json={"version": 1, "password": "a-brand-new-password"}
    )
    assert response.status_code == 200
    old = client.post("/api/v1/tokens", json={"username": "amy", "password": PASSWORD})
    new = client.post("/api/v1/tokens", json={"username": "amy", "password": "a-brand-new-password"})
    assert (old.status_code, new.status_code) == (401, 200)


# --- Training -----------------------------------------------------------------------------------


def test_record_training(client, db, people, lead_headers):
    amy = people["amy"]
    today = _today(client)
    response = client.post(
        f"/api/v1/users/{amy.id}/training",
        headers=lead_headers,
        json={
            "kind": "auditor",
            "completed_on": (today - timedelta(days=10)).isoformat(),
            "expires_on": (today + timedelta(days=355)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "auditor" and body["current"] is True
    assert body["completed_on"] == (today - timedelta(days=10)).isoformat()
    listed = client.get(f"/api/v1/users/{amy.id}/training", headers=lead_headers).json()
    assert [r["id"] for r in listed] == [body["id"]]
    me = client.get("/api/v1/me", headers=api_headers(client, "amy")).json()
    assert me["training"]["auditor"]["current"] is True
    assert me["training"]["moderator"]["current"] is False


def _training_count(db) -> int:
    return db.execute(select(func.count()).select_from(TrainingRecord)).scalar_one()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "auditor", "completed_on": "2025-05-01", "expires_on": "2025-04-30"}, "expires_on"),
        ({"kind": "auditor", "completed_on": "2025-05-01", "expires_on": "2025-05-01"}, "expires_on"),
        ({"kind": "juggling", "completed_on": "2025-05-01"}, "kind"),
        ({"kind": "auditor", "completed_on": "2025-02-30"}, "completed_on"),
        ({"kind": "auditor", "completed_on": "01/05/2025"}, "completed_on"),
        ({"kind": "auditor"}, "completed_on"),
    ],
)
def test_bad_training_is_422_naming_the_field(client, db, people, lead_headers, body, field):
    before = _training_count(db)
    response = client.post(f"/api/v1/users/{people['amy'].id}/training", headers=lead_headers, json=body)
    assert field in _fields_at_fault(response)
    assert _training_count(db) == before


def test_training_for_unknown_user_is_404_json(client, db, people, lead_headers):
    before = _training_count(db)
    response = client.post(
        "/api/v1/users/999999/training", headers=lead_headers, json={"kind": "auditor", "completed_on": "2025-05-01"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"detail": "User 999999 not found"}
    assert _training_count(db) == before
    assert client.get("/api/v1/users/999999", headers=lead_headers).status_code == 404


# --- Roles --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.QA_LEAD])
def test_only_qa_leads_manage_users(client, db, people, role):
    make_user(db, username="someone", roles=(role,))
    headers = api_headers(client, "someone")
    amy = people["amy"]
    before = _user_count(db)
    calls = [
        client.get("/api/v1/users", headers=headers),
        client.post("/api/v1/users", headers=headers, json=_new_user()),
        client.get(f"/api/v1/users/{amy.id}", headers=headers),
        client.patch(f"/api/v1/users/{amy.id}", headers=headers, json={"version": 1, "active": False}),
        client.post(
            f"/api/v1/users/{amy.id}/training", headers=headers, json={"kind": "auditor", "completed_on": "2025-05-01"}
        ),
    ]
    for response in calls:
        assert response.status_code == 403, (response.request.method, response.request.url, response.text)
        assert response.json() == {"detail": "You need the QA lead role to do this."}
    assert _user_count(db) == before
    assert _get_user(client, api_headers(client, "lead"), amy.id)["active"] is True
    # They can still read their own record.
    assert client.get("/api/v1/me", headers=headers).status_code == 200


# --- Ids out of the database's range are bad input, never a 500 ----------------------------------

OUT_OF_RANGE = [0, -1, 2**31, 2**63, 10**30]


@pytest.mark.parametrize("n", OUT_OF_RANGE)
def test_out_of_range_ids_in_paths_are_422(client, db, lead_headers, n):
    calls = {
        "user_id": [
            client.get(f"/api/v1/users/{n}", headers=lead_headers),
            client.patch(f"/api/v1/users/{n}", headers=lead_headers, json={"version": 1, "full_name": "X"}),
            client.get(f"/api/v1/users/{n}/training", headers=lead_headers),
            client.post(
                f"/api/v1/users/{n}/training",
                headers=lead_headers,
                json={"kind": "auditor", "completed_on": "2025-05-01"},
            ),
        ],
        "team_id": [client.patch(f"/api/v1/teams/{n}", headers=lead_headers, json={"version": 1})],
    }
    for field, responses in calls.items():
        for response in responses:
            assert field in _fields_at_fault(response), response.request.url


@pytest.mark.parametrize(
    "query, field",
    [
        (f"team_id={2**31}", "team_id"),
        (f"team_id={2**63}", "team_id"),
        (f"page={2**31}", "page"),
        (f"page={2**63}", "page"),
    ],
)
def test_out_of_range_list_filters_are_422(client, db, lead_headers, query, field):
    assert field in _fields_at_fault(client.get(f"/api/v1/users?{query}", headers=lead_headers))


def test_out_of_range_ids_are_still_refused_to_the_unauthorised_first(client, db):
    make_user(db, username="asha")
    _assert_401(client.get(f"/api/v1/users/{2**63}"))
    response = client.get(f"/api/v1/users/{2**63}", headers=api_headers(client, "asha"))
    assert response.status_code == 403


@pytest.mark.parametrize("n", OUT_OF_RANGE)
def test_out_of_range_team_id_in_a_body_is_422(client, db, lead, lead_headers, n):
    before = _user_count(db)
    response = client.post("/api/v1/users", headers=lead_headers, json=_new_user(team_id=n))
    assert _fields_at_fault(response) == {"team_id"}
    assert _user_count(db) == before
    response = client.patch(f"/api/v1/users/{lead.id}", headers=lead_headers, json={"version": 1, "team_id": n})
    assert _fields_at_fault(response) == {"team_id"}


@pytest.mark.parametrize(("field", "value"), [("active", 0), ("active", "no"), ("active", 1)])
def test_yes_no_fields_take_only_true_or_false(client, db, lead_headers, field, value):
    user = make_user(db, username="asha")
    response = client.patch(f"/api/v1/users/{user.id}", json={"version": 1, field: value}, headers=lead_headers)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == field
    db.refresh(user)
    assert user.active is True


@pytest.mark.parametrize("field", ["completed_on", "expires_on"])
def test_training_dates_given_as_numbers_are_refused(client, db, lead_headers, field):
    user = make_user(db, username="asha")
    body = {"kind": "auditor", "completed_on": "2026-01-05", "expires_on": "2027-01-05", field: 0}
    response = client.post(f"/api/v1/users/{user.id}/training", json=body, headers=lead_headers)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == field


def test_update_with_a_version_beyond_any_stored_is_409_not_a_server_error(client, people, lead_headers):
    """Found by the CI fuzzer: a version past a 32-bit integer made PostgreSQL refuse the comparison (500)."""
    amy = people["amy"]
    response = client.patch(
        f"/api/v1/users/{amy.id}", headers=lead_headers, json={"version": 645987019396817, "full_name": "Amy Z"}
    )
    assert response.status_code == 409
    assert client.get(f"/api/v1/users/{amy.id}", headers=lead_headers).json()["full_name"] != "Amy Z"
