"""Who may manage accounts (`app.accounts.permissions`), the user and team lookups the pages and the API share, and
the navigation reading the same role sets as the route guards."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.routing import APIRoute

from app.accounts import permissions
from app.accounts.roles import Role
from app.web.auth import RoleGuard
from app.web.nav import NAV_ENTRIES, nav_for
from app.web.routes import dependency_calls, flat_routes
from tests.factories import api_headers, login, make_team, make_user, page_text


def _person(*roles, active=True):
    return SimpleNamespace(active=active, has_role=lambda *wanted: bool(set(roles) & set(wanted)))


def test_only_an_active_qa_lead_manages_accounts():
    assert permissions.may_manage_accounts(_person(Role.QA_LEAD))
    assert not permissions.may_manage_accounts(_person(Role.QA_LEAD, active=False))
    assert not permissions.may_manage_accounts(_person(*[r for r in Role if r != Role.QA_LEAD]))


@pytest.fixture
def people(db):
    team = make_team(db, name="North")
    return SimpleNamespace(
        lead=make_user(db, username="lead", roles=(Role.QA_LEAD,)),
        amy=make_user(db, username="amy", roles=(Role.AUDITOR,), team=team, full_name="Amy Able"),
        team=team,
    )


def test_the_pages_and_the_api_find_the_same_users_and_teams(client, people):
    headers = api_headers(client, "lead")
    login(client, "lead")
    assert "Amy Able" in page_text(client.get(f"/users/{people.amy.id}").text)
    assert client.get(f"/api/v1/users/{people.amy.id}", headers=headers).json()["full_name"] == "Amy Able"
    assert client.get(f"/teams/{people.team.id}/edit").status_code == 200
    assert "There is no user with that number." in page_text(client.get("/users/999999").text)
    assert client.get("/api/v1/users/999999", headers=headers).json() == {"detail": "User 999999 not found"}
    assert "There is no team with that number." in page_text(client.get("/teams/999999/edit").text)
    response = client.patch("/api/v1/teams/999999", json={"version": 1}, headers=headers)
    assert response.status_code == 404 and response.json() == {"detail": "Team 999999 not found"}


def test_others_are_refused_before_any_user_is_looked_up(client, people):
    headers = api_headers(client, "amy")
    for user_id in (people.lead.id, 999999):
        assert client.get(f"/api/v1/users/{user_id}", headers=headers).status_code == 403
    login(client, "amy")
    for url in (f"/users/{people.lead.id}", "/users/999999", f"/teams/{people.team.id}/edit", "/teams/999999/edit"):
        assert client.get(url).status_code == 403, url


# --- The navigation reads the guards' role sets ----------------------------------------------------------------


def _guard_roles(app, path: str) -> frozenset[str]:
    for route in flat_routes(app):
        original = getattr(route, "original_route", route)
        if isinstance(original, APIRoute) and route.path == path and "GET" in route.methods:
            guards = [c for c in dependency_calls(route.dependant) if isinstance(c, RoleGuard)]
            return frozenset().union(*(g.roles for g in guards))
    raise AssertionError(f"no GET route {path}")


def test_every_menu_entry_offers_its_page_to_exactly_the_roles_its_guard_lets_in(app):
    checked = 0
    for entry in NAV_ENTRIES:
        if not entry.roles or entry.href == "/logout":
            continue
        assert entry.roles == _guard_roles(app, entry.href), entry.label
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    "roles, present, absent",
    [
        ((Role.MODERATOR,), {"Moderation", "Agreement", "Recommendations"}, {"Programme", "Users", "Escalations"}),
        ((Role.TEAM_MANAGER,), {"Recommendations"}, {"Agreement", "Dashboard", "Users"}),
        ((Role.VIEWER,), {"Reports"}, {"Recommendations", "Agreement"}),
        ((Role.QA_LEAD,), {"Programme", "Escalations", "Agreement", "Imports", "Users", "Teams"}, set()),
    ],
)
def test_the_menu_for_each_role(roles, present, absent):
    user = SimpleNamespace(has_role=lambda *wanted: bool(set(roles) & set(wanted)))
    labels = {item["text"] for item in nav_for(user, "/")}
    assert present <= labels and not (absent & labels), labels
