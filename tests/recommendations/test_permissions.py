"""Who may read, verify, re-date and raise recommendations: the pure rules (`app.recommendations.permissions`), and
the pages and the API answering the same people through the same lookups (the auditor and the moderators of the
audit a recommendation came from read it; a moderator grading that audit blind does not, nor raises from it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.roles import Role
from app.moderation.models import Moderation
from app.recommendations import permissions, scope
from app.recommendations.models import Recommendation
from app.recommendations.permissions import RecommendationAccess
from tests.factories import api_headers, csrf_token, login, make_audit, make_case, make_user
from tests.recommendations.conftest import make_item

# --- The pure rules ----------------------------------------------------------------------------------------------

AREA, OTHER_AREA, TEAM = 7, 8, 70
OWNER, RAISER, MANAGER, AUDITOR, MODERATOR, BLIND, HOS, STRANGER = range(1, 9)


@dataclass
class Person:
    id: int | None
    roles: tuple[str, ...] = ()
    area: int | None = None
    active: bool = True
    team_id: int | None = None
    _roles: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self._roles = set(self.roles)

    @property
    def scope_service_area_id(self) -> int | None:
        return self.area

    def has_role(self, *roles: str) -> bool:
        return bool(self._roles.intersection(roles))


def _access(*, audit: bool = True, **item_fields) -> RecommendationAccess:
    item = Recommendation(
        text="Update the plan",
        audit_id=100 if audit else None,
        case_id=200,
        owner_id=OWNER,
        raised_by_id=RAISER,
        team_id=TEAM,
        service_area_id=AREA,
        priority="normal",
        due_date=date(2026, 12, 31),
        **item_fields,
    )
    return RecommendationAccess(
        item=item,
        team_manager_id=MANAGER,
        audit_auditor_id=AUDITOR if audit else None,
        audit_moderator_ids=frozenset({MODERATOR, BLIND}) if audit else frozenset(),
        audit_blind_ids=frozenset({BLIND}) if audit else frozenset(),
    )


PEOPLE = {
    "lead": Person(99, (Role.QA_LEAD,)),
    "owner": Person(OWNER, (Role.PRACTITIONER,)),
    "raiser": Person(RAISER, (Role.AUDITOR,)),
    "manager": Person(MANAGER, (Role.TEAM_MANAGER,)),
    "auditor": Person(AUDITOR, (Role.AUDITOR,)),
    "moderator": Person(MODERATOR, (Role.MODERATOR,)),
    "blind": Person(BLIND, (Role.MODERATOR,)),
    "hos": Person(HOS, (Role.HEAD_OF_SERVICE,), area=AREA),
    "other_hos": Person(HOS, (Role.HEAD_OF_SERVICE,), area=OTHER_AREA),
    "stranger": Person(STRANGER, (Role.AUDITOR, Role.MODERATOR, Role.PRACTITIONER)),
    "nobody": Person(None, (Role.AUDITOR,)),
}


@pytest.mark.parametrize(
    "who, reads, verifies, redates",
    [
        ("lead", True, True, True),
        ("owner", True, False, False),  # progresses it; never verifies or re-dates their own
        ("raiser", True, True, True),
        ("manager", True, False, True),
        ("auditor", True, True, True),  # the auditor of the audit it came from
        ("moderator", True, False, False),  # a moderator of that audit reads it
        ("blind", False, False, False),  # ...but not while grading it blind
        ("hos", True, True, True),
        ("other_hos", False, False, False),
        ("stranger", False, False, False),
        ("nobody", False, False, False),
    ],
)
def test_who_reads_verifies_and_redates(who, reads, verifies, redates):
    person, access = PEOPLE[who], _access()
    assert permissions.may_read_recommendation(person, access) is reads
    assert permissions.may_verify(person, access) is verifies
    assert permissions.may_change_due_date(person, access) is redates


def test_a_deactivated_account_may_do_nothing():
    access = _access()
    for who in ("lead", "owner", "auditor", "hos", "moderator"):
        person = PEOPLE[who]
        gone = Person(person.id, person.roles, area=person.area, active=False)
        assert not permissions.may_read_recommendation(gone, access), who
        assert not permissions.may_verify(gone, access), who
        assert not permissions.may_change_due_date(gone, access), who


def test_a_thematic_recommendation_has_no_auditor_or_moderator():
    access = _access(audit=False, cycle_id=5)
    assert not permissions.audited_it(PEOPLE["auditor"], access)
    assert not permissions.may_read_recommendation(PEOPLE["auditor"], access)
    assert not permissions.may_read_recommendation(PEOPLE["moderator"], access)
    assert permissions.may_read_recommendation(PEOPLE["raiser"], access)


def test_a_team_manager_of_no_team_manages_nothing():
    access = RecommendationAccess(item=_access().item.model_copy(update={"team_id": None}), team_manager_id=MANAGER)
    assert not permissions.manages_its_team(PEOPLE["manager"], access)


def test_thematic_raising_and_the_dashboard():
    assert permissions.may_raise_thematic(PEOPLE["lead"])
    assert not permissions.may_raise_thematic(PEOPLE["hos"])
    assert not permissions.may_raise_thematic(Person(1, (Role.QA_LEAD,), active=False))
    assert permissions.may_view_dashboard(PEOPLE["lead"]) and permissions.may_view_dashboard(PEOPLE["hos"])
    assert not permissions.may_view_dashboard(Person(HOS, (Role.HEAD_OF_SERVICE,)))  # no service area
    assert not permissions.may_view_dashboard(PEOPLE["auditor"])


def test_everyone_the_read_rule_can_name_holds_a_recommendation_role():
    # Whoever the rules let read one can reach the routes: the guard is not narrower than the rule.
    for who in ("owner", "raiser", "manager", "auditor", "moderator", "hos"):
        assert PEOPLE[who].has_role(*permissions.RECOMMENDATION_ROLES), who
    assert not Person(1, (Role.VIEWER,)).has_role(*permissions.RECOMMENDATION_ROLES)


# --- The same rule in the database, on the pages and in the API ------------------------------------------------


def _user(db, username: str) -> User:
    return db.execute(select(User).where(User.username == username)).scalar_one()


def _round(db, audit, moderator, *, status="decided", number=1, blind=True) -> Moderation:
    row = Moderation(
        audit_id=audit.id, round=number, reason="added", moderator_id=moderator.id, status=status, blind=blind
    )
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def source(db, world):
    """A recommendation the QA lead raised from the auditor's audit, owned by the case's worker; a moderator who has
    graded that audit; another who is grading it blind; and an auditor with nothing to do with it."""
    item = make_item(db, world, raised_by_id=world.lead.id)
    moderator = make_user(db, username="moderator", roles=(Role.MODERATOR,), full_name="Mina Moderator")
    blind = make_user(db, username="blind", roles=(Role.MODERATOR,), full_name="Bo Blind")
    make_user(db, username="stranger", roles=(Role.AUDITOR,), full_name="Sam Stranger")
    _round(db, world.audit, moderator)
    # Someone else's audit, which the blind moderator has graded: they moderate, but not this audit.
    other = make_audit(db, case=make_case(db, team=world.team), auditor=world.auditor, actor=world.lead)
    _round(db, other, blind)
    return item


URL = "/api/v1/recommendations"


@pytest.mark.parametrize("username", ["auditor", "moderator"])
def test_the_auditor_and_a_moderator_of_its_audit_read_it_everywhere(client, db, world, source, username):
    item = source
    assert item.raised_by_id != world.auditor.id  # the auditor reads it as the audit's auditor, not its raiser
    headers = api_headers(client, username)
    response = client.get(f"{URL}/{item.id}", headers=headers)
    assert response.status_code == 200 and response.json()["id"] == item.id
    assert item.id in [i["id"] for i in client.get(URL, headers=headers).json()["items"]]
    login(client, username)
    page = client.get(f"/recommendations/{item.id}")
    assert page.status_code == 200 and "Update the chronology" in page.text
    assert f'href="/recommendations/{item.id}"' in client.get("/recommendations").text


def test_an_unrelated_auditor_gets_404_on_the_page_and_the_api(client, db, world, source):
    item = source
    headers = api_headers(client, "stranger")
    assert client.get(f"{URL}/{item.id}", headers=headers).status_code == 404
    assert (
        client.patch(f"{URL}/{item.id}", headers=headers, json={"version": 1, "status": "in_progress"}).status_code
        == 404
    )
    assert client.get(URL, headers=headers).json()["total"] == 0
    login(client, "stranger")
    assert client.get(f"/recommendations/{item.id}").status_code == 404
    # The same answer as for a recommendation that does not exist.
    assert (
        client.get(f"{URL}/999999", headers=headers).json()["detail"]
        == "There is no recommendation 999999, or it is not one you can see."
    )
    assert client.get(f"{URL}/{item.id}", headers=headers).json()["detail"] == (
        f"There is no recommendation {item.id}, or it is not one you can see."
    )


def test_a_moderator_grading_the_audit_blind_does_not_see_it(client, db, world, source):
    item = source
    _round(db, world.audit, _user(db, "blind"), status="allocated", number=2)
    headers = api_headers(client, "blind")
    assert client.get(f"{URL}/{item.id}", headers=headers).status_code == 404
    assert client.get(URL, headers=headers).json()["total"] == 0
    login(client, "blind")
    assert client.get(f"/recommendations/{item.id}").status_code == 404


def test_the_auditor_of_the_source_audit_verifies_through_the_api(client, db, world, source):
    item = source
    item.status, item.evidence = "completed", "Done"
    db.add(item)
    db.flush()
    response = client.patch(
        f"{URL}/{item.id}", headers=api_headers(client, "auditor"), json={"version": item.version, "status": "closed"}
    )
    assert response.status_code == 200 and response.json()["status"] == "closed"


def test_a_moderator_of_the_audit_reads_but_may_not_verify(client, db, world, source):
    item = source
    item.status, item.evidence = "completed", "Done"
    db.add(item)
    db.flush()
    headers = api_headers(client, "moderator")
    response = client.patch(f"{URL}/{item.id}", headers=headers, json={"version": item.version, "status": "closed"})
    assert response.status_code == 403
    login(client, "moderator")
    page = client.get(f"/recommendations/{item.id}")
    assert page.status_code == 200 and "Verify it" not in page.text


def test_visible_condition_is_the_read_rule(db, world, source):
    """The SQL every list uses names exactly those the rule lets read (for each person and each recommendation)."""
    elsewhere = make_item(db, world, case=world.other_case, owner=world.bystander)
    blind = _user(db, "blind")
    _round(db, world.audit, blind, status="allocated", number=2)
    people = [
        world.lead,
        world.auditor,
        world.owner,
        world.manager,
        world.hos,
        world.other_hos,
        world.bystander,
        world.viewer,
        blind,
        *db.execute(select(User).where(User.username.in_(["moderator", "stranger"]))).scalars(),
    ]
    for user in people:
        ids = set(db.execute(select(Recommendation.id).where(scope.visible_condition(db, user=user))).scalars())
        for item in (source, elsewhere):
            assert scope.may_see(db, user=user, item=item) == (item.id in ids), (user.username, item.id)
    moderator = next(u for u in people if u.username == "moderator")
    assert scope.may_see(db, user=moderator, item=source) and not scope.may_see(db, user=blind, item=source)


# --- Raising from an audit: the page and the API agree -------------------------------------------------------------


def test_a_moderator_grading_blind_cannot_raise_from_the_page_or_the_api(client, db, world, source):
    blind = _user(db, "blind")
    _round(db, world.audit, blind, status="allocated", number=2)
    before = db.execute(select(func.count()).select_from(Recommendation)).scalar_one()
    body = {"text": "Record the child's views", "priority": "normal", "owner_id": world.owner.id}
    api = client.post(
        f"/api/v1/audits/{world.audit.id}/recommendations", headers=api_headers(client, "blind"), json=body
    )
    assert api.status_code == 404
    login(client, "blind")
    assert client.get(f"/audits/{world.audit.id}/recommendations").status_code == 404
    form = {
        "text": "Record the child's views",
        "owner_id": str(world.owner.id),
        "priority": "normal",
        "csrf_token": csrf_token(client),
    }
    assert client.post(f"/audits/{world.audit.id}/recommendations", data=form).status_code == 404
    assert db.execute(select(func.count()).select_from(Recommendation)).scalar_one() == before


def test_once_graded_the_moderator_raises_from_both(client, db, world, source):
    body = {"text": "Record the child's views", "priority": "normal", "owner_id": world.owner.id}
    api = client.post(
        f"/api/v1/audits/{world.audit.id}/recommendations", headers=api_headers(client, "moderator"), json=body
    )
    assert api.status_code == 201
    login(client, "moderator")
    assert client.get(f"/audits/{world.audit.id}/recommendations").status_code == 200
