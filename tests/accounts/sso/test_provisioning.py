"""Who gets in with single sign-on, and as what: matching, provisioning, deactivation and role sync, and the trail."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from app.accounts.auth import token_issue
from app.accounts.models import AuthToken, User
from app.accounts.passwords import password_verify
from app.accounts.roles import Role
from app.accounts.sso.mapping import parse_mapping
from app.accounts.sso.provisioning import (
    JUST_DEACTIVATED,
    REASONS,
    Identity,
    SsoResult,
    mapping_unknown_names,
    sso_refusal_record,
    sso_sign_in,
)
from app.audit_trail.models import AuditEvent
from tests.factories import PASSWORD, make_team, make_user

ISSUER = "https://login.example.org/tenant/v2.0"

MAPPING = parse_mapping(
    """
groups:
  - group: qa-leads
    roles: [qa_lead, auditor]
  - group: auditors
    roles: [auditor]
  - group: moderators
    roles: [moderator]
  - group: team-hillside
    roles: [practitioner]
    team: Hillside
  - group: team-riverside
    roles: [practitioner]
    team: Riverside
  - group: hos-north
    roles: [head_of_service]
    service_area: North
  - group: police-partners
    roles: [partner]
    agency: police
  - group: team-nowhere
    roles: [practitioner]
    team: Nowhere
  - group: hos-nowhere
    roles: [head_of_service]
    service_area: Nowhere
""",
    source="sso.yaml",
)


@pytest.fixture
def teams(db: Session) -> dict[str, Any]:
    return {
        "Hillside": make_team(db, name="Hillside", service_area="North"),
        "Riverside": make_team(db, name="Riverside", service_area="South"),
    }


def _identity(
    subject: str = "sub-0001",
    *,
    email: str | None = "asha.patel@council.example.gov.uk",
    groups: tuple[str, ...] = ("auditors",),
    name: str | None = "Asha Patel",
    username: str | None = None,
) -> Identity:
    return Identity(issuer=ISSUER, subject=subject, email=email, name=name, username=username, groups=groups)


def _events(db: Session, action: str | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(col(AuditEvent.id))
    if action is not None:
        stmt = stmt.where(col(AuditEvent.action) == action)
    return list(db.execute(stmt).scalars())


def _sso_events(db: Session) -> list[AuditEvent]:
    return [e for e in _events(db) if ".sso_" in e.action]


def _users(db: Session) -> int:
    return db.execute(select(func.count()).select_from(User)).scalar_one()


def _assert_no_personal_data(db: Session) -> None:
    """Summaries name accounts by id: never an email, a name or the subject."""
    for event in _sso_events(db):
        text = f"{event.summary} {event.after} {event.before}".lower()
        for personal in ("asha", "patel", "@", "sub-0"):
            assert personal not in text, (event.action, text)


# --- only pre-provisioned accounts ----------------------------------------------------------------------------


def test_someone_without_an_account_is_refused_when_users_are_not_created(db):
    before = _users(db)
    outcome = sso_sign_in(db, identity=_identity(), mapping=MAPPING, create_users=False)
    assert outcome.result == SsoResult.NOT_PROVISIONED
    assert outcome.user is None
    assert outcome.reason == REASONS["not_provisioned"]
    assert _users(db) == before
    [event] = _sso_events(db)
    assert event.action == "auth.sso_refused"
    assert event.actor_id is None and event.actor_label == "sso"
    assert event.after == {"reason": "not_provisioned", "issuer": ISSUER}
    _assert_no_personal_data(db)


def test_a_pre_provisioned_account_is_matched_by_email_ignoring_case_and_keeps_the_subject(db):
    user = make_user(db, username="asha", roles=(Role.AUDITOR,))
    user.email = "Asha.Patel@Council.example.gov.uk"
    db.add(user)
    db.flush()
    outcome = sso_sign_in(db, identity=_identity(), mapping=MAPPING, create_users=False)
    assert outcome.result == SsoResult.OK
    assert outcome.reason == ""
    assert outcome.user is not None and outcome.user.id == user.id
    db.refresh(user)
    assert (user.sso_issuer, user.sso_subject) == (ISSUER, "sub-0001")
    assert user.email == "Asha.Patel@Council.example.gov.uk"  # the same address: left as it was written
    assert user.last_login_at is not None
    [event] = _sso_events(db)
    assert event.action == "auth.sso_sign_in"
    assert event.actor_id == user.id and event.entity_id == str(user.id)
    assert event.after == {"issuer": ISSUER, "linked": True}
    _assert_no_personal_data(db)


def test_the_subject_is_kept_across_a_change_of_email_never_a_second_person(db):
    user = make_user(db, username="asha")
    user.email = "asha.patel@council.example.gov.uk"
    db.add(user)
    db.flush()
    sso_sign_in(db, identity=_identity(), mapping=MAPPING, create_users=True)
    count = _users(db)
    version = user.version

    renamed = _identity(email="asha.khan@council.example.gov.uk", name="Asha Khan")
    outcome = sso_sign_in(db, identity=renamed, mapping=MAPPING, create_users=True)
    assert outcome.result == SsoResult.OK
    assert outcome.user is not None and outcome.user.id == user.id
    assert _users(db) == count
    db.refresh(user)
    assert user.email == "asha.khan@council.example.gov.uk"
    assert user.version == version + 1  # an edit of the account: an open edit form sees it
    assert _events(db, "auth.sso_sign_in")[-1].after == {"issuer": ISSUER, "email": "changed"}
    _assert_no_personal_data(db)


def test_the_subject_wins_over_an_email_another_account_has(db):
    first = make_user(db, username="first")
    first.sso_issuer, first.sso_subject = ISSUER, "sub-0001"
    other = make_user(db, username="other")
    other.email = "asha.patel@council.example.gov.uk"
    db.add_all([first, other])
    db.flush()
    outcome = sso_sign_in(db, identity=_identity(), mapping=MAPPING, create_users=True)
    assert outcome.user is not None and outcome.user.id == first.id
    db.refresh(other)
    assert other.sso_subject is None


def test_an_account_already_linked_to_another_subject_is_not_matched_by_email(db):
    linked = make_user(db, username="linked")
    linked.email = "asha.patel@council.example.gov.uk"
    linked.sso_issuer, linked.sso_subject = ISSUER, "sub-other"
    db.add(linked)
    db.flush()
    outcome = sso_sign_in(db, identity=_identity(), mapping=MAPPING, create_users=False)
    assert outcome.result == SsoResult.NOT_PROVISIONED
    db.refresh(linked)
    assert linked.sso_subject == "sub-other"


def test_an_email_that_two_accounts_have_matches_neither(db):
    for name in ("one", "two"):
        user = make_user(db, username=name)
        user.email = "asha.patel@council.example.gov.uk"
        db.add(user)
    db.flush()
    count = _users(db)
    outcome = sso_sign_in(db, identity=_identity(), mapping=MAPPING, create_users=True)
    assert outcome.result == SsoResult.NOT_PROVISIONED
    assert "More than one account" in outcome.reason
    assert _users(db) == count
    assert _events(db, "auth.sso_refused")[-1].after == {"reason": "ambiguous_email", "issuer": ISSUER}


def test_no_email_and_no_subject_match_is_not_provisioned(db):
    outcome = sso_sign_in(db, identity=_identity(email=None), mapping=MAPPING, create_users=False)
    assert outcome.result == SsoResult.NOT_PROVISIONED


# --- created on first sign-in ----------------------------------------------------------------------------------


def test_someone_new_gets_an_account_from_their_groups(db, teams):
    before = _users(db)
    identity = _identity(
        groups=("team-hillside", "auditors", "not-mapped"), username="Asha.Patel@council.example.gov.uk"
    )
    outcome = sso_sign_in(db, identity=identity, mapping=MAPPING, create_users=True)
    assert outcome.result == SsoResult.OK
    user = outcome.user
    assert user is not None and _users(db) == before + 1
    assert user.username == "asha.patel"
    assert user.full_name == "Asha Patel"
    assert user.email == "asha.patel@council.example.gov.uk"
    assert user.roles == {"auditor", "practitioner"}
    assert user.team_id == teams["Hillside"].id
    assert user.active
    assert (user.sso_issuer, user.sso_subject) == (ISSUER, "sub-0001")
    # a random password nobody knows
    assert user.password_hash.startswith("$argon2")
    assert password_verify(PASSWORD, user.password_hash)[0] is False
    assert password_verify("", user.password_hash)[0] is False
    assert [e.action for e in _sso_events(db)] == ["account.sso_provisioned", "auth.sso_sign_in"]
    provisioned, signed_in = _sso_events(db)
    assert provisioned.entity_id == str(user.id) and provisioned.actor_label == "sso"
    assert provisioned.after == {
        "issuer": ISSUER,
        "roles": ["auditor", "practitioner"],
        "team_id": teams["Hillside"].id,
        "service_area_id": None,
        "agency": None,
    }
    assert signed_in.actor_id == user.id and signed_in.after == {"issuer": ISSUER, "provisioned": True}
    _assert_no_personal_data(db)

    again = sso_sign_in(db, identity=identity, mapping=MAPPING, create_users=True)
    assert again.user is not None and again.user.id == user.id
    assert _users(db) == before + 1


def test_a_new_partner_gets_the_agency_and_a_head_of_service_the_area(db, teams):
    partner = sso_sign_in(
        db, identity=_identity("sub-p", groups=("police-partners",)), mapping=MAPPING, create_users=True
    ).user
    assert partner is not None
    assert partner.roles == {"partner"} and partner.agency == "police" and partner.partner_agreement_until is None
    head = sso_sign_in(
        db,
        identity=_identity("sub-h", email="h@example.org", groups=("hos-north",)),
        mapping=MAPPING,
        create_users=True,
    ).user
    assert head is not None
    assert head.roles == {"head_of_service"}
    assert head.service_area is not None and head.service_area.name == "North"


def test_a_username_is_made_unique_and_fit_for_the_username_rules(db):
    make_user(db, username="asha.patel")
    first = sso_sign_in(db, identity=_identity("sub-1"), mapping=MAPPING, create_users=True).user
    assert first is not None and first.username == "asha.patel-2"
    second = sso_sign_in(
        db, identity=_identity("sub-2", email="Asha.Patel@elsewhere.example"), mapping=MAPPING, create_users=True
    ).user
    assert second is not None and second.username == "asha.patel-3"
    odd = sso_sign_in(
        db,
        identity=_identity("sub-3", email=None, username="Øyvind O'Brien", name=None),
        mapping=MAPPING,
        create_users=True,
    ).user
    assert odd is not None and odd.username == "yvind-o-brien"
    assert odd.full_name == "yvind-o-brien"  # no name claim: the username stands in
    nameless = sso_sign_in(
        db, identity=_identity("ABC-123", email=None, username=None, name=None), mapping=MAPPING, create_users=True
    ).user
    assert nameless is not None and nameless.username == "sso-abc-123"


def test_someone_new_whose_groups_map_to_nothing_gets_no_account(db):
    before = _users(db)
    outcome = sso_sign_in(db, identity=_identity(groups=("staff",)), mapping=MAPPING, create_users=True)
    assert outcome.result == SsoResult.UNMAPPED
    assert outcome.user is None
    assert outcome.reason == REASONS["unmapped"]
    assert "not in any group that gives access" in outcome.reason
    assert _users(db) == before
    [event] = _sso_events(db)
    assert event.action == "auth.sso_refused" and event.after == {"reason": "unmapped", "issuer": ISSUER}


@pytest.mark.parametrize(("group", "code"), [("team-nowhere", "unknown_team"), ("hos-nowhere", "unknown_service_area")])
def test_a_team_or_area_the_app_does_not_have_refuses_someone_new(db, teams, group, code):
    before = _users(db)
    outcome = sso_sign_in(db, identity=_identity(groups=(group,)), mapping=MAPPING, create_users=True)
    assert outcome.result == SsoResult.UNMAPPED
    assert outcome.reason == REASONS[code]
    assert "group mapping" in outcome.reason
    assert _users(db) == before
    assert _events(db, "auth.sso_refused")[-1].after == {"reason": code, "issuer": ISSUER}


def test_a_closed_team_refuses_a_newcomer_but_not_someone_already_in_it(db, teams):
    hillside = teams["Hillside"]
    member = make_user(db, username="member", roles=(Role.PRACTITIONER,), team=hillside)
    member.email = "member@example.org"
    hillside.active = False
    db.add_all([member, hillside])
    db.flush()
    newcomer = sso_sign_in(db, identity=_identity(groups=("team-hillside",)), mapping=MAPPING, create_users=True)
    assert newcomer.result == SsoResult.UNMAPPED and newcomer.reason == REASONS["unknown_team"]
    stays = sso_sign_in(
        db,
        identity=_identity("sub-m", email="member@example.org", groups=("team-hillside",)),
        mapping=MAPPING,
        create_users=True,
    )
    assert stays.result == SsoResult.OK


def test_a_known_person_sent_to_a_team_that_does_not_exist_is_refused_and_left_as_they_were(db, teams):
    user = make_user(db, username="asha", roles=(Role.AUDITOR,), team=teams["Riverside"])
    user.sso_issuer, user.sso_subject = ISSUER, "sub-0001"
    db.add(user)
    db.flush()
    outcome = sso_sign_in(db, identity=_identity(groups=("team-nowhere",)), mapping=MAPPING, create_users=False)
    assert outcome.result == SsoResult.UNMAPPED and outcome.reason == REASONS["unknown_team"]
    db.refresh(user)
    assert user.active and user.roles == {"auditor"} and user.team_id == teams["Riverside"].id
    assert [e.action for e in _sso_events(db)] == ["auth.sso_refused"]


# --- unmapped and deactivated ----------------------------------------------------------------------------------


def test_a_known_person_whose_groups_no_longer_map_is_deactivated_and_told_why(db):
    user = _linked(db, roles=(Role.AUDITOR, Role.MODERATOR))
    token_issue(db, user=user, kind="session", lifetime=timedelta(hours=8))
    version = user.version

    outcome = sso_sign_in(db, identity=_identity(groups=("left-the-council",)), mapping=MAPPING, create_users=True)
    assert outcome.result == SsoResult.UNMAPPED
    assert outcome.reason == JUST_DEACTIVATED
    assert outcome.user is not None and outcome.user.id == user.id
    db.refresh(user)
    assert user.active is False
    assert user.version == version + 1
    assert user.roles == {"auditor", "moderator"}  # kept, for whoever reactivates them
    open_tokens = db.execute(
        select(AuthToken).where(col(AuthToken.user_id) == user.id, col(AuthToken.revoked_at).is_(None))
    ).all()
    assert open_tokens == []
    deactivated, refused = _sso_events(db)
    assert deactivated.action == "account.sso_deactivated" and deactivated.entity_id == str(user.id)
    assert deactivated.before == {"active": True} and deactivated.after == {"active": False}
    assert refused.action == "auth.sso_refused" and refused.actor_id == user.id
    assert refused.after == {"reason": "unmapped", "issuer": ISSUER}
    _assert_no_personal_data(db)

    # next time: still unmapped, already deactivated, nothing more to record than the refusal
    again = sso_sign_in(db, identity=_identity(groups=()), mapping=MAPPING, create_users=True)
    assert again.result == SsoResult.UNMAPPED and again.reason == REASONS["unmapped"]
    assert [e.action for e in _sso_events(db)][-1] == "auth.sso_refused"
    assert len(_events(db, "account.sso_deactivated")) == 1


def test_a_deactivated_account_stays_out_whatever_its_groups(db):
    user = make_user(db, username="asha", roles=(Role.AUDITOR,), active=False)
    user.email = "asha.patel@council.example.gov.uk"
    db.add(user)
    db.flush()
    outcome = sso_sign_in(db, identity=_identity(groups=("qa-leads",)), mapping=MAPPING, create_users=True)
    assert outcome.result == SsoResult.DEACTIVATED
    assert outcome.reason == REASONS["deactivated"]
    assert "does not reactivate" in outcome.reason
    db.refresh(user)
    assert user.active is False
    assert user.roles == {"auditor"}  # the groups change nothing while deactivated
    assert user.sso_subject == "sub-0001"  # but it is the same person from now on
    [event] = _sso_events(db)
    assert event.action == "auth.sso_refused"
    assert event.after == {"reason": "deactivated", "issuer": ISSUER, "linked": True}


# --- roles, team, area and agency follow the groups -------------------------------------------------------------


def _linked(db: Session, **kwargs: Any) -> User:
    user = make_user(db, username="asha", **kwargs)
    user.sso_issuer, user.sso_subject = ISSUER, "sub-0001"
    user.email = "asha.patel@council.example.gov.uk"
    db.add(user)
    db.flush()
    return user


def test_roles_are_added_and_taken_away_to_match_the_groups(db):
    user = _linked(db, roles=(Role.QA_LEAD, Role.AUDITOR, Role.VIEWER))
    version = user.version
    outcome = sso_sign_in(
        db, identity=_identity(groups=("auditors", "moderators")), mapping=MAPPING, create_users=False
    )
    assert outcome.result == SsoResult.OK
    db.refresh(user)
    assert user.roles == {"auditor", "moderator"}
    assert user.version == version + 1
    changed, signed_in = _sso_events(db)
    assert changed.action == "account.sso_roles_changed" and changed.entity_id == str(user.id)
    assert changed.actor_label == "sso"
    assert changed.before == {"roles": ["auditor", "qa_lead", "viewer"]}
    assert changed.after == {"roles": ["auditor", "moderator"]}
    assert changed.summary == f"User {user.id}: roles changed by the single sign-on group mapping"
    assert signed_in.action == "auth.sso_sign_in"

    # the other way: back to a QA lead
    sso_sign_in(db, identity=_identity(groups=("qa-leads",)), mapping=MAPPING, create_users=False)
    db.refresh(user)
    assert user.roles == {"qa_lead", "auditor"}
    assert _events(db, "account.sso_roles_changed")[-1].after == {"roles": ["auditor", "qa_lead"]}
    _assert_no_personal_data(db)


def test_nothing_to_change_records_only_the_sign_in(db):
    user = _linked(db, roles=(Role.AUDITOR,))
    version = user.version
    sso_sign_in(db, identity=_identity(groups=("auditors",)), mapping=MAPPING, create_users=False)
    db.refresh(user)
    assert user.version == version
    assert [e.action for e in _sso_events(db)] == ["auth.sso_sign_in"]
    assert _sso_events(db)[0].after == {"issuer": ISSUER}


def test_the_team_follows_the_groups_and_stays_when_no_rule_names_one(db, teams):
    user = _linked(db, roles=(Role.PRACTITIONER,), team=teams["Hillside"])
    sso_sign_in(db, identity=_identity(groups=("team-riverside",)), mapping=MAPPING, create_users=False)
    db.refresh(user)
    assert user.team_id == teams["Riverside"].id
    changed = _events(db, "account.sso_roles_changed")[-1]
    assert changed.before == {"team_id": teams["Hillside"].id}
    assert changed.after == {"team_id": teams["Riverside"].id}
    assert changed.summary == f"User {user.id}: team changed by the single sign-on group mapping"

    sso_sign_in(db, identity=_identity(groups=("auditors",)), mapping=MAPPING, create_users=False)
    db.refresh(user)
    assert user.team_id == teams["Riverside"].id  # the mapping says nothing about a team: left as it is
    assert user.roles == {"auditor"}


def test_a_head_of_service_gets_the_area_of_their_group(db, teams):
    user = _linked(db, roles=(Role.AUDITOR,))
    sso_sign_in(db, identity=_identity(groups=("hos-north",)), mapping=MAPPING, create_users=False)
    db.refresh(user)
    assert user.roles == {"head_of_service"}
    assert user.service_area is not None and user.service_area.name == "North"
    changed = _events(db, "account.sso_roles_changed")[-1]
    assert set(changed.after or {}) == {"roles", "service_area_id"}


def test_a_partner_gets_the_agency_and_loses_it_with_the_role(db):
    user = _linked(db, roles=(Role.PARTNER,), agency="health", partner_agreement_until=date(2027, 3, 31))
    sso_sign_in(db, identity=_identity(groups=("police-partners",)), mapping=MAPPING, create_users=False)
    db.refresh(user)
    assert user.agency == "police" and user.partner_agreement_until == date(2027, 3, 31)
    assert _events(db, "account.sso_roles_changed")[-1].after == {"agency": "police"}

    sso_sign_in(db, identity=_identity(groups=("auditors",)), mapping=MAPPING, create_users=False)
    db.refresh(user)
    assert user.roles == {"auditor"}
    assert user.agency is None and user.partner_agreement_until is None
    changed = _events(db, "account.sso_roles_changed")[-1]
    assert changed.before == {"roles": ["partner"], "agency": "police"}
    assert changed.after == {"roles": ["auditor"], "agency": None}


# --- protocol refusals and the names in the mapping -------------------------------------------------------------


def test_a_protocol_refusal_is_recorded_with_its_reason_and_no_detail_in_the_summary(db):
    sso_refusal_record(db, issuer=ISSUER, reason="bad_token", detail="the ID token's signature does not verify")
    [event] = _events(db, "auth.sso_refused")
    assert event.summary == "Single sign-on refused: bad_token"
    assert event.actor_id is None and event.actor_label == "sso" and event.entity_id is None
    assert event.after == {
        "reason": "bad_token",
        "issuer": ISSUER,
        "detail": "the ID token's signature does not verify",
    }


def test_mapping_unknown_names_lists_each_rule_naming_a_missing_team_or_area_with_its_line(db, teams):
    teams["Riverside"].active = False
    db.add(teams["Riverside"])
    db.flush()
    assert mapping_unknown_names(db, MAPPING) == [
        "sso.yaml:12: group 'team-riverside': the team Riverside has closed",
        "sso.yaml:21: group 'team-nowhere': there is no team called Nowhere",
        "sso.yaml:24: group 'hos-nowhere': there is no service area called Nowhere",
    ]


def test_a_first_sign_in_racing_another_finds_the_account_the_other_created(db, monkeypatch):
    """Two first sign-ins of the same person at once: the second one's insert meets the unique (issuer, subject) and
    it goes on as the person's sign-in to the account the first created, in the same transaction."""
    from app.accounts.sso import provisioning

    existing = _linked(db, roles=(Role.AUDITOR,))
    real_match = provisioning._match
    calls: list[int] = []

    def match_missing_the_other(session: Session, identity: Identity, *rest: Any) -> tuple[User | None, bool]:
        calls.append(1)
        return (None, False) if len(calls) == 1 else real_match(session, identity, *rest)

    monkeypatch.setattr(provisioning, "_match", match_missing_the_other)
    count = _users(db)
    outcome = sso_sign_in(db, identity=_identity(), mapping=MAPPING, create_users=True)
    assert outcome.result == SsoResult.OK
    assert outcome.user is not None and outcome.user.id == existing.id
    assert _users(db) == count
    assert len(calls) == 2
    assert [e.action for e in _sso_events(db)] == ["auth.sso_sign_in"]  # the failed insert left no event
