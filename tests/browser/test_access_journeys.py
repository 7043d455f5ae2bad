"""Issue 20 in the browser: who else reads an audit, and the partner agencies' multi-agency audit.

A team manager reads the completed audits of their own team's cases (read-only, with their findings) and is refused
(404) another team's; a head of service reads the completed audits of their area and no audit still in progress;
each reading is in the audit trail. In a multi-agency audit the QA lead assigns the police and health sections to
the agencies' representatives, each of whom sees only their assigned audit, only the facts of the case the template
shares with partners and only their own section until the panel meets; the auditor completes the social care
section; the QA lead records the panel, whose action is owned by the police representative, who records what was
done before the QA lead verifies and closes it. Every page is checked with axe.

The people and audits are put in place in the live server's database (a team manager and head of service of Early
Help South, a team no other journey uses and with no manager in the demo, and two partner representatives), so no
other journey's teams or people change. A page these people need that refuses them (403: the audit list, a partner's
own recommendations) does not stop the journey: the rest is still checked, and the test fails at its end naming
every refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from playwright.sync_api import Locator, Page, Response, expect
from sqlalchemy import Engine, or_, select
from sqlmodel import Session

from app.accounts import selectors as account_selectors
from app.accounts.roles import Role
from app.audit_templates.schema import GRADE_LABELS, Grade
from app.audit_templates.selectors import template_latest
from app.audit_trail.models import AuditEvent
from app.audits.models import Audit
from app.audits.partners.models import PanelMeeting, SectionPartner
from app.audits.service import audit_start
from app.audits.workflow.states import COMPLETED
from app.cases.models import Case
from app.db import make_engine
from app.demo.generator import demo_logins
from app.recommendations import rules
from app.recommendations.models import Recommendation
from app.working_days import calendar_for
from tests.browser.conftest import LiveServer, NewContext
from tests.browser.helpers import SAVED_AT, check_accessibility, expect_error_summary, sign_in, success_banner
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser

LOGINS = {u.username: u for u in demo_logins()}
QA_LEAD, AUDITOR = LOGINS["qa.lead"], LOGINS["auditor"]

TEAM_A = "Early Help South"  # no manager in the demo: giving it one changes nobody else's journey
OTHER_TEAM = "Safeguarding Team 1"
PARTNERSHIP_TEAM = "Early Help North"  # the multi-agency audit's case


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    full_name: str


@dataclass(frozen=True)
class Audited:
    audit_id: int
    child_id: str


@dataclass(frozen=True)
class ManagerSetup:
    manager: Person
    head: Person
    own: Audited  # a completed audit of a case of the manager's team
    other: Audited  # a completed audit of another team's case
    in_progress: Audited  # an audit of a case in the manager's team, not yet completed


@dataclass(frozen=True)
class PartnershipSetup:
    audit: Audited
    police: Person
    health: Person


def _engine(live_server: LiveServer) -> Engine:
    """The live server's own database (what is committed there is what the app sees)."""
    return make_engine(live_server.settings.database_url)


def _person(user) -> Person:
    assert user.id is not None
    return Person(user.id, user.username, user.full_name)


def _completed_audit(session: Session, team_id: int) -> Audited:
    """The newest completed audit of a case in the team (the first the audit list shows)."""
    row = session.execute(
        select(Audit.id, Case.child_id)
        .join(Case, Case.id == Audit.case_id)
        .where(Case.team_id == team_id, Audit.status == COMPLETED)
        .order_by(Audit.created_at.desc(), Audit.id.desc())
        .limit(1)
    ).first()
    assert row is not None, f"the demo has no completed audit of a case of team {team_id}"
    return Audited(row[0], row[1])


def _free_open_case(session: Session, team_id: int) -> Case:
    """An open case of the team with no audit under way."""
    busy = select(Audit.case_id).where(Audit.status != COMPLETED)
    case = (
        session.execute(
            select(Case)
            .where(Case.team_id == team_id, Case.status == "open", Case.id.not_in(busy))
            .order_by(Case.child_id.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )
    assert case is not None, f"no open case of team {team_id} is free in the demo data"
    return case


def _start(
    live_server: LiveServer, session: Session, *, case: Case, template_key: str, auditor_username: str
) -> Audited:
    """An audit of the case, started by the QA lead for the auditor and due in four weeks."""
    lead = account_selectors.user_by_username(session, username=QA_LEAD.username)
    auditor = account_selectors.user_by_username(session, username=auditor_username)
    template = template_latest(session, key=template_key)
    assert lead is not None and auditor is not None and template is not None
    today = live_server.today()
    audit = audit_start(
        session,
        case=case,
        template=template,
        auditor=auditor,
        actor=lead,
        today=today,
        calendar=calendar_for(live_server.settings.working_days_jurisdiction),
        due_date=today + timedelta(days=28),
    )
    assert audit.id is not None
    return Audited(audit.id, case.child_id)


def _manager_setup(live_server: LiveServer) -> ManagerSetup:
    """A team manager of TEAM_A (a manager in it, and its manager), a head of service of its area, and the audits
    they will try to read."""
    engine = _engine(live_server)
    try:
        with Session(engine) as session:
            team = account_selectors.team_by_name(session, name=TEAM_A)
            other_team = account_selectors.team_by_name(session, name=OTHER_TEAM)
            assert team is not None and team.id is not None and other_team is not None and other_team.id is not None
            assert team.manager_id is None, f"{TEAM_A} has a manager in the demo: choose another team"
            manager = make_user(
                session,
                username="t.mensah",
                full_name="Tariq Mensah",
                roles=(Role.TEAM_MANAGER,),
                team=team,
            )
            team.manager_id = manager.id
            session.add(team)
            head = make_user(session, username="h.shaw", full_name="Helen Shaw", roles=(Role.HEAD_OF_SERVICE,))
            head.service_area_id = team.service_area_id
            session.add(head)
            own = _completed_audit(session, team.id)
            other = _completed_audit(session, other_team.id)
            in_progress = _start(
                live_server,
                session,
                case=_free_open_case(session, team.id),
                template_key="dip_sample",
                auditor_username=AUDITOR.username,
            )
            session.commit()
            return ManagerSetup(_person(manager), _person(head), own, other, in_progress)
    finally:
        engine.dispose()


def _audit_link(page: Page, audited: Audited) -> Locator:
    """The audit's link in the audit list (its accessible name ends "(template, audit N)")."""
    return page.get_by_role(
        "link", name=re.compile(rf"^{re.escape(audited.child_id)} \(.+, audit {audited.audit_id}\)$")
    )


def _audit_row(page: Page, audited: Audited) -> Locator:
    return page.locator("#results tbody tr").filter(has=_audit_link(page, audited))


# A page the journey needs that refuses the person: noted where it happens, the rest of the journey goes on, and the
# test fails at its end naming every refusal.
LIST_REFUSED = "the audit list (GET /audits) refuses a {role} (403): the page's role guard does not include them yet"


def _open_audit_list(page: Page, role: Role, missing: list[str]) -> bool:
    """Open "/audits"; False (and what is missing noted) when the page refuses this person's role."""
    response = page.goto("/audits")
    assert response is not None
    if response.status == 403:
        if (refused := LIST_REFUSED.format(role=role.label.lower())) not in missing:
            missing.append(refused)
        return False
    assert response.status == 200, response.status
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"audits", re.IGNORECASE))
    check_accessibility(page)
    return True


def _expect_not_found(page: Page, response: Response | None) -> None:
    """The app's 404 page: the same answer whether the audit is not there or not one this person may see."""
    assert response is not None and response.status == 404, response and response.status
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    check_accessibility(page)


def _expect_read_only_overview(page: Page, audited: Audited) -> None:
    expect(page).to_have_url(re.compile(rf"/audits/{audited.audit_id}$"))
    expect(page.get_by_role("heading", name=f"Audit of child {audited.child_id}", exact=True)).to_be_visible()
    expect(page.get_by_text("Check your answers and submit")).to_have_count(0)
    expect(page.get_by_role("button", name="View all answers")).to_be_visible()  # a link drawn as a button
    check_accessibility(page)


def _views_recorded(live_server: LiveServer, actor_id: int) -> set[str]:
    """The audits `actor_id` was recorded reading (audit.view events in the audit trail)."""
    engine = _engine(live_server)
    try:
        with Session(engine) as session:
            rows = session.execute(
                select(AuditEvent.entity_id).where(AuditEvent.action == "audit.view", AuditEvent.actor_id == actor_id)
            ).scalars()
            return {str(r) for r in rows}
    finally:
        engine.dispose()


def test_a_team_manager_reads_a_completed_audit_of_their_team_and_is_refused_another_teams(
    new_context: NewContext, live_server: LiveServer
) -> None:
    setup = _manager_setup(live_server)
    missing: list[str] = []

    # 1. The team manager signs in and finds the completed audits of their team in the audit list.
    manager = new_context().new_page()
    sign_in(manager, setup.manager.username, setup.manager.full_name, PASSWORD)
    if _open_audit_list(manager, Role.TEAM_MANAGER, missing):
        own_link = _audit_link(manager, setup.own)
        expect(_audit_row(manager, setup.own)).to_contain_text("Completed")
        expect(_audit_link(manager, setup.other)).to_have_count(0)
        expect(_audit_link(manager, setup.in_progress)).to_have_count(0)  # their team's newest, not completed
        own_link.click()
    else:
        manager.goto(f"/audits/{setup.own.audit_id}")

    # 2. They open it: read-only, and its findings.
    _expect_read_only_overview(manager, setup.own)
    manager.goto(f"/audits/{setup.own.audit_id}/findings")
    expect(manager.get_by_role("heading", name="Audit findings", exact=True)).to_be_visible()
    expect(manager.get_by_text(setup.own.child_id).first).to_be_visible()
    expect(manager.get_by_role("button", name="Add reply")).to_have_count(0)  # only the case's worker replies
    check_accessibility(manager)

    # 3. Another team's completed audit, and their own team's audit still in progress, are not there for them.
    _expect_not_found(manager, manager.goto(f"/audits/{setup.other.audit_id}"))
    _expect_not_found(manager, manager.goto(f"/audits/{setup.other.audit_id}/findings"))
    _expect_not_found(manager, manager.goto(f"/audits/{setup.in_progress.audit_id}"))

    # 4. The head of service of the area reads the same completed audit, but not the one still in progress.
    head = new_context().new_page()
    sign_in(head, setup.head.username, setup.head.full_name, PASSWORD)
    if _open_audit_list(head, Role.HEAD_OF_SERVICE, missing):
        expect(_audit_link(head, setup.in_progress)).to_have_count(0)
        expect(_audit_link(head, setup.other)).to_have_count(0)
    head.goto(f"/audits/{setup.own.audit_id}")
    _expect_read_only_overview(head, setup.own)
    head.goto(f"/audits/{setup.own.audit_id}/findings")
    expect(head.get_by_role("heading", name="Audit findings", exact=True)).to_be_visible()
    check_accessibility(head)
    _expect_not_found(head, head.goto(f"/audits/{setup.in_progress.audit_id}"))
    _expect_not_found(head, head.goto(f"/audits/{setup.other.audit_id}"))

    # 5. What each of them read is in the audit trail; what they were refused is not.
    manager_views = _views_recorded(live_server, setup.manager.id)
    assert str(setup.own.audit_id) in manager_views, manager_views
    assert not {str(setup.other.audit_id), str(setup.in_progress.audit_id)} & manager_views, manager_views
    head_views = _views_recorded(live_server, setup.head.id)
    assert str(setup.own.audit_id) in head_views, head_views
    assert str(setup.in_progress.audit_id) not in head_views, head_views
    if missing:
        pytest.fail("Everything else passed; refused by the app: " + "; ".join(missing))


# --- The multi-agency audit -------------------------------------------------------------------------------------

POLICE_QUESTIONS = (
    "Did the police share concerns (including domestic abuse notifications) with social care promptly?",
    "Did the police take part in strategy discussions and joint enquiries where needed?",
    "Were police checks completed and the results shared?",
    "Did officers record the child's presence and experience at incidents?",
)
HEALTH_QUESTIONS = (
    "Did health services share relevant information (including about parents) with social care?",
    "Did health professionals attend or send reports to conferences, core groups and reviews?",
    "Are the child's health needs (assessments, immunisations, dental care) being met?",
)
SOCIAL_CARE_QUESTIONS = (
    "Was the latest child and family assessment completed within 45 working days of referral?",
    "Did social care share assessments, plans and decisions with the other agencies promptly?",
    "Are the child's wishes and feelings recorded and shared with the partner agencies?",
    "Was the child seen alone at the last statutory visit?",
    "Were the right agencies invited to strategy discussions, conferences and meetings?",
)
CONCLUSION = "Agencies shared information well; police attendance at strategy discussions was late twice."
DISSENT = "Health did not agree that the GP's referral was late."
ACTION = "Brief the response teams on inviting social care to every strategy discussion about this child"
EVIDENCE = "Briefing given to all three response teams on 2 December; attendance list on the police record"


def _partnership_setup(live_server: LiveServer) -> PartnershipSetup:
    """A multi-agency audit (the newest template, with agency sections) of an open case, allocated to the auditor,
    and a police and a health representative with current partner agreements."""
    engine = _engine(live_server)
    try:
        with Session(engine) as session:
            template = template_latest(session, key="multi_agency")
            assert template is not None, "the multi_agency template is not published"
            team = account_selectors.team_by_name(session, name=PARTNERSHIP_TEAM)
            assert team is not None and team.id is not None
            agreed = live_server.today() + timedelta(days=365)
            police = make_user(
                session,
                username="pc.cole",
                full_name="Dana Cole",
                roles=(Role.PARTNER,),
                agency="police",
                partner_agreement_until=agreed,
            )
            health = make_user(
                session,
                username="n.farah",
                full_name="Nadia Farah",
                roles=(Role.PARTNER,),
                agency="health",
                partner_agreement_until=agreed,
            )
            case = _free_open_case(session, team.id)
            assert case.worker_name, "the case needs an allocated worker, to see that partners are not shown it"
            audited = _start(
                live_server, session, case=case, template_key="multi_agency", auditor_username=AUDITOR.username
            )
            session.commit()
            return PartnershipSetup(audited, _person(police), _person(health))
    finally:
        engine.dispose()


def _autosaved(response: Response) -> bool:
    return response.url.endswith("/autosave") and response.request.method == "POST"


def _answer(page: Page, question: str, choice: str) -> None:
    """Choose an answer and wait for it to be saved as it is given."""
    page.wait_for_load_state("load")  # the autosave script runs once the page has loaded
    with page.expect_response(_autosaved) as saved:
        page.get_by_role("group", name=question).get_by_label(choice, exact=True).check()
    assert saved.value.status == 200, saved.value.text()
    expect(page.locator("#save-status")).to_have_text(SAVED_AT)


def _open_section(page: Page, audited: Audited, title: str) -> None:
    page.get_by_role("link", name=title, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/audits/{audited.audit_id}/sections/\w+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    check_accessibility(page)


def _fill_date(page: Page, name: str, day: date) -> None:
    page.locator(f"#{name}-day").fill(str(day.day))
    page.locator(f"#{name}-month").fill(str(day.month))
    page.locator(f"#{name}-year").fill(str(day.year))


def _partner_opens_their_audit(
    page: Page, setup: PartnershipSetup, partner: Person, own_section: str, missing: list[str]
) -> None:
    """A partner representative signs in, finds only their assigned audit in the list and opens it: only the facts
    of the case the template shares, no way into the council's systems, and only their own section."""
    sign_in(page, partner.username, partner.full_name, PASSWORD)
    audited = setup.audit
    if _open_audit_list(page, Role.PARTNER, missing):
        expect(page.locator("#results tbody tr")).to_have_count(1)
        _audit_link(page, audited).click()
    else:
        page.goto(f"/audits/{audited.audit_id}")
    expect(page).to_have_url(re.compile(rf"/audits/{audited.audit_id}$"))
    expect(page.get_by_role("heading", name=f"Audit of child {audited.child_id}", exact=True)).to_be_visible()
    facts = page.get_by_role("complementary", name="The case")
    expect(facts).to_contain_text(audited.child_id)
    for hidden in ("Allocated worker", "Team", "Assessment authorised", "Last statutory visit"):
        expect(facts.locator(".govuk-summary-list__key", has_text=re.compile(rf"^\s*{hidden}\s*$"))).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("case management system"))).to_have_count(0)
    expect(page.get_by_role("link", name="All the register's facts for this case")).to_have_count(0)
    expect(page.locator("a[href^='/cases/']")).to_have_count(0)
    sections = page.locator(".govuk-task-list")
    expect(sections.get_by_role("link", name=own_section, exact=True)).to_be_visible()
    for other in ("Children's social care", "Police", "Health", "Education", "Panel conclusion"):
        if other != own_section:
            expect(sections.get_by_role("link", name=other, exact=True)).to_have_count(0)
    check_accessibility(page)


def test_a_multi_agency_audit_with_two_partners_a_panel_and_a_police_action_closed(
    new_context: NewContext, live_server: LiveServer
) -> None:
    setup = _partnership_setup(live_server)
    audited = setup.audit
    missing: list[str] = []
    today = live_server.today()

    # 1. The QA lead assigns the police and health sections to the agencies' representatives.
    lead = new_context().new_page()
    sign_in(lead, QA_LEAD.username, QA_LEAD.full_name)
    lead.goto(f"/audits/{audited.audit_id}/partners")
    expect(lead.get_by_role("heading", name="Partner representatives", exact=True)).to_be_visible()
    check_accessibility(lead)
    police_select, health_select = lead.get_by_label("Police (Police)"), lead.get_by_label("Health (Health)")
    expect(police_select.get_by_role("option", name=setup.health.full_name)).to_have_count(0)  # not of its agency
    police_select.select_option(label=setup.police.full_name)
    health_select.select_option(label=setup.health.full_name)
    lead.get_by_role("button", name="Save representatives").click()
    expect(lead).to_have_url(re.compile(rf"/audits/{audited.audit_id}/partners\?saved=1$"))
    expect(success_banner(lead)).to_contain_text("The partner representatives were saved.")
    expect(lead.get_by_label("Police (Police)").locator("option:checked")).to_have_text(setup.police.full_name)
    expect(lead.get_by_label("Health (Health)").locator("option:checked")).to_have_text(setup.health.full_name)
    check_accessibility(lead)

    # 2. The police representative sees only this audit and only the shareable facts, answers the police section
    # and cannot open the health or social care sections before the panel.
    police = new_context().new_page()
    _partner_opens_their_audit(police, setup, setup.police, "Police", missing)
    _open_section(police, audited, "Police")
    for question in POLICE_QUESTIONS:
        _answer(police, question, "Yes")
    check_accessibility(police)
    for key in ("health", "social_care"):
        _expect_not_found(police, police.goto(f"/audits/{audited.audit_id}/sections/{key}"))

    # 3. So does the health representative, with the health section.
    health = new_context().new_page()
    _partner_opens_their_audit(health, setup, setup.health, "Health", missing)
    _open_section(health, audited, "Health")
    with health.expect_response(_autosaved) as saved:
        health.get_by_role("group", name="Which health services know the child?").get_by_label("GP").check()
    assert saved.value.status == 200, saved.value.text()
    for question in HEALTH_QUESTIONS:
        _answer(health, question, "Yes")
    check_accessibility(health)
    _expect_not_found(health, health.goto(f"/audits/{audited.audit_id}/sections/police"))

    # 4. The auditor completes the social care section (the agencies' sections are the partners' to answer).
    auditor = new_context().new_page()
    sign_in(auditor, AUDITOR.username, AUDITOR.full_name)
    auditor.goto(f"/audits/{audited.audit_id}")
    expect(auditor.get_by_role("heading", name=f"Audit of child {audited.child_id}", exact=True)).to_be_visible()
    check_accessibility(auditor)
    _open_section(auditor, audited, "Children's social care")
    for question in SOCIAL_CARE_QUESTIONS:
        _answer(auditor, question, "Yes")
    check_accessibility(auditor)

    # 5. The QA lead records the panel meeting: first with nothing filled in, then from the minutes.
    lead.goto(f"/audits/{audited.audit_id}/panel")
    expect(lead.get_by_role("heading", name="Multi-agency panel", exact=True)).to_be_visible()
    check_accessibility(lead)
    lead.get_by_role("button", name="Save the panel record").click()
    expect_error_summary(lead, "Enter the date the panel met", "Add at least one attendee: their agency and name")
    check_accessibility(lead)
    _fill_date(lead, "held_on", today)
    attendees = (
        ("social_care", QA_LEAD.full_name),
        ("social_care", AUDITOR.full_name),
        ("police", setup.police.full_name),
        ("health", setup.health.full_name),
    )
    for i, (agency, name) in enumerate(attendees):
        lead.locator(f"#attendees-{i}-agency").select_option(agency)
        lead.locator(f"#attendees-{i}-name").fill(name)
    lead.get_by_label("The agreed conclusion").fill(CONCLUSION)
    grade = GRADE_LABELS[Grade.REQUIRES_IMPROVEMENT]
    lead.get_by_role("group", name="The agreed grade").get_by_label(grade, exact=True).check()
    lead.get_by_label("Dissent (optional)").fill(DISSENT)
    lead.locator("#actions-0-text").fill(ACTION)
    lead.locator("#actions-0-owner_id").select_option(label=f"{setup.police.full_name} (Police)")
    lead.locator("#actions-0-priority").select_option("high")
    due = today + timedelta(days=30)
    _fill_date(lead, "actions-0-due_date", due)
    lead.get_by_role("button", name="Save the panel record").click()
    expect(lead).to_have_url(re.compile(rf"/audits/{audited.audit_id}/panel\?recorded=1$"))
    expect(success_banner(lead)).to_contain_text("The panel meeting was recorded.")
    record = lead.locator(".govuk-summary-list").first
    for text in (
        grade,
        CONCLUSION,
        DISSENT,
        f"{setup.police.full_name} (Police)",
        f"{setup.health.full_name} (Health)",
    ):
        expect(record).to_contain_text(text)
    action_link = lead.get_by_role("link", name=ACTION, exact=True)
    expect(action_link).to_be_visible()
    expect(lead.locator("li").filter(has=action_link)).to_contain_text(f"{setup.police.full_name} (Police)")
    check_accessibility(lead)
    recommendation_id = _panel_action(live_server, audited.audit_id, setup.police.id)

    # 6. Once the panel has met, the police representative reads the panel's record and the other agencies'
    # sections (the default setting), still without changing them.
    police.goto(f"/audits/{audited.audit_id}/panel")
    expect(police.get_by_role("heading", name="Multi-agency panel", exact=True)).to_be_visible()
    expect(police.locator(".govuk-summary-list").first).to_contain_text(CONCLUSION)
    expect(police.get_by_role("button", name="Save the panel record")).to_have_count(0)
    check_accessibility(police)
    police.goto(f"/audits/{audited.audit_id}/sections/health")
    expect(police.get_by_role("heading", level=1)).to_have_text("Health")
    expect(police.get_by_role("group", name=HEALTH_QUESTIONS[0]).get_by_label("Yes", exact=True)).to_be_disabled()
    check_accessibility(police)

    # 7. The police representative finds the action among their own and records what was done; the QA lead, who
    # raised it at the panel, checks the evidence and closes it.
    response = police.goto("/recommendations/mine")
    assert response is not None
    if response.status == 403:
        missing.append(
            "a partner representative cannot reach their recommendations: GET /recommendations/mine and "
            f"/recommendations/{recommendation_id} refuse the police representative who owns the panel's action "
            "(403: Role.PARTNER is not in app.recommendations.permissions.RECOMMENDATION_ROLES), so the action "
            "cannot be progressed to closed in the browser"
        )
    else:
        _progress_to_closed(live_server, police, lead, recommendation_id)
    if missing:
        pytest.fail("Everything else passed; refused by the app: " + "; ".join(missing))


def _progress_to_closed(live_server: LiveServer, owner: Page, verifier: Page, recommendation_id: int) -> None:
    """The owner, on "My actions", records what was done; the verifier closes it."""
    expect(owner.get_by_role("heading", name="My actions")).to_be_visible()
    check_accessibility(owner)
    owner.get_by_role("link", name=f"{ACTION} (recommendation {recommendation_id})").click()
    expect(owner).to_have_url(re.compile(rf"/recommendations/{recommendation_id}$"))
    expect(owner.get_by_text(ACTION)).to_be_visible()
    check_accessibility(owner)
    owner.get_by_label("What was done").fill(EVIDENCE)
    owner.get_by_role("button", name="Mark as completed").click()
    expect(success_banner(owner)).to_contain_text("Marked as completed")
    expect(owner.get_by_role("heading", name="Completed, awaiting verification")).to_be_visible()
    expect(owner.get_by_role("button", name="Verify and close")).to_have_count(0)  # never the owner
    check_accessibility(owner)

    verifier.goto(f"/recommendations/{recommendation_id}")
    expect(verifier.locator(".govuk-summary-list").get_by_text(EVIDENCE)).to_be_visible()
    check_accessibility(verifier)
    verifier.get_by_role("button", name="Verify and close").click()
    expect(success_banner(verifier)).to_contain_text("Verified and closed")
    expect(verifier.get_by_role("heading", name="Closed", exact=True)).to_be_visible()
    check_accessibility(verifier)
    assert _recommendation_status(live_server, recommendation_id) == rules.CLOSED


def _panel_action(live_server: LiveServer, audit_id: int, owner_id: int) -> int:
    """The recommendation the panel raised for `owner_id`, checked against the panel's stored record."""
    engine = _engine(live_server)
    try:
        with Session(engine) as session:
            panel = session.execute(select(PanelMeeting).where(PanelMeeting.audit_id == audit_id)).scalars().one()
            assert [(a["agency"], a["owner_id"]) for a in panel.actions] == [("police", owner_id)], panel.actions
            assert {a["agency"] for a in panel.attendees} == {"social_care", "police", "health"}
            assigned = session.execute(
                select(SectionPartner.section_key).where(
                    SectionPartner.audit_id == audit_id,
                    or_(SectionPartner.section_key == "police", SectionPartner.section_key == "health"),
                )
            ).scalars()
            assert set(assigned) == {"police", "health"}
            item = session.get(Recommendation, panel.actions[0]["recommendation_id"])
            assert item is not None and item.owner_id == owner_id and item.audit_id == audit_id
            assert item.status == rules.OPEN and item.section_key == "police"
            assert item.id is not None
            return item.id
    finally:
        engine.dispose()


def _recommendation_status(live_server: LiveServer, recommendation_id: int) -> str:
    engine = _engine(live_server)
    try:
        with Session(engine) as session:
            item = session.get(Recommendation, recommendation_id)
            assert item is not None
            return item.status
    finally:
        engine.dispose()
