"""Cycles and samples against the database: frames, exclusions with counts, reproducible draws, manual additions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.accounts.roles import Role
from app.audit_templates.service import templates_publish
from app.audit_trail.models import AuditEvent
from app.date_rules import DueDateRules
from app.errors import Conflict, ValidationFailed
from app.sampling import service
from app.sampling.methods import draw_random, draw_stratified, frame_hash
from app.sampling.models import Sample, SampleCase
from app.sampling.schemas import CycleCreate, SampleFilters, SampleSpec
from tests.factories import make_audit, make_case, make_team, make_user

TODAY = date(2026, 11, 26)
DATES = DueDateRules(today=TODAY, horizon_years=3)


@pytest.fixture
def lead(db):
    templates_publish(db)
    return make_user(db, username="lead", roles=(Role.QA_LEAD,))


@pytest.fixture
def cycle(db, lead):
    return service.cycle_create(
        db,
        data=CycleCreate(
            title="December dip sample", kind="dip_sample", template_key="dip_sample", due_date=date(2026, 12, 31)
        ),
        actor=lead,
        dates=DATES,
    )


@pytest.fixture
def teams(db):
    one, two = make_team(db, name="Team One"), make_team(db, name="Team Two")
    cases = [
        make_case(
            db, team=one if i < 30 else two, child_id=f"S{i:04d}", case_type="cp" if i % 2 else "cin", missing_12m=i % 4
        )
        for i in range(40)
    ]
    return one, two, cases


def test_a_cycle_pins_the_newest_template_version_and_is_recorded(db, cycle):
    assert (cycle.template_key, cycle.template_version, cycle.status) == ("dip_sample", 2, "planned")
    assert db.execute(select(AuditEvent).where(AuditEvent.action == "cycle.create")).scalars().one()


def test_a_cycle_needs_a_published_template_and_sensible_dates(db, lead):
    with pytest.raises(ValidationFailed) as refused:
        service.cycle_create(
            db,
            data=CycleCreate(title="X", kind="thematic", template_key="nope", due_date=TODAY),
            actor=lead,
            dates=DATES,
        )
    assert refused.value.errors == {"template_key": "There is no published template called 'nope'"}
    with pytest.raises(ValidationFailed, match="on or after the start date"):
        service.cycle_create(
            db,
            data=CycleCreate(
                title="X",
                kind="thematic",
                template_key="dip_sample",
                due_date=TODAY,
                start_date=TODAY + timedelta(days=1),
            ),
            actor=lead,
            dates=DATES,
        )


def test_copying_a_cycle_moves_it_a_month_on(db, cycle, lead):
    copy = service.cycle_copy(db, cycle=cycle, actor=lead, dates=DATES)
    assert copy.id != cycle.id and copy.due_date == date(2027, 1, 31) and copy.template_key == "dip_sample"
    assert copy.title == "December dip sample (next month)"


def test_the_same_seed_draws_the_same_cases_and_the_dry_run_stores_nothing(db, cycle, lead, teams):
    spec = SampleSpec(method="random", size=10, seed=1234)
    preview = service.sample_draw(db, spec=spec, today=TODAY)
    assert preview.frame_size == 40 and len(preview.case_ids) == 10
    assert db.execute(select(SampleCase)).first() is None
    stored = service.sample_create(db, cycle=cycle, spec=spec, today=TODAY, actor=lead)
    assert service.sample_case_ids(db, sample=stored) == preview.case_ids
    assert (stored.seed, stored.frame_hash, stored.frame_size) == (1234, preview.frame_hash, 40)
    assert cycle.status == "sampling" or db.get(type(cycle), cycle.id).status == "sampling"


def test_cases_in_an_open_sample_are_excluded_next_time_and_counted(db, cycle, lead, teams):
    service.sample_create(db, cycle=cycle, spec=SampleSpec(method="random", size=10, seed=1), today=TODAY, actor=lead)
    again = service.sample_draw(db, spec=SampleSpec(method="random", size=10, seed=1), today=TODAY)
    assert again.frame_size == 30 and again.exclusions["in_open_sample"] == 10
    switched_off = service.sample_draw(
        db, spec=SampleSpec(method="random", size=10, seed=1, exclude_in_open_sample=False), today=TODAY
    )
    assert switched_off.frame_size == 40 and "in_open_sample" not in switched_off.exclusions


def test_closed_and_recently_audited_cases_are_excluded_with_counts(db, lead, teams):
    _, _, cases = teams
    cases[0].status = "closed"
    db.add(cases[0])
    make_audit(db, case=cases[1], auditor=lead)
    draw = service.sample_draw(db, spec=SampleSpec(method="random", size=5, seed=3), today=TODAY)
    assert draw.exclusions == {"closed": 1, "audited_recently": 1, "in_open_sample": 0}
    assert draw.frame_size == 38 and not {cases[0].id, cases[1].id} & set(draw.case_ids)


def test_the_database_draw_is_the_pure_draw_of_the_same_frame(db, cycle, lead, teams):
    """The frame comes from SQL as one string per stratum, parsed into arrays: it must be the frame the pure
    functions define, down to the hash, with a stratum for cases with no team and each exclusion counted."""
    one, _two, cases = teams
    loose = [make_case(db, child_id=f"LOOSE{i}") for i in range(3)]  # no team
    cases[2].status = "closed"
    db.add(cases[2])
    make_audit(db, case=cases[2], auditor=lead)  # closed AND audited: counted by both exclusions
    make_audit(db, case=cases[3], auditor=lead)
    service.sample_create(db, cycle=cycle, spec=SampleSpec(method="random", size=1, seed=4), today=TODAY, actor=lead)
    in_sample = set(service.sample_case_ids(db, sample=db.execute(select(Sample)).scalar_one()))
    gone = {cases[2].id, cases[3].id} | in_sample
    expected = {c.id: ("Team One" if c.team_id == one.id else "Team Two") for c in cases if c.id not in gone}
    expected |= {c.id: "(none)" for c in loose}
    spec = SampleSpec(method="stratified", size=9, strata_by="team", min_per_stratum=1, seed=77)
    draw = service.sample_draw(db, spec=spec, today=TODAY)
    assert (draw.case_ids, draw.strata) == draw_stratified(expected, 9, 77, minimum=1)
    assert draw.frame_hash == frame_hash(expected) and draw.frame_size == len(expected) == 40
    assert draw.exclusions == {"closed": 1, "audited_recently": 2, "in_open_sample": 1}
    assert {draw.stratum_of[i] for i in draw.case_ids} <= {"Team One", "Team Two", "(none)"}
    everything = service.sample_draw(
        db,
        spec=SampleSpec(
            method="random",
            size=5,
            seed=1,
            exclude_closed=False,
            exclude_audited_within_days=None,
            exclude_in_open_sample=False,
        ),
        today=TODAY,
    )
    assert everything.frame_size == 43 and everything.exclusions == {}
    assert everything.case_ids == draw_random([c.id for c in cases + loose], 5, 1)


def test_stratified_by_team_with_a_minimum(db, lead, teams):
    draw = service.sample_draw(
        db, spec=SampleSpec(method="stratified", size=8, strata_by="team", min_per_stratum=3, seed=9), today=TODAY
    )
    assert [(s.value, s.frame_size, s.sample_size) for s in draw.strata] == [("Team One", 30, 5), ("Team Two", 10, 3)]
    assert len(draw.case_ids) == 8


def test_stratified_needs_something_to_stratify_by_and_minima_that_fit(db, lead, teams):
    with pytest.raises(ValidationFailed) as refused:
        service.sample_draw(db, spec=SampleSpec(method="stratified", size=8), today=TODAY)
    assert "strata_by" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        service.sample_draw(
            db, spec=SampleSpec(method="stratified", size=3, strata_by="team", min_per_stratum=2), today=TODAY
        )
    assert "more than the sample size of 3" in refused.value.errors["min_per_stratum"]


def test_a_thematic_frame_uses_the_filters(db, lead, teams):
    spec = SampleSpec(method="thematic", size=100, filters=SampleFilters(case_types=["cp"], missing_12m_at_least=2))
    draw = service.sample_draw(db, spec=spec, today=TODAY)
    _, _, cases = teams
    expected = {c.id for c in cases if c.case_type == "cp" and c.missing_12m >= 2}
    assert set(draw.case_ids) == expected and draw.frame_size == len(expected)  # a small frame: all of them


def test_stepped_down_from_referral_to_early_help_within_the_months_given(db, lead):
    def case(child_id, **lists):
        return make_case(
            db,
            child_id=child_id,
            case_type="early_help",
            involvements={key.replace("_", " ").title(): {"start": start, "end": None} for key, start in lists.items()},
        )

    recent = case("STEP1", list_3="2026-09-01", list_2="2026-09-10")  # referral, then early help in September
    case("STEP2", list_3="2026-05-01", list_2="2026-05-10")  # stepped down, but six months ago
    case("STEP3", list_2="2026-10-01")  # early help with no referral: not a step-down
    case("STEP4", list_3="2026-10-20", list_2="2026-10-01")  # the referral came after the early help
    make_case(db, child_id="STEP5", case_type="referral", involvements={"List 3": {"start": "2026-10-01"}})
    spec = SampleSpec(method="thematic", size=10, filters=SampleFilters(stepped_down_within_months=3))
    draw = service.sample_draw(db, spec=spec, today=TODAY)
    assert draw.case_ids == [recent.id] and draw.frame_size == 1


def test_a_case_added_by_hand_needs_a_reason_and_is_recorded_as_such(db, cycle, lead, teams):
    sample = service.sample_create(
        db, cycle=cycle, spec=SampleSpec(method="random", size=2, seed=5), today=TODAY, actor=lead
    )
    with pytest.raises(ValidationFailed) as refused:
        service.sample_add_case(db, sample=sample, child_id="S0007", reason="  ", actor=lead)
    assert refused.value.errors == {"reason": "Give the reason for adding this case by hand"}
    with pytest.raises(ValidationFailed, match="no case with the child ID 'NOPE'"):
        service.sample_add_case(db, sample=sample, child_id="NOPE", reason="Complaint", actor=lead)
    drawn = set(service.sample_case_ids(db, sample=sample))
    extra = next(c for c in teams[2] if c.id not in drawn)
    row = service.sample_add_case(
        db, sample=sample, child_id=extra.child_id, reason="Complaint from the family", actor=lead
    )
    assert row.manual_reason == "Complaint from the family"
    with pytest.raises(ValidationFailed, match="already in this sample"):
        service.sample_add_case(db, sample=sample, child_id=extra.child_id, reason="Again", actor=lead)


def test_closing_a_cycle_is_recorded_and_stops_new_samples(db, cycle, lead, teams):
    service.cycle_close(db, cycle=cycle, actor=lead)
    assert cycle.status == "closed"
    assert db.execute(select(AuditEvent).where(AuditEvent.action == "cycle.close")).scalars().one()
    with pytest.raises(Conflict, match="already closed"):
        service.cycle_close(db, cycle=cycle, actor=lead)
    with pytest.raises(Conflict, match="closed"):
        service.sample_create(
            db, cycle=cycle, spec=SampleSpec(method="random", size=2, seed=1), today=TODAY, actor=lead
        )
