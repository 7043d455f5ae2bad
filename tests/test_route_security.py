"""Every route the app serves is either on the public allow-list or guarded, and the guard really refuses.

The walk reads the routes from the app itself, so a route added later without a `RoleGuard`
(or without the CSRF check, for an HTML form) fails here without anyone writing a new test.

Since FastAPI 0.137, `app.routes` holds one opaque `_IncludedRouter` per `include_router`
instead of the routes themselves; iterating `app.routes` for `APIRoute`s would see almost
nothing and pass vacuously. `_endpoints` flattens through `app.web.routes.flat_routes` (`iter_route_contexts`)
(falling back to `app.routes` on older versions), and `test_the_walk_sees_every_area` makes
sure the enumeration can never quietly go empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from starlette.routing import Mount, Route

from app.accounts.roles import Role
from app.cases import service as case_service
from app.cases.readers import UploadedFile
from app.date_rules import DueDateRules
from app.escalations.models import Escalation
from app.notifications.models import Notification
from app.recommendations.models import Recommendation
from app.sampling.schemas import CycleCreate, SampleSpec
from app.sampling.service import cycle_create, sample_create
from app.web.auth import SESSION_COOKIE, RoleGuard
from app.web.csrf import CSRF_COOKIE, csrf_token_for, new_nonce, verify_csrf
from app.web.routes import dependency_calls, flat_routes
from tests.factories import (
    api_headers,
    csrf_token,
    login,
    make_audit,
    make_case,
    make_team,
    make_user,
    page_text,
    publish_templates,
)

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_MESSAGE = "could not be sent"

# Routes anyone may call without signing in. Each is checked below for what it gives away.
PUBLIC_ENDPOINTS = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/logout"),
    ("POST", "/logout"),
    ("GET", "/healthz"),
    ("POST", "/api/v1/tokens"),
    ("GET", "/docs"),
    # Single sign-on: starting a sign-in and coming back from the provider are for people not yet signed in; the
    # back-channel logout comes from the provider itself, authenticated by its signed logout token.
    ("GET", "/auth/oidc/login"),
    ("GET", "/auth/oidc/callback"),
    ("POST", "/auth/oidc/backchannel-logout"),
    # The notices a council publishes: for everyone, signed in or not.
    ("GET", "/privacy"),
    ("GET", "/accessibility"),
    # A board member's signed, expiring link to an issued board pack (no account): the token is the authority.
    ("GET", "/board-packs/{token}"),
}
# Unsafe HTML routes without the CSRF check, deliberately: called server to server (no browser, no cookies) and
# authenticated otherwise. Each is tested where it is defined (tests/accounts/sso/test_oidc_flow.py).
CSRF_EXEMPT = {("POST", "/auth/oidc/backchannel-logout")}
# Routes that are not FastAPI endpoints at all: the OpenAPI document and static files.
PUBLIC_OTHER = {("/openapi.json", Route), ("/assets", Mount), ("/static", Mount)}

# A form that would change something on any of the HTML form routes if it were accepted.
CHANGING_FORM = {
    "version": "1",
    "username": "walkervictim",
    "full_name": "Changed By Walker",
    "name": "Changed By Walker",
    "email": "changed@example.org",
    "password": "changed-by-the-walker",
    "roles": "qa_lead",
    "service_area": "Walker area",
    "active": "yes",
    "kind": "auditor",
    "completed_on-day": "1",
    "completed_on-month": "5",
    "completed_on-year": "2025",
    "current_password": "correct-horse-battery",
    "new_password": "changed-by-the-walker",
    "confirm_password": "changed-by-the-walker",
    "next": "/",
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    dependant: Dependant

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def is_public(self) -> bool:
        return (self.method, self.path) in PUBLIC_ENDPOINTS

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _flat_routes(app: FastAPI) -> Iterator[Any]:
    yield from flat_routes(app)


def _endpoints(app: FastAPI) -> list[Endpoint]:
    found = []
    for route in _flat_routes(app):
        original = getattr(route, "original_route", route)
        if isinstance(original, APIRoute):
            for method in sorted(route.methods):
                found.append(Endpoint(method, route.path, route.dependant))
    return found


def _other_routes(app: FastAPI) -> set[tuple[str, type]]:
    found = set()
    for route in _flat_routes(app):
        original = getattr(route, "original_route", route)
        if not isinstance(original, APIRoute):
            found.add((route.path, type(original)))
    return found


def _calls(dependant: Dependant) -> Iterator[Any]:
    yield from dependency_calls(dependant)


def _guards(endpoint: Endpoint) -> list[RoleGuard]:
    return [call for call in _calls(endpoint.dependant) if isinstance(call, RoleGuard)]


def _needed_roles(endpoint: Endpoint) -> frozenset[str]:
    return frozenset().union(*(guard.roles for guard in _guards(endpoint)))


def _database_state(db) -> dict[str, list[str]]:
    """Every row of every table (bar bookkeeping that a read may touch), to show a refusal changed nothing."""
    db.flush()
    connection = db.connection()
    state = {}
    for table in sorted(inspect(connection).get_table_names()):
        if table == "alembic_version":
            continue
        result = connection.execute(text(f'SELECT * FROM "{table}"'))
        keys = list(result.keys())
        rows = []
        for row in result:
            values = {k: v for k, v in zip(keys, row, strict=True) if k != "last_used_at"}
            rows.append(repr(sorted(values.items())))
        state[table] = sorted(rows)
    return state


def _state_diff(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    return [table for table in sorted(set(before) | set(after)) if before.get(table) != after.get(table)]


@pytest.fixture
def world(db):
    """A QA lead, and an existing user and team to put in paths (so a 404 cannot hide a missing check)."""
    team = make_team(db, name="Target team")
    target = make_user(db, username="target", roles=(Role.AUDITOR,), team=team, full_name="Zed Secretname")
    lead = make_user(db, username="lead", roles=(Role.QA_LEAD,))
    case = make_case(db, child_id="WALK0001", team=team)
    case_import = case_service.import_prepare(
        db,
        files=[UploadedFile("walk.csv", b"child_id,case_type\nWALK0002,cin\n")],
        format="csv",
        full=False,
        actor=lead,
        today=date(2026, 11, 26),
    )
    publish_templates(db)
    # An audit allocated to the target auditor: the walk reaches the audit pages' own checks, not a 404.
    audit = make_audit(db, case=case, auditor=target, actor=lead)
    cycle = cycle_create(
        db,
        data=CycleCreate(title="Walk cycle", kind="dip_sample", template_key="dip_sample", due_date=date(2026, 12, 31)),
        actor=lead,
        dates=DueDateRules(today=date(2026, 11, 26), horizon_years=3),
    )
    sample = sample_create(
        db, cycle=cycle, spec=SampleSpec(method="random", size=1, seed=1), today=date(2026, 11, 26), actor=lead
    )
    escalation = Escalation(
        audit_id=audit.id, case_id=case.id, raised_by_id=target.id, recipient_id=lead.id, description="Walk concern"
    )
    db.add(escalation)
    db.flush()
    recommendation = Recommendation(
        text="Walk recommendation",
        audit_id=audit.id,
        case_id=case.id,
        owner_id=target.id,
        team_id=team.id,
        service_area_id=team.service_area_id,
        priority="normal",
        due_date=date(2026, 12, 31),
        raised_by_id=lead.id,
    )
    db.add(recommendation)
    db.flush()
    notification = Notification(
        user_id=target.id,
        recommendation_id=recommendation.id,
        kind="overdue",
        message="Walk notification",
        day=date(2026, 11, 26),
    )
    db.add(notification)
    db.flush()
    from app.reports.packs.models import BoardPackRecord, PackSchedule

    schedule = PackSchedule(
        title="Walk board", frequency="monthly", working_day=5, recipients=["board@example.org"], created_by_id=lead.id
    )
    pack = BoardPackRecord(
        period_kind="month",
        period_value="2026-10",
        service_area_id=team.service_area_id,
        recipients=["board@example.org"],
        commentary="Walk commentary",
        status="issued",
        pdf=b"%PDF-1.7 walk",
        sha256="0" * 64,
        size=13,
        filename="board-pack-walk.pdf",
    )
    db.add_all([schedule, pack])
    db.flush()
    from app.cases.models import LegalHold

    hold = LegalHold(case_id=case.id, reason="Walk legal hold: a complaint", placed_by_id=lead.id)  # still active
    db.add(hold)
    db.flush()
    return {
        "hold": hold,
        "schedule": schedule,
        "pack": pack,
        "notification": notification,
        "team": team,
        "target": target,
        "lead": lead,
        "case": case,
        "case_import": case_import,
        "audit": audit,
        "cycle": cycle,
        "sample": sample,
        "escalation": escalation,
        "recommendation": recommendation,
    }


def _path_params(dependant: Dependant) -> list[Any]:
    """The path parameters an operation reads, its dependencies' included."""
    return [*dependant.path_params, *(p for sub in dependant.dependencies for p in _path_params(sub))]


def _url(endpoint: Endpoint, world) -> str:
    values = {
        "user_id": world["target"].id,
        "team_id": world["team"].id,
        "case_id": world["case"].id,
        "import_id": world["case_import"].id,
        "audit_id": world["audit"].id,
        "section_key": "compliance",
        "key": world["audit"].template_key,
        "version": world["audit"].template_version,
        "cycle_id": world["cycle"].id,
        "sample_id": world["sample"].id,
        "escalation_id": world["escalation"].id,
        "recommendation_id": world["recommendation"].id,
        "notification_id": world["notification"].id,
        "pack_id": world["pack"].id,
        "schedule_id": world["schedule"].id,
        "hold_id": world["hold"].id,
        "token": "walk",
        "table": "grades-overall",
    }
    path = endpoint.path
    # The path's ids are often read by a lookup dependency (app/<area>/lookups.py), not the endpoint itself.
    for name in _path_params(endpoint.dependant):
        assert name.name in values, (
            f"{endpoint}: no existing id for path parameter {name.name!r}; add one to _url so the walk "
            "can reach the route's checks instead of a 404"
        )
        path = path.replace("{" + name.name + "}", str(values[name.name]))
    assert "{" not in path, f"{endpoint}: unfilled path parameter in {path}"
    return path + REQUIRED_QUERY.get(endpoint.path, "")


# Routes that need a query parameter to answer at all (the walk checks their guards, not their validation).
REQUIRED_QUERY = {"/api/v1/sample-size": "?population=312"}


def _call(client: TestClient, endpoint: Endpoint, url: str, *, headers=None, form=None):
    kwargs: dict[str, Any] = {"headers": headers or {}, "follow_redirects": False}
    if endpoint.method in UNSAFE_METHODS:
        if endpoint.is_api:
            kwargs["json"] = {"version": 1}
        else:
            kwargs["data"] = form if form is not None else {}
    return client.request(endpoint.method, url, **kwargs)


def _browser(app: FastAPI, username: str | None = None) -> TestClient:
    """Another browser on the same app (and so the same test database session)."""
    browser = TestClient(app, base_url="http://testserver")
    if username is None:
        browser.get("/login")  # gets a CSRF cookie, as any visitor would
    else:
        assert login(browser, username).status_code == 303
    return browser


# --- The shape of the route table ---------------------------------------------------------------


def test_the_walk_sees_every_area(app):
    seen = {str(e) for e in _endpoints(app)}
    for expected in (
        "GET /",
        "GET /api/v1/me",
        "POST /api/v1/users",
        "POST /users/new",
        "POST /users/{user_id}/status",
        "GET /audit-trail",
        "GET /healthz",
    ):
        assert expected in seen, f"the route walk no longer sees {expected}: {sorted(seen)}"
    assert len(seen) >= 30


def test_public_allow_list_matches_the_app(app):
    seen = {(e.method, e.path) for e in _endpoints(app)}
    assert seen >= PUBLIC_ENDPOINTS, f"allow-listed but gone: {PUBLIC_ENDPOINTS - seen}"
    assert _other_routes(app) == PUBLIC_OTHER, (
        "a route that is not a FastAPI endpoint bypasses RoleGuard; add it deliberately or make it an endpoint"
    )


def test_every_non_public_route_has_a_role_guard(app):
    unguarded = [str(e) for e in _endpoints(app) if not e.is_public and not _guards(e)]
    assert unguarded == []


def test_every_html_form_route_checks_csrf(app):
    missing = [
        str(e)
        for e in _endpoints(app)
        if not e.is_api
        and e.method in UNSAFE_METHODS
        and (e.method, e.path) not in CSRF_EXEMPT
        and verify_csrf not in list(_calls(e.dependant))
    ]
    assert missing == []


def test_no_public_route_is_guarded_by_mistake(app):
    # If a public route grew a guard, signing in would become impossible; keep the list honest.
    guarded = [str(e) for e in _endpoints(app) if e.is_public and _guards(e)]
    assert guarded == []


# --- (a) Anonymous ------------------------------------------------------------------------------


def test_anonymous_is_refused_everywhere_but_the_public_routes(client, db, world):
    anonymous = _browser(client.app)
    token = csrf_token(anonymous)
    before = _database_state(db)
    failures = []
    for endpoint in _endpoints(client.app):
        if endpoint.is_public:
            continue
        url = _url(endpoint, world)
        # HTML forms carry a valid CSRF token, so the sign-in check is what refuses.
        response = _call(anonymous, endpoint, url, form={**CHANGING_FORM, "csrf_token": token})
        if endpoint.is_api:
            ok = (
                response.status_code == 401
                and response.json() == {"detail": "Not authenticated"}
                and response.headers.get("www-authenticate") == "Bearer"
            )
        else:
            ok = response.status_code == 303 and response.headers.get("location", "").startswith("/login?next=/")
        if not ok:
            failures.append(f"{endpoint}: {response.status_code} {response.headers.get('location', '')}")
        if "Zed Secretname" in response.text:
            failures.append(f"{endpoint}: showed a user's name to an anonymous visitor")
    assert failures == []
    assert _state_diff(before, _database_state(db)) == []


def test_anonymous_api_calls_ignore_a_csrf_cookie_and_form(client, db, world):
    # An API route must not fall back to anything a browser sends automatically.
    anonymous = _browser(client.app)
    response = anonymous.post("/api/v1/users", data={"csrf_token": csrf_token(anonymous)})
    assert response.status_code == 401


def test_html_redirect_to_sign_in_keeps_the_page_asked_for(client, world):
    response = client.get(f"/users/{world['target'].id}/edit?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/users/{world['target'].id}/edit%3Fx%3D1"
    htmx = client.get("/users", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 200 and htmx.headers["HX-Redirect"] == "/login?next=/users"


# --- (b) Roles ----------------------------------------------------------------------------------


def test_every_role_restricted_route_refuses_other_roles(client, db, world):
    endpoints = [e for e in _endpoints(client.app) if not e.is_public and _needed_roles(e)]
    assert endpoints, "no role-restricted routes found: the walk is not seeing the app"
    outsiders_needed = {role for e in endpoints for role in Role if role not in _needed_roles(e)}
    browsers, headers = {}, {}
    for role in outsiders_needed:
        make_user(db, username=f"only-{role.value}", roles=(role,))
        browsers[role] = _browser(client.app, f"only-{role.value}")
        headers[role] = api_headers(client, f"only-{role.value}")

    before = _database_state(db)
    failures = []
    for endpoint in endpoints:
        url = _url(endpoint, world)
        outsiders = [role for role in Role if role not in _needed_roles(endpoint)]
        if not outsiders:
            failures.append(f"{endpoint}: every role may call it; cannot test a refusal")
        for role in outsiders:
            if endpoint.is_api:
                response = _call(client, endpoint, url, headers=headers[role])
                refused = response.status_code == 403 and "You need the" in response.json().get("detail", "")
            else:
                browser = browsers[role]
                response = _call(browser, endpoint, url, form={**CHANGING_FORM, "csrf_token": csrf_token(browser)})
                refused = response.status_code == 403 and "You need the" in page_text(response.text)
            if not refused:
                failures.append(f"{endpoint} as {role.value}: {response.status_code}")
            if "Zed Secretname" in response.text:
                failures.append(f"{endpoint} as {role.value}: showed the target user's name")
    assert failures == []
    assert _state_diff(before, _database_state(db)) == []


def test_allowed_roles_do_reach_every_guarded_page(client, db, world):
    """The control for the test above: the same URLs work for a role that is allowed (reads only)."""
    everything = make_user(db, username="everything", roles=tuple(Role))
    assert everything.roles == {r.value for r in Role}
    browser = _browser(client.app, "everything")
    headers = api_headers(client, "everything")
    failures = []
    for endpoint in _endpoints(client.app):
        if endpoint.is_public or endpoint.method != "GET":
            continue
        url = _url(endpoint, world)
        response = _call(client, endpoint, url, headers=headers) if endpoint.is_api else _call(browser, endpoint, url)
        if response.status_code != 200:
            failures.append(f"{endpoint}: {response.status_code}")
        elif response.headers.get("cache-control") != "no-store":  # pages, exports and the API carry personal data
            failures.append(f"{endpoint}: Cache-Control {response.headers.get('cache-control')!r}")
    assert failures == []


# --- (c) CSRF -----------------------------------------------------------------------------------


def _assert_csrf_refusal(response, endpoint) -> str | None:
    if response.status_code != 403 or CSRF_MESSAGE not in page_text(response.text):
        return f"{endpoint}: {response.status_code}"
    return None


def test_every_html_form_refuses_a_missing_or_wrong_csrf_token(client, db, world):
    lead = _browser(client.app, "lead")
    lead_session = lead.cookies.get(SESSION_COOKIE)
    endpoints = [
        e
        for e in _endpoints(client.app)
        if not e.is_api and e.method in UNSAFE_METHODS and (e.method, e.path) not in CSRF_EXEMPT
    ]
    assert endpoints
    other_browsers_token = csrf_token_for(new_nonce(), client.app.state.settings.secret_key)
    before = _database_state(db)
    failures = []
    for endpoint in endpoints:
        url = _url(endpoint, world)
        attempts = {
            "no token": _call(lead, endpoint, url, form=dict(CHANGING_FORM)),
            "empty token": _call(lead, endpoint, url, form={**CHANGING_FORM, "csrf_token": ""}),
            "another browser's token": _call(
                lead, endpoint, url, form={**CHANGING_FORM, "csrf_token": other_browsers_token}
            ),
            "token in header from another browser": _call(
                lead, endpoint, url, headers={"X-CSRF-Token": other_browsers_token}, form=dict(CHANGING_FORM)
            ),
        }
        for label, response in attempts.items():
            problem = _assert_csrf_refusal(response, endpoint)
            if problem:
                failures.append(f"{problem} ({label})")
    assert failures == []
    assert _state_diff(before, _database_state(db)) == []
    # Still signed in: even the refused sign-out did nothing.
    assert lead.cookies.get(SESSION_COOKIE) == lead_session
    assert lead.get("/", follow_redirects=False).status_code == 200


def test_csrf_token_without_its_cookie_is_refused(client, db, world):
    lead = _browser(client.app, "lead")
    token = csrf_token(lead)
    lead.cookies.delete(CSRF_COOKIE)
    before = _database_state(db)
    response = lead.post(
        "/teams", data={"name": "New team", "service_area": "Area", "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 403 and CSRF_MESSAGE in page_text(response.text)
    assert _state_diff(before, _database_state(db)) == []


def test_a_csrf_token_works_only_in_its_own_sign_in_session(client, db, world):
    """Same browser cookie, another session (or none): the token of one session is refused in the other."""
    lead = _browser(client.app, "lead")
    nonce, session_one = lead.cookies.get(CSRF_COOKIE), lead.cookies.get(SESSION_COOKIE)
    token_one = csrf_token(lead)
    login(lead, "lead")  # a second sign-in: a new session and a new nonce
    assert lead.cookies.get(SESSION_COOKIE) != session_one
    assert lead.cookies.get(CSRF_COOKIE) != nonce, "signing in gives the browser a new CSRF nonce"
    lead.cookies.set(CSRF_COOKIE, nonce)  # even with the old nonce put back, the old session's token is refused
    before = _database_state(db)
    response = lead.post(
        "/teams", data={"name": "New team", "service_area": "Area", "csrf_token": token_one}, follow_redirects=False
    )
    assert response.status_code == 403 and CSRF_MESSAGE in page_text(response.text)
    signed_out = csrf_token_for(nonce, client.app.state.settings.secret_key)  # the token a signed-out page had
    response = lead.post(
        "/teams", data={"name": "New team", "service_area": "Area", "csrf_token": signed_out}, follow_redirects=False
    )
    assert response.status_code == 403
    assert _state_diff(before, _database_state(db)) == []


def test_the_change_detector_sees_an_accepted_form(client, db, world):
    """Control for the CSRF walk: the same kind of form, with its token, does change the database."""
    lead = _browser(client.app, "lead")
    before = _database_state(db)
    response = lead.post(
        "/teams",
        data={"name": "New team", "service_area": "Area", "csrf_token": csrf_token(lead)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "team" in _state_diff(before, _database_state(db))
    header = lead.post("/audit-trail/verify", headers={"X-CSRF-Token": csrf_token(lead)}, follow_redirects=False)
    assert header.status_code == 200


# --- The public routes give nothing away --------------------------------------------------------


def test_public_pages_show_no_data_to_anonymous_visitors(client, db, world):
    before = _database_state(db)
    login_page = client.get("/login")
    assert login_page.status_code == 200
    assert "Sign in" in page_text(login_page.text)
    assert "Zed Secretname" not in login_page.text and "target" not in page_text(login_page.text)

    logout_page = client.get("/logout", follow_redirects=False)
    assert logout_page.status_code == 303 and logout_page.headers["location"] == "/login"

    sign_out = client.post("/logout", data={"csrf_token": csrf_token(client)}, follow_redirects=False)
    assert sign_out.status_code == 303 and sign_out.headers["location"] == "/login?signed_out=1"

    health = client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok"}

    schema = client.get("/openapi.json")
    assert schema.status_code == 200 and "Zed Secretname" not in schema.text
    assert client.get("/docs").status_code == 200
    assert client.get("/static/app.css").status_code == 200
    assert _state_diff(before, _database_state(db)) == []


def test_static_assets_may_be_cached_but_nothing_else(client):
    assert client.get("/static/vendor/govuk-frontend/govuk-frontend.min.css").headers.get("cache-control") is None
    for path in ("/login", "/healthz", "/no-such-page", "/api/v1/cases"):
        assert client.get(path).headers["cache-control"] == "no-store", path


def test_static_files_do_not_serve_the_source(client):
    for path in ("/static/../config.py", "/static/%2e%2e/config.py", "/assets/../../config.py"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "secret_key" not in response.text


def test_sign_in_never_redirects_off_site(client, db, world):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        client.cookies.clear()
        client.get("/login")
        response = client.post(
            "/login",
            data={
                "username": "lead",
                "password": "correct-horse-battery",
                "next": target,
                "csrf_token": csrf_token(client),
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/", target


def test_wrong_sign_in_does_not_say_whether_the_username_exists(client, db, world):
    known = client.post(
        "/login", data={"username": "target", "password": "wrong-password", "csrf_token": csrf_token(client)}
    )
    unknown = client.post(
        "/login", data={"username": "no-such-user", "password": "wrong-password", "csrf_token": csrf_token(client)}
    )
    assert known.status_code == unknown.status_code == 400
    assert "Enter a correct username and password" in page_text(known.text)
    assert page_text(known.text).replace("target", "X") == page_text(unknown.text).replace("no-such-user", "X")


# --- (d) Objects: who may reach each object, the same through the pages and the API ----------------------------

# The people around the walk's audit (completed, moderated by Mona) of a case in the target team, and outsiders.
PERSONAS = (
    "lead",  # the QA lead
    "target",  # the audit's auditor, the owner of its recommendation, who raised its escalation
    "auditor_out",  # another auditor
    "mona",  # the moderator of the audit's (decided) round
    "moderator_out",  # another moderator
    "manager_in",  # team manager of the case's team
    "manager_out",  # team manager of another team
    "hos_in",  # head of service of the case's area
    "hos_out",  # head of service of another area
    "worker",  # the case's allocated worker (a practitioner linked to the case)
    "practitioner",  # another practitioner
    "viewer",
    "partner_out",  # a partner representative assigned a section of another audit
)


@pytest.fixture
def matrix(db, world):
    """The walk's world with its audit completed and moderated, and a person for each relation to it."""
    from app.accounts.roles import Agency
    from app.audits.partners.models import SectionPartner
    from app.moderation.models import Moderation

    team, case, audit = world["team"], world["case"], world["audit"]
    other_team = make_team(db, name="Other team", service_area="Other area")
    people = {"lead": world["lead"], "target": world["target"]}
    roles = {
        "auditor_out": ((Role.AUDITOR,), other_team),
        "mona": ((Role.MODERATOR,), other_team),
        "moderator_out": ((Role.MODERATOR,), other_team),
        "manager_in": ((Role.TEAM_MANAGER,), None),
        "manager_out": ((Role.TEAM_MANAGER,), other_team),
        "hos_in": ((Role.HEAD_OF_SERVICE,), None),
        "hos_out": ((Role.HEAD_OF_SERVICE,), None),
        "worker": ((Role.PRACTITIONER,), team),
        "practitioner": ((Role.PRACTITIONER,), other_team),
        "viewer": ((Role.VIEWER,), None),
        "partner_out": ((Role.PARTNER,), None),
    }
    for name, (held, in_team) in roles.items():
        people[name] = make_user(db, username=name, roles=held, team=in_team, full_name=f"Matrix {name}")
    people["hos_in"].service_area_id = team.service_area_id
    people["hos_out"].service_area_id = other_team.service_area_id
    people["partner_out"].agency = Agency.POLICE.value
    team.manager_id = people["manager_in"].id
    other_team.manager_id = people["manager_out"].id
    case.worker_user_id = people["worker"].id
    audit.status, audit.final_grade = "completed", "good"
    db.add_all([*people.values(), team, other_team, case, audit])
    db.add(Moderation(audit_id=audit.id, reason="random", moderator_id=people["mona"].id, status="decided"))
    other_audit = make_audit(
        db, case=make_case(db, child_id="WALK0009", team=other_team), auditor=people["auditor_out"]
    )
    db.add(SectionPartner(audit_id=other_audit.id, section_key="police", partner_id=people["partner_out"].id))
    db.flush()
    return people


def _object_endpoints(app: FastAPI) -> list[Endpoint]:
    return [e for e in _endpoints(app) if not e.is_public and _path_params(e.dependant)]


def _reaches(response) -> bool:
    """Whether the caller got past the route's guard and the object's rule (anything but 401, 403 and 404)."""
    return response.status_code not in (401, 403, 404)


def _observed(client: TestClient, db, world, endpoints: list[Endpoint]) -> dict[str, set[str]]:
    browsers = {name: _browser(client.app, name) for name in PERSONAS}
    headers = {name: api_headers(client, name) for name in PERSONAS}
    seen: dict[str, set[str]] = {}
    for endpoint in endpoints:
        url = _url(endpoint, world)
        seen[str(endpoint)] = set()
        for name in PERSONAS:
            # Each call in a savepoint rolled back after it: a change accepted from one person (an empty form may
            # be enough to start a moderation round) cannot change what the next person is answered.
            undo = db.begin_nested()
            if endpoint.is_api:
                response = _call(client, endpoint, url, headers=headers[name])
            else:
                browser = browsers[name]
                form = {"csrf_token": csrf_token(browser)} if endpoint.method in UNSAFE_METHODS else None
                response = _call(browser, endpoint, url, form=form)
            undo.rollback()
            db.expire_all()
            assert response.status_code < 500, f"{endpoint} as {name}: {response.status_code}"
            if _reaches(response):
                seen[str(endpoint)].add(name)
    return seen


# Who reaches each route with an object id, written out (not derived from the rules the app uses).
READERS = {"lead", "target", "mona", "manager_in", "hos_in"}  # a completed audit: QA lead, auditor, moderator, managers
MODERATION = {"lead", "target", "mona"}
RECOMMENDATION_READERS = {"lead", "target", "mona", "manager_in", "hos_in"}  # owner + source auditor, moderator
EVERYONE = set(PERSONAS)
LEAD = {"lead"}
EXPECTED_REACH: dict[str, set[str]] = {
    "GET /audits/{audit_id}": READERS,
    "GET /audits/{audit_id}/check": READERS,
    "GET /audits/{audit_id}/sections/{section_key}": READERS,
    "GET /audits/{audit_id}/print": READERS,
    "GET /audits/{audit_id}/print.pdf": READERS,
    "GET /api/v1/audits/{audit_id}": READERS,
    "GET /audits/{audit_id}/findings": READERS | {"worker"},
    "POST /audits/{audit_id}/replies": {"worker"},
    "POST /audits/{audit_id}/sections/{section_key}": {"target"},
    "POST /audits/{audit_id}/sections/{section_key}/autosave": {"target"},
    "PUT /api/v1/audits/{audit_id}/answers": {"target"},
    "POST /audits/{audit_id}/submit": {"target"},
    "POST /api/v1/audits/{audit_id}/submit": {"target"},
    "GET /audits/{audit_id}/moderation": MODERATION,
    "GET /audits/{audit_id}/moderation/panel": MODERATION,
    "GET /api/v1/audits/{audit_id}/moderation": MODERATION,
    "POST /audits/{audit_id}/moderation/grade": {"mona"},
    "POST /audits/{audit_id}/moderation/decide": {"mona"},
    "POST /api/v1/audits/{audit_id}/moderation": {"mona"},
    "POST /audits/{audit_id}/moderation/add": LEAD,
    "POST /audits/{audit_id}/moderation/reassign": LEAD,
    "GET /audits/{audit_id}/recommendations": MODERATION,
    "POST /audits/{audit_id}/recommendations": MODERATION,
    "POST /api/v1/audits/{audit_id}/recommendations": MODERATION,
    "GET /audits/{audit_id}/reallocate": LEAD,
    "POST /audits/{audit_id}/reallocate": LEAD,
    "GET /audits/{audit_id}/due-date": LEAD,
    "POST /audits/{audit_id}/due-date": LEAD,
    "GET /audits/{audit_id}/partners": LEAD,
    "POST /audits/{audit_id}/partners": LEAD,
    "GET /api/v1/audits/{audit_id}/partners": LEAD,
    "PUT /api/v1/audits/{audit_id}/partners": LEAD,
    "GET /audits/{audit_id}/panel": READERS,
    "GET /api/v1/audits/{audit_id}/panel": READERS,
    "POST /audits/{audit_id}/panel": LEAD,
    "PUT /api/v1/audits/{audit_id}/panel": LEAD,
    # The case: the QA lead, the area's head of service, its worker, and the auditor of its audit.
    "GET /cases/{case_id}": {"lead", "hos_in", "worker", "target"},
    "GET /api/v1/cases/{case_id}": {"lead", "hos_in", "worker", "target"},
    "GET /api/v1/cases/{case_id}/corrections": {"lead", "hos_in", "worker", "target"},  # the case's readers
    "GET /cases/{case_id}/audits/new": LEAD,
    "POST /cases/{case_id}/audits/new": LEAD,
    # A child's records on request (subject access; the page names the child by ID, not in its path): the QA lead.
    "POST /api/v1/cases/{case_id}/records-request": LEAD,
    # Legal holds: the QA lead only, although others may read the case.
    "GET /cases/{case_id}/legal-hold": LEAD,
    "POST /cases/{case_id}/legal-hold": LEAD,
    "POST /api/v1/cases/{case_id}/legal-hold": LEAD,
    "GET /recommendations/{recommendation_id}": RECOMMENDATION_READERS,
    "GET /api/v1/recommendations/{recommendation_id}": RECOMMENDATION_READERS,
    "POST /recommendations/{recommendation_id}/move": RECOMMENDATION_READERS,
    "PATCH /api/v1/recommendations/{recommendation_id}": RECOMMENDATION_READERS,
    "POST /recommendations/{recommendation_id}/due-date": {"lead", "manager_in", "hos_in"},  # not its owner
    "GET /escalations/{escalation_id}": LEAD,  # its recipient (and the QA lead; and anyone its chase reached)
    "POST /escalations/{escalation_id}/acknowledge": LEAD,
    "GET /api/v1/escalations/{escalation_id}": LEAD,
    "POST /api/v1/escalations/{escalation_id}/acknowledge": LEAD,
    "POST /notifications/{notification_id}/read": {"target"},  # its own user only
    "GET /templates/{key}/{version}": LEAD,
    "GET /api/v1/templates/{key}/{version}": EVERYONE,  # the published template itself holds no personal data
    # An issued board pack of the case's area: the QA lead, viewers and that area's head of service.
    "GET /reports/packs/{pack_id}": {"lead", "hos_in", "viewer"},
    "GET /reports/packs/{pack_id}/pdf": {"lead", "hos_in", "viewer"},
    "GET /reports/packs/{pack_id}/status": {"lead", "hos_in", "viewer"},
    "GET /reports/tables/{table}.csv": {"lead", "hos_in", "hos_out", "viewer"},
    "GET /reports/tables/{table}.xlsx": {"lead", "hos_in", "hos_out", "viewer"},
}
# Everything else with an id (imports, the programme, samples, users, teams) is the QA lead's alone.

# The same action on the same object through a page and through the API: the same people must reach both.
HTML_AND_API = [
    ("GET /audits/{audit_id}", "GET /api/v1/audits/{audit_id}"),
    ("POST /audits/{audit_id}/sections/{section_key}", "PUT /api/v1/audits/{audit_id}/answers"),
    ("POST /audits/{audit_id}/submit", "POST /api/v1/audits/{audit_id}/submit"),
    ("GET /audits/{audit_id}/moderation", "GET /api/v1/audits/{audit_id}/moderation"),
    ("POST /audits/{audit_id}/moderation/grade", "POST /api/v1/audits/{audit_id}/moderation"),
    ("POST /audits/{audit_id}/recommendations", "POST /api/v1/audits/{audit_id}/recommendations"),
    ("GET /audits/{audit_id}/partners", "GET /api/v1/audits/{audit_id}/partners"),
    ("POST /audits/{audit_id}/partners", "PUT /api/v1/audits/{audit_id}/partners"),
    ("GET /audits/{audit_id}/panel", "GET /api/v1/audits/{audit_id}/panel"),
    ("POST /audits/{audit_id}/panel", "PUT /api/v1/audits/{audit_id}/panel"),
    ("GET /cases/{case_id}", "GET /api/v1/cases/{case_id}"),
    ("POST /cases/{case_id}/corrections/new", "POST /api/v1/cases/{case_id}/corrections"),
    ("GET /imports/{import_id}", "GET /api/v1/imports/{import_id}"),
    ("GET /recommendations/{recommendation_id}", "GET /api/v1/recommendations/{recommendation_id}"),
    ("GET /escalations/{escalation_id}", "GET /api/v1/escalations/{escalation_id}"),
    ("POST /escalations/{escalation_id}/acknowledge", "POST /api/v1/escalations/{escalation_id}/acknowledge"),
    ("POST /recommendations/{recommendation_id}/move", "PATCH /api/v1/recommendations/{recommendation_id}"),
    ("POST /programme/{cycle_id}/recommendations/new", "POST /api/v1/cycles/{cycle_id}/recommendations"),
    ("POST /programme/{cycle_id}/samples/new", "POST /api/v1/cycles/{cycle_id}/samples"),
    ("POST /samples/{sample_id}/allocate", "POST /api/v1/samples/{sample_id}/allocate"),
    ("POST /teams/{team_id}/edit", "PATCH /api/v1/teams/{team_id}"),
    ("GET /users/{user_id}", "GET /api/v1/users/{user_id}"),
    ("POST /users/{user_id}/edit", "PATCH /api/v1/users/{user_id}"),
    ("POST /users/{user_id}/training/new", "POST /api/v1/users/{user_id}/training"),
    ("GET /templates/{key}/{version}", "GET /api/v1/templates/{key}/{version}"),
    ("POST /cases/{case_id}/legal-hold", "POST /api/v1/cases/{case_id}/legal-hold"),
    ("POST /legal-holds/{hold_id}/lift", "POST /api/v1/legal-holds/{hold_id}/lift"),
]
# Pairs that differ on purpose, and why.
HTML_AND_API_DIFFER = {
    # The template page is part of the QA lead's template library; the API serves the definition to any client
    # that fills one in (auditors' and partners' tools).
    ("GET /templates/{key}/{version}", "GET /api/v1/templates/{key}/{version}"),
}


def test_every_object_route_answers_exactly_the_people_its_rule_names(client, db, world, matrix, capsys):
    """For every route with an id in its path, each person around the object (and outsiders) is let through or
    refused as the table says; HTML and API routes for the same action let through the same people."""
    endpoints = _object_endpoints(client.app)
    seen = _observed(client, db, world, endpoints)
    with capsys.disabled():
        print(f"\nobject matrix: {len(endpoints)} routes x {len(PERSONAS)} people = {len(endpoints) * len(PERSONAS)}")
    failures = []
    for route, reached in sorted(seen.items()):
        expected = EXPECTED_REACH.get(route, LEAD)
        if reached != expected:
            failures.append(f"{route}: also {sorted(reached - expected)}, not {sorted(expected - reached)}")
    for page, api in HTML_AND_API:
        assert page in seen and api in seen, f"{page} / {api}: no such route"
        if (page, api) not in HTML_AND_API_DIFFER and seen[page] != seen[api]:
            failures.append(f"{page} reaches {sorted(seen[page])} but {api} reaches {sorted(seen[api])}")
    assert failures == []
