"""Multi-agency audits by agency: per agency section, audits, assigned, answered and compliance with its interval."""

from __future__ import annotations

from datetime import date

import pytest

from app.accounts.roles import Role
from app.audits.models import AuditAnswer
from app.audits.partners import service as partners
from app.reports.agencies import agency_report
from app.reports.figures import Counts, compliance_rate
from app.reports.filters import ReportFilter
from tests.factories import login, make_audit, make_case, make_team, make_user, page_text, publish_templates

TODAY = date(2026, 11, 26)
PERIOD = ReportFilter(date_from=date(2026, 1, 1), date_to=TODAY)
POLICE_DONE = {
    "police_referred_promptly": "yes",
    "police_in_strategy_discussions": "no",
    "police_checks_completed": "yes",
    "police_child_considered": "na",
    "police__grade": "good",
    "police__strengths": "Prompt referrals.",
    "police__development": "Join strategy discussions.",
}


def _answer(db, audit, answers: dict[str, object]) -> None:
    for key, value in answers.items():
        db.add(AuditAnswer(audit_id=audit.id, question_key=key, value=value))
    db.flush()


@pytest.fixture
def audits(db):
    publish_templates(db)
    team = make_team(db, name="Agency team", service_area="Safeguarding")
    lead = make_user(db, username="lead", roles=(Role.QA_LEAD,))
    auditor = make_user(db, username="auditor", roles=(Role.AUDITOR,))
    police = make_user(
        db, username="pc", roles=(Role.PARTNER,), agency="police", partner_agreement_until=date(2027, 3, 31)
    )
    first = make_audit(db, case=make_case(db, child_id="MA1", team=team), auditor=auditor, template_key="multi_agency")
    second = make_audit(db, case=make_case(db, child_id="MA2", team=team), auditor=auditor, template_key="multi_agency")
    make_audit(db, case=make_case(db, child_id="DS1", team=team), auditor=auditor)  # not multi-agency: not counted
    partners.assign_partner(db, audit=first, section_key="police", partner=police, actor=lead, today=TODAY)
    _answer(db, first, POLICE_DONE | {"social_care_assessment_timely": "yes"})
    _answer(db, second, {"police_referred_promptly": "yes", "social_care_assessment_timely": "no"})
    return {"team": team, "first": first, "second": second}


def test_each_agency_section_counts_audits_assignments_answers_and_compliance(db, audits):
    report = agency_report(db, PERIOD, zone="Europe/London", min_n=2)
    assert report.audits == 2
    rows = {s.section_key: s for s in report.sections}
    assert [s.section_key for s in report.sections] == ["social_care", "police", "health", "education"]
    police = rows["police"]
    assert (police.agency, police.audits, police.assigned, police.answered) == ("police", 2, 1, 1)
    assert (police.counts.yes, police.counts.no, police.counts.na, police.counts.audits) == (3, 1, 1, 2)
    expected = compliance_rate(Counts.of_audit(2, 1, 1) + Counts.of_audit(1, 0), frame=None, sampled=None, min_n=2)
    assert police.rate == expected and police.rate.value == 0.75 and police.rate.interval is not None
    assert police.rate.interval.low < 0.75 < police.rate.interval.high
    social = rows["social_care"]
    assert (social.assigned, social.answered, social.counts.yes, social.counts.no) == (0, 0, 1, 1)
    assert not social.partner_section
    assert (rows["health"].audits, rows["health"].rate_text) == (2, "No answers")
    # With the usual minimum the same answers are too few to judge.
    strict = {s.section_key: s for s in agency_report(db, PERIOD, zone="Europe/London", min_n=10).sections}
    assert strict["police"].rate_text == "too few to judge" and strict["police"].interval_text == ""


def test_the_filter_narrows_the_audits(db, audits):
    other = make_team(db, name="Elsewhere", service_area="Children in care")
    assert agency_report(db, ReportFilter(team_id=other.id), zone="Europe/London", min_n=2).empty
    later = ReportFilter(date_from=date(2026, 11, 27), date_to=date(2026, 12, 31))
    assert agency_report(db, later, zone="Europe/London", min_n=2).audits == 0


def test_the_page_shows_the_table_for_the_qa_lead(client, db, audits):
    login(client, "lead")
    page = client.get("/reports/agencies")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "2 multi-agency audits" in text and "Police" in text and "Agency sections" in text


def test_the_page_has_an_empty_state_reads_bad_filters_and_refuses_an_auditor(client, db):
    make_user(db, username="lead", roles=(Role.QA_LEAD,))
    login(client, "lead")
    empty = client.get("/reports/agencies")
    assert empty.status_code == 200 and "No multi-agency audits match these filters" in page_text(empty.text)
    assert client.get("/reports/agencies?date_from=nonsense&team=abc").status_code == 200
    make_user(db, username="auditor2", roles=(Role.AUDITOR,))
    login(client, "auditor2")
    assert client.get("/reports/agencies").status_code == 403
