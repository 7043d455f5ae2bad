"""Plain functions that build rows for tests, and helpers that act as a signed-in browser or API client."""

from __future__ import annotations

import itertools
import re
from datetime import date
from functools import lru_cache

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts import service
from app.accounts.models import Team, User
from app.accounts.passwords import password_hash
from app.accounts.roles import Role, TrainingKind
from app.accounts.schemas import TeamCreate, TrainingCreate, UserCreate
from app.web.auth import SESSION_COOKIE
from app.web.csrf import CSRF_COOKIE, csrf_token_for

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


@lru_cache(maxsize=8)
def _hash(password: str) -> str:
    return password_hash(password)


def make_team(db: Session, *, name: str | None = None, service_area: str = "Safeguarding") -> Team:
    return service.team_create(
        db, data=TeamCreate(name=name or f"Team {next(_counter)}", service_area=service_area), actor=None
    )


def make_user(
    db: Session,
    *,
    username: str | None = None,
    roles: tuple[Role, ...] = (Role.AUDITOR,),
    password: str = PASSWORD,
    team: Team | None = None,
    full_name: str | None = None,
    active: bool = True,
    agency: str | None = None,
    partner_agreement_until: date | None = None,
) -> User:
    """A user; a partner agency representative's agency defaults to "other" (a partner needs one)."""
    username = username or f"user{next(_counter)}"
    if agency is None and Role.PARTNER in roles:
        agency = "other"
    user = service.user_create(
        db,
        data=UserCreate.model_validate(
            {
                "username": username,
                "password": password,
                "roles": list(roles),
                "full_name": full_name or username.replace(".", " ").title(),
                "team_id": team.id if team else None,
                "agency": agency,
                "partner_agreement_until": partner_agreement_until,
            }
        ),
        actor=None,
        hashed_password=_hash(password),
    )
    if not active:
        user.active = False
        db.add(user)
        db.flush()
    return user


def add_training(db: Session, user: User, kind: TrainingKind, completed_on: date, expires_on: date | None = None):
    return service.training_record_add(
        db, user=user, data=TrainingCreate(kind=kind, completed_on=completed_on, expires_on=expires_on), actor=None
    )


def csrf_token(client: TestClient) -> str:
    """The CSRF token the browser's pages carry (the client must have fetched a page first)."""
    nonce = client.cookies.get(CSRF_COOKIE)
    if nonce is None:
        client.get("/login")
        nonce = client.cookies.get(CSRF_COOKIE)
    assert nonce, "no CSRF cookie was set"
    return csrf_token_for(nonce, client.app.state.settings.secret_key, client.cookies.get(SESSION_COOKIE))


def login(client: TestClient, username: str, password: str = PASSWORD, *, follow: bool = False):
    """Sign in through the real form, CSRF token and all."""
    client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client), "next": "/"},
        follow_redirects=follow,
    )


def post_form(client: TestClient, url: str, data: dict | None = None, **kwargs):
    """POST a form as the signed-in browser would, with its CSRF token."""
    payload = dict(data or {})
    payload.setdefault("csrf_token", csrf_token(client))
    return client.post(url, data=payload, follow_redirects=False, **kwargs)


def api_headers(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/tokens", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def page_text(html: str) -> str:
    """Visible-ish text of a page, white space folded, for assertions about what a user reads."""
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(text.split())


def make_case(db: Session, **fields):
    """A case in the register; `team` (a Team) sets team and service area. Other fields as on Case."""
    from app.cases.models import Case

    team = fields.pop("team", None)
    number = next(_counter)
    values = {
        "child_id": f"C{number:07d}",
        "source": "csv",
        "source_lists": ["csv"],
        "case_type": "cin",
        "status": "open",
        "facts_hash": f"{number:064d}",
        "involvements": {},
    }
    if team is not None:
        values.update(team_id=team.id, service_area_id=team.service_area_id)
    worker, manager = fields.pop("worker", None), fields.pop("manager", None)
    if worker is not None:  # the QA lead has mapped this case's worker to the account (app.cases.people)
        values["worker_name"] = fields.pop("worker_name", worker.full_name)
        if team is None and not fields.get("worker_id"):
            values["worker_id"] = f"CMS-{worker.id}"
    values.update(fields)
    case = Case(**values)
    db.add(case)
    db.flush()
    if worker is not None or manager is not None:
        map_people(db, case, worker=worker, manager=manager)
    return case


def map_people(db: Session, case, *, worker=None, manager=None) -> None:
    """Link the case's worker (by the QA lead's mapping) and its team manager (the team's manager) to accounts."""
    from app.accounts.models import Team
    from app.cases.models import WorkerLink
    from app.cases.people import people_resolve, worker_key

    if worker is not None:
        key = worker_key(case.worker_id, case.team_id, case.worker_name)
        assert key, "a mapped worker needs a worker id, or a name and a team"
        db.add(WorkerLink(link_key=key, user_id=worker.id))
        db.flush()
    if manager is not None and case.team_id is not None:
        team = db.get(Team, case.team_id)
        team.manager_id = manager.id
        db.add(team)
        db.flush()
    people_resolve(db)
    if manager is not None and case.team_id is None:
        case.manager_user_id = manager.id
        db.add(case)
        db.flush()
    db.refresh(case)


def publish_templates(db: Session):
    """Publish the shipped audit templates in the test's transaction (as `caseaudit templates publish` does)."""
    from app.audit_templates.service import templates_publish

    return templates_publish(db)


def make_audit(
    db: Session,
    *,
    case,
    auditor: User,
    template_key: str = "dip_sample",
    actor: User | None = None,
    today: date | None = None,
    version: int | None = None,
):
    """An audit of `case` on `version` (default: the newest published version) of `template_key` (publish the
    templates first)."""
    from app.audit_templates.selectors import template_latest, template_version_get
    from app.audits.service import audit_start
    from app.working_days import calendar_for

    template = (
        template_latest(db, key=template_key)
        if version is None
        else template_version_get(db, key=template_key, version=version)
    )
    assert template is not None, f"template {template_key!r} is not published: call publish_templates(db) first"
    return audit_start(
        db,
        case=case,
        template=template,
        auditor=auditor,
        actor=actor or auditor,
        today=today or date(2026, 11, 26),
        calendar=calendar_for("england_and_wales"),
    )
