"""The demo's year of completed audits: the reports page it gives the QA lead, rows the workflow could have written,
the follow-up, a deterministic plan and a second load that adds nothing.

The demo is loaded once, into a database of its own (the tests only read it), as `caseaudit demo-data` loads it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from app.accounts.models import Team, User
from app.audit_templates.answers import submission_errors
from app.audit_templates.models import TemplateVersion
from app.audit_templates.scoring import compliance_code
from app.audit_templates.selectors import template_latest
from app.audit_templates.service import template_definition
from app.audits.models import Audit, AuditAnswer
from app.cases.models import Case
from app.cli import alembic_upgrade
from app.config import Settings
from app.db import make_engine
from app.demo.audits import demo_audits_load
from app.demo.cases import demo_cases_load
from app.demo.completed import (
    CFA,
    DIP,
    FOLLOW_UP_ACTIONS,
    CompletedHistory,
    _cases,
    _people,
    demo_completed_audits,
    history_case_rows,
    plan_history,
)
from app.demo.generator import demo_data_load
from app.demo.recommendations import demo_recommendations_load
from app.moderation.models import Moderation
from app.recommendations.models import Recommendation
from app.reports.filters import report_filter_from_query
from app.reports.report import build_report
from app.reports.stats import rate
from app.sampling.models import Cycle, Sample, SampleCase
from app.working_days import calendar_for
from tests.conftest import fresh_database_url, make_test_settings
from tests.factories import publish_templates

TODAY = date(2026, 11, 26)
FIRST_MONTH = date(2025, 12, 1)  # the first of the 12 months the QA lead's reports page shows by default


def load_demo(session: Session, *, today: date = TODAY, completed: bool = True) -> CompletedHistory:
    """The demo as `caseaudit demo-data` loads it, after `caseaudit templates publish`."""
    publish_templates(session)
    demo_data_load(session, today=today)
    demo_cases_load(session, n=300, today=today)
    demo_audits_load(session, today=today, calendar=calendar_for("england_and_wales"))
    demo_recommendations_load(session, today=today)
    return demo_completed_audits(session, today=today) if completed else CompletedHistory()


@dataclass
class Demo:
    session: Session
    history: CompletedHistory
    settings: Settings
    lead: User


@pytest.fixture(scope="module")
def demo(pytestconfig, tmp_path_factory) -> Iterator[Demo]:
    url = fresh_database_url(pytestconfig, tmp_path_factory.mktemp("demo_completed"), "demo_completed")
    alembic_upgrade(url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        history = load_demo(session)
        session.commit()
        lead = session.execute(select(User).where(User.username == "qa.lead")).unique().scalar_one()
        yield Demo(session=session, history=history, settings=make_test_settings(url), lead=lead)
    engine.dispose()


def completed(session: Session) -> list[Audit]:
    return list(session.execute(select(Audit).where(Audit.status == "completed").order_by(Audit.id)).scalars())


def test_the_qa_leads_reports_page_is_full(demo):
    history, db = demo.history, demo.session
    assert 300 <= history.audits <= 420 and history.cycles >= 12 and history.moderated >= 20
    flt = report_filter_from_query({}, user=demo.lead, today=TODAY)
    assert flt.date_from == FIRST_MONTH
    report = build_report(db, flt, settings=demo.settings)
    assert report.audits == history.audits > 200  # every completed audit is in the last 12 months
    assert all(n >= 5 for n in report.grades.overall.counts.values()), report.grades.overall.counts
    inadequate = report.grades.overall.percent("inadequate")
    assert inadequate is not None and 4 < inadequate < 20
    assert report.grades.overall.ungraded > 100  # the dip samples
    assert len(report.grades.by_service_area) == 4
    assert sum(1 for team in report.grades.by_team if team.grades.graded >= 5) >= 6
    assert report.sections and all(s.counts.n >= 10 for s in report.sections)
    assert {s.template_key for s in report.sections} == {CFA, DIP}
    assert all(not q.rate.too_few for q in report.questions if q.template_key == DIP)
    assert len(report.trend) == 12
    assert sum(1 for month in report.trend if month.audits) >= 10
    assert sum(1 for month in report.trend if month.graded >= 10) >= 10
    assert report.moderation.moderated >= 20 and report.moderation.changed >= 1
    assert report.moderation.changed < report.moderation.moderated / 2  # a minority change the grade
    assert report.moderation.up and report.moderation.down
    assert report.frame_size is None  # many samples
    twice = db.execute(
        select(Audit.case_id).where(Audit.status == "completed").group_by(Audit.case_id).having(func.count() >= 2)
    ).all()
    assert len(twice) >= 20


def test_teams_differ_clearly_in_places_and_mostly_within_sampling_error(demo):
    """Children in Care clearly above Safeguarding Team 2 on the dip sample checks; most pairs of teams overlap."""
    db = demo.session
    rates = {}
    for team_id, name in db.execute(select(Team.id, Team.name)).all():
        flt = report_filter_from_query({"team": str(team_id), "template": DIP}, user=demo.lead, today=TODAY)
        report = build_report(db, flt, settings=demo.settings)
        counts = report.sections[0].counts
        rates[name] = rate(counts.yes, counts.no)
    care, low = rates["Children in Care Team"], rates["Safeguarding Team 2"]
    assert care.interval.low > low.interval.high, (care, low)
    others = [r for name, r in rates.items() if name not in ("Children in Care Team", "Safeguarding Team 2")]
    overlapping = sum(
        1
        for i, a in enumerate(others)
        for b in others[i + 1 :]
        if a.interval.low <= b.interval.high and b.interval.low <= a.interval.high
    )
    pairs = len(others) * (len(others) - 1) // 2
    assert overlapping > pairs / 2


def test_a_cycle_drawn_from_a_frame_shows_the_correction(demo):
    db = demo.session
    cycle = db.execute(select(Cycle).where(Cycle.template_key == CFA).order_by(Cycle.id)).scalars().first()
    sample = db.execute(select(Sample).where(Sample.cycle_id == cycle.id)).scalar_one()
    flt = report_filter_from_query({"cycle": str(cycle.id)}, user=demo.lead, today=TODAY)
    report = build_report(db, flt, settings=demo.settings)
    assert report.frame_size == sample.frame_size > report.audits >= 30
    assert any("corrected for a frame of" in s.note for s in report.sections)
    assert sample.method == "stratified" and sum(s["sample_size"] for s in sample.strata) == sample.size


def test_every_audit_is_one_the_workflow_could_have_completed(demo):
    db = demo.session
    definitions = {v.id: template_definition(v) for v in db.execute(select(TemplateVersion)).scalars()}
    answers: dict[int, dict] = {}
    for audit_id, key, value in db.execute(select(AuditAnswer.audit_id, AuditAnswer.question_key, AuditAnswer.value)):
        answers.setdefault(audit_id, {})[key] = value
    rounds: dict[int, list[Moderation]] = {}
    for m in db.execute(select(Moderation).order_by(Moderation.audit_id, Moderation.round)).scalars():
        rounds.setdefault(m.audit_id, []).append(m)
    cases = {c.id: c for c in db.execute(select(Case)).scalars()}
    users = {u.id: u for u in db.execute(select(User)).unique().scalars()}
    in_samples = set(db.execute(select(SampleCase.sample_id, SampleCase.case_id)).all())
    for audit in completed(db):
        definition = definitions[audit.template_version_id]
        given = answers[audit.id]
        assert submission_errors(definition, given) == {}, audit.id
        assert audit.compliance_answers == compliance_code(definition, given)  # as completion writes it
        assert given.get("immediate_safeguarding_concern") == "no"
        assert audit.created_at < audit.submitted_at <= audit.completed_at
        assert FIRST_MONTH <= audit.completed_at.date() < TODAY
        assert audit.cycle_id is not None and (audit.sample_id, audit.case_id) in in_samples
        case = cases[audit.case_id]
        assert case.start_date <= audit.created_at.date()  # open when its sample was drawn
        cycle_start = db.get(Cycle, audit.cycle_id).start_date
        assert audit.created_at.date() >= cycle_start
        auditor = users[audit.auditor_id]
        assert auditor.has_role("auditor") and auditor.team_id != case.team_id
        mine = given.get("overall_grade")
        if definition.overall is None:
            assert audit.final_grade is None and mine is None
        theirs = rounds.get(audit.id)
        if not theirs:
            assert audit.final_grade == mine and audit.version >= 4
            assert mine != "inadequate"  # an Inadequate audit is always moderated
            continue
        last = theirs[-1]
        assert [m.round for m in theirs] == list(range(1, len(theirs) + 1))
        assert last.decision == "accept" and last.status == "decided"
        assert all(m.decision == "return" for m in theirs[:-1])
        assert audit.final_grade == last.overall_grade and last.auditor_overall_grade == mine
        assert last.decided_at == audit.completed_at and audit.version >= 5
        assert last.agreement["overall"] == (mine == last.overall_grade)
        moderator = users[last.moderator_id]
        assert moderator.has_role("moderator") and moderator.id != auditor.id and moderator.team_id != case.team_id
        assert theirs[0].reason == ("inadequate" if mine == "inadequate" else "random")


def test_the_follow_up_re_audits_cases_with_recommendations(demo):
    db = demo.session
    follow_up = db.execute(select(Cycle).where(Cycle.title.startswith("Follow-up"))).scalar_one()
    later = [a for a in completed(db) if a.cycle_id == follow_up.id]
    assert 25 <= len(later) <= 35
    recs = list(
        db.execute(
            select(Recommendation).where(
                Recommendation.audit_id.is_not(None), Recommendation.case_id.in_([a.case_id for a in later])
            )
        ).scalars()
    )
    earlier = {a.id: a for a in completed(db) if a.id in {r.audit_id for r in recs}}
    assert len({a.cycle_id for a in earlier.values()}) == 1  # all from the one baseline cycle
    assert all(a.completed_at.date() < follow_up.start_date for a in earlier.values())
    assert len(recs) >= 10
    closed_before = [r for r in recs if r.closed_at is not None and r.closed_at.date() < follow_up.start_date]
    not_closed = [r for r in recs if r not in closed_before]
    assert closed_before and not_closed
    # Where the recommendation was closed before the follow-up, the check failed then and mostly passes now.
    answers = {
        (audit_id, key): value
        for audit_id, key, value in db.execute(
            select(AuditAnswer.audit_id, AuditAnswer.question_key, AuditAnswer.value).where(
                AuditAnswer.audit_id.in_([a.id for a in later])
            )
        )
    }
    by_case = {a.case_id: a.id for a in later}
    now = Counter(answers.get((by_case[r.case_id], _question(r))) for r in closed_before)
    assert now["yes"] > now["no"]
    # Recommendations say what must be done, belong to the case's team and have their history.
    assert all(
        r.text in {text for text, _, _ in FOLLOW_UP_ACTIONS.values()} and r.section_key == "compliance" for r in recs
    )
    assert Counter(r.status for r in recs)["closed"] >= len(closed_before)


def _question(item: Recommendation) -> str:
    """The dip sample question a follow-up recommendation came from (its text names what must be done)."""
    return next(key for key, (text, _, _) in FOLLOW_UP_ACTIONS.items() if text == item.text)


def test_loading_again_adds_nothing(demo):
    db = demo.session
    tables = (Audit, AuditAnswer, Cycle, Case, Moderation, Recommendation)
    before = [db.execute(select(func.count()).select_from(t)).scalar_one() for t in tables]
    assert demo_completed_audits(db, today=TODAY) == CompletedHistory()
    db.flush()
    after = [db.execute(select(func.count()).select_from(t)).scalar_one() for t in tables]
    assert after == before
    db.rollback()


def test_the_same_seed_gives_the_same_history(db):
    load_demo(db, completed=False)
    definitions = {key: template_definition(template_latest(db, key=key)) for key in (CFA, DIP)}
    cases, people = _cases(db), _people(db)

    def plan(seed: int):
        return plan_history(
            cases=cases,
            people=people,
            definitions=definitions,
            today=TODAY,
            seed=seed,
            owner_of=lambda case_id: people[case_id % len(people)].id,
        )

    first, again, other = plan(5), plan(5), plan(6)
    assert first == again and first.audits
    assert [a.answers for a in first.audits] != [a.answers for a in other.audits]

    def facts(rows: list[dict]) -> list[dict]:
        return [{k: v for k, v in row.items() if k not in ("created_at", "updated_at")} for row in rows]

    rows = history_case_rows(db, today=TODAY, seed=5)
    assert facts(rows) == facts(history_case_rows(db, today=TODAY, seed=5)) and len(rows) >= 60
    assert all(r["status"] == "closed" and r["end_date"] < TODAY for r in rows)


def test_nothing_is_added_without_the_templates(db):
    demo_data_load(db, today=TODAY)
    demo_cases_load(db, n=50, today=TODAY)
    assert demo_completed_audits(db, today=TODAY) == CompletedHistory()
    assert db.execute(select(func.count()).select_from(Case)).scalar_one() == 50
