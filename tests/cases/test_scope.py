"""Who sees which cases: QA lead all; heads of service and practitioners their service area; others none."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.accounts import service as account_service
from app.accounts.roles import Role
from app.accounts.schemas import UserUpdate
from app.audit_templates.selectors import template_latest
from app.audit_templates.service import templates_publish
from app.audit_trail.models import AuditEvent
from app.audits import case_scope as selectors
from app.audits.case_scope import case_scope_filter
from app.audits.service import audit_start
from app.working_days import calendar_for
from tests.factories import api_headers, login, make_case, make_team, make_user, page_text


@pytest.fixture
def areas(db):
    safeguarding = make_team(db, name="Safeguarding One", service_area="Safeguarding")
    care = make_team(db, name="Care One", service_area="Children in Care")
    return {
        "safeguarding": safeguarding,
        "care": care,
        "mine": make_case(db, child_id="MINE0001", team=safeguarding),
        "theirs": make_case(db, child_id="THEIRS01", team=care),
        "nowhere": make_case(db, child_id="NOAREA01"),
    }


def _head_of_service(db, area: str, username: str = "hos"):
    user = make_user(db, username=username, roles=(Role.HEAD_OF_SERVICE,))
    return account_service.user_update(
        db, user=user, data=UserUpdate(version=user.version, service_area=area), actor=None
    )


def _visible(db, user) -> set[str]:
    from datetime import date

    page = selectors.cases_page(db, user=user, today=date(2026, 11, 26), status="all", page_size=500)
    return {case.child_id for case in page.items}


def test_the_rule_for_each_role(db, areas):
    lead = make_user(db, roles=(Role.QA_LEAD,))
    hos = _head_of_service(db, "Safeguarding")
    practitioner = make_user(db, roles=(Role.PRACTITIONER,), team=areas["care"])
    unplaced = make_user(db, roles=(Role.PRACTITIONER,))
    auditor = make_user(db, roles=(Role.AUDITOR,), team=areas["care"])
    viewer = make_user(db, roles=(Role.VIEWER, Role.MODERATOR), team=areas["care"])
    both = make_user(db, roles=(Role.AUDITOR, Role.PRACTITIONER), team=areas["safeguarding"])

    assert case_scope_filter(lead) is None
    assert _visible(db, lead) == {"MINE0001", "THEIRS01", "NOAREA01"}
    assert _visible(db, hos) == {"MINE0001"}
    assert _visible(db, practitioner) == {"THEIRS01"}  # their team's service area
    assert _visible(db, unplaced) == set()  # no area: nothing
    assert _visible(db, auditor) == set()  # auditors: allocated cases only (none here)
    assert _visible(db, viewer) == set()
    assert _visible(db, both) == {"MINE0001"}  # union of what each role grants


def test_head_of_service_cannot_list_or_open_a_case_outside_their_area(client, db, areas):
    _head_of_service(db, "Safeguarding")
    assert login(client, "hos").status_code == 303
    listed = client.get("/cases", params={"status": "all"})
    assert listed.status_code == 200
    assert "MINE0001" in listed.text and "THEIRS01" not in listed.text and "NOAREA01" not in listed.text
    # Even asked for by filter or search, it is not there.
    for params in (
        {"q": "THEIRS01"},
        {"team_id": areas["care"].id},
        {"service_area_id": areas["care"].service_area_id},
    ):
        response = client.get("/cases", params=params)
        assert "No cases found" in page_text(response.text) and 'href="/cases/' not in response.text
    # The filters offer only their own area and its teams.
    assert "Care One" not in listed.text and "Safeguarding One" in listed.text

    own = client.get(f"/cases/{areas['mine'].id}")
    assert own.status_code == 200 and "MINE0001" in own.text
    other = client.get(f"/cases/{areas['theirs'].id}")
    unknown = client.get("/cases/987654321")
    assert other.status_code == unknown.status_code == 404
    assert "THEIRS01" not in other.text
    assert page_text(other.text) == page_text(unknown.text)  # does not reveal that it exists
    views = db.execute(select(AuditEvent.entity_id).where(AuditEvent.action == "case.view")).scalars().all()
    assert views == [str(areas["mine"].id)]


def test_head_of_service_cannot_fetch_a_case_outside_their_area_by_api(client, db, areas):
    _head_of_service(db, "Safeguarding")
    headers = api_headers(client, "hos")
    listed = client.get("/api/v1/cases", params={"status": "all"}, headers=headers).json()
    assert [c["child_id"] for c in listed["items"]] == ["MINE0001"] and listed["total"] == 1
    by_name = client.get("/api/v1/cases", params={"service_area": "Children in Care"}, headers=headers).json()
    assert by_name["total"] == 0
    assert client.get(f"/api/v1/cases/{areas['mine'].id}", headers=headers).status_code == 200
    other = client.get(f"/api/v1/cases/{areas['theirs'].id}", headers=headers)
    assert other.status_code == 404 and "THEIRS01" not in other.text
    assert other.json() == {"detail": f"Case {areas['theirs'].id} not found"}


def test_head_of_service_without_an_area_sees_nothing_and_is_told_why(client, db, areas):
    make_user(db, username="hos2", roles=(Role.HEAD_OF_SERVICE,))
    login(client, "hos2")
    response = client.get("/cases")
    assert response.status_code == 200
    assert "your account has no service area" in page_text(response.text)
    assert client.get(f"/cases/{areas['mine'].id}").status_code == 404


def test_an_auditor_sees_only_the_cases_allocated_to_them(client, db, areas):
    templates_publish(db)
    lead = make_user(db, username="lead", roles=(Role.QA_LEAD,))
    auditor = make_user(db, username="aud", roles=(Role.AUDITOR,), team=areas["care"])
    audit_start(
        db,
        case=areas["theirs"],
        template=template_latest(db, key="dip_sample"),
        auditor=auditor,
        actor=lead,
        today=date(2026, 11, 26),
        calendar=calendar_for("england_and_wales"),
    )
    assert _visible(db, auditor) == {"THEIRS01"}
    login(client, "aud")
    assert client.get(f"/cases/{areas['theirs'].id}").status_code == 200
    assert client.get(f"/cases/{areas['mine'].id}").status_code == 404
    headers = api_headers(client, "aud")
    listed = client.get("/api/v1/cases", params={"status": "all"}, headers=headers).json()
    assert [c["child_id"] for c in listed["items"]] == ["THEIRS01"]


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.VIEWER])
def test_roles_without_case_access_are_refused(client, db, areas, role):
    make_user(db, username="outsider", roles=(role,), team=areas["safeguarding"])
    login(client, "outsider")
    for url in ("/cases", f"/cases/{areas['mine'].id}"):
        response = client.get(url)
        assert response.status_code == 403 and "MINE0001" not in response.text
    headers = api_headers(client, "outsider")
    for url in ("/api/v1/cases", f"/api/v1/cases/{areas['mine'].id}"):
        response = client.get(url, headers=headers)
        assert response.status_code == 403 and "MINE0001" not in response.text
    assert db.execute(select(AuditEvent).where(AuditEvent.action == "case.view")).first() is None


def test_anonymous_is_sent_to_sign_in(client, areas):
    response = client.get(f"/cases/{areas['mine'].id}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=/cases/")
    assert client.get("/api/v1/cases").status_code == 401


def test_moving_a_team_to_another_area_moves_its_cases_and_recommendations_with_it(client, db, areas):
    """The old head of service stops seeing the team's children and the new one sees all of them, at once."""
    from app.accounts.models import Team
    from app.recommendations.models import Recommendation

    lead = make_user(db, username="lead", roles=(Role.QA_LEAD,))
    old_hos = _head_of_service(db, "Safeguarding", username="old.hos")
    new_hos = _head_of_service(db, "Children in Care", username="new.hos")
    closed = make_case(db, child_id="MINE0002", team=areas["safeguarding"], status="closed")
    recommendation = Recommendation(
        text="Chronology",
        priority="normal",
        status="open",
        due_date=date(2027, 1, 31),
        team_id=areas["safeguarding"].id,
        service_area_id=areas["safeguarding"].service_area_id,
        case_id=areas["mine"].id,
        owner_id=lead.id,
        raised_by_id=lead.id,
    )
    db.add(recommendation)
    db.flush()
    assert {"MINE0001", "MINE0002"} <= _visible(db, old_hos)

    team = db.get(Team, areas["safeguarding"].id)
    response = client.patch(
        f"/api/v1/teams/{team.id}",
        json={"version": team.version, "service_area": "Children in Care"},
        headers=api_headers(client, "lead"),
    )
    assert response.status_code == 200, response.text
    db.expire_all()
    assert _visible(db, old_hos) == set()
    assert {"MINE0001", "MINE0002", "THEIRS01"} <= _visible(db, new_hos)
    care_area = db.get(Team, areas["care"].id).service_area_id
    assert db.get(Recommendation, recommendation.id).service_area_id == care_area
    assert db.get(type(closed), closed.id).service_area_id == care_area

    event = db.execute(select(AuditEvent).where(AuditEvent.action == "team.move")).scalars().one()
    assert event.actor_id == lead.id
    assert (
        event.summary
        == "Team Safeguarding One moved from Safeguarding to Children in Care with 2 cases, 1 recommendations"
    )
    assert (event.before["service_area"], event.after["service_area"]) == ("Safeguarding", "Children in Care")
    assert (event.after["cases"], event.after["recommendations"]) == (2, 1)

    # The old head of service is refused the moved child's page; the new one may open it.
    login(client, "old.hos")
    assert client.get(f"/cases/{areas['mine'].id}").status_code == 404
    login(client, "new.hos")
    assert client.get(f"/cases/{areas['mine'].id}").status_code == 200
