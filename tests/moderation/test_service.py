"""Moderation through the services: selection on submit, allocation, reassigning, grading and deciding."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.roles import Role, TrainingKind
from app.audit_trail.models import AuditEvent
from app.audits import selectors as audit_selectors
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.flows import audits as audit_flows
from app.moderation import selection, selectors, service
from app.moderation.eligibility import AuditParties, ineligibility_reasons
from tests.factories import add_training, make_team, make_user
from tests.moderation.conftest import TODAY, escalate, fill, new_audit, submit


def _events(db, action: str) -> list[AuditEvent]:
    return list(db.execute(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).scalars())


# --- Selection on submit -----------------------------------------------------------------------------------


def test_an_audit_not_selected_is_completed_with_the_auditors_grade(db, mw):
    audit = submit(db, new_audit(db, mw), mw.auditor, overall="good")
    assert (audit.status, audit.final_grade) == ("completed", "good")
    assert audit.completed_at is not None
    assert selectors.moderation_rounds(db, audit_id=audit.id) == []
    (event,) = [e for e in _events(db, "audit.complete") if e.entity_id == str(audit.id)]
    assert event.after["rate"] == 0.0 and 0 <= event.after["draw"] < 1  # the draw is on the record


def test_inadequate_and_safeguarding_are_always_selected(db, mw):
    bad = submit(db, new_audit(db, mw), mw.auditor, overall="inadequate")
    risky = new_audit(db, mw)
    fill(db, risky, mw.auditor, overall="outstanding")
    escalate(db, risky, mw)
    audit_flows.audit_submit(db, audit=risky, version=risky.version, actor=mw.auditor)
    for audit, reason in ((bad, "inadequate"), (risky, "safeguarding")):
        assert audit.status == "in_moderation"
        (round_,) = selectors.moderation_rounds(db, audit_id=audit.id)
        assert (round_.reason, round_.round, round_.status) == (reason, 1, "allocated")
        assert round_.moderator_id in {mw.mona.id, mw.max.id}
    assert [e.after["reason"] for e in _events(db, "audit.moderate")] == ["inadequate", "safeguarding"]


def test_an_overall_grade_better_than_its_sections_allow_is_always_moderated(db, mw):
    """Good overall with two Inadequate sections: the flags "Check your answers" shows now select it (rate 0)."""
    audit = new_audit(db, mw)
    _, definition = audit_selectors.audit_template(db, audit)
    two = [s.key for s in definition.judgement_sections][:2]
    submit(db, audit, mw.auditor, overall="good", section="good", sections=dict.fromkeys(two, "inadequate"))
    assert audit.status == "in_moderation"
    (round_,) = selectors.moderation_rounds(db, audit_id=audit.id)
    assert round_.reason == "grade_flags"
    assert selection.REASON_LABELS[round_.reason] == "Overall grade better than its sections"
    # The same grades without the Inadequate sections are not flagged, and complete at rate 0.
    plain = submit(db, new_audit(db, mw), mw.auditor, overall="good", section="good")
    assert plain.status == "completed"


def test_random_selection_follows_the_recorded_draw_and_rate(db, mw):
    mw.cycle.moderation_rate = 0.5
    db.add(mw.cycle)
    db.flush()
    outcomes = {}
    for _ in range(8):
        audit = submit(db, new_audit(db, mw), mw.auditor, overall="good")
        draw = selection.selection_draw(mw.cycle.id, audit.id, 1)
        outcomes[audit.id] = (draw < 0.5, audit.status)
        if audit.status == "in_moderation":
            (round_,) = selectors.moderation_rounds(db, audit_id=audit.id)
            assert (round_.reason, round_.selection_draw, round_.selection_rate) == ("random", draw, 0.5)
    assert all((status == "in_moderation") == picked for picked, status in outcomes.values())


def test_audits_outside_a_cycle_have_rate_zero_and_are_moderated_blind(db, mw):
    ad_hoc = submit(db, new_audit(db, mw, in_cycle=False), mw.auditor, overall="good")
    assert ad_hoc.status == "completed"
    flagged = submit(db, new_audit(db, mw, in_cycle=False), mw.auditor, overall="inadequate")
    assert selectors.latest_round(db, audit_id=flagged.id).blind is True


# --- Allocation ------------------------------------------------------------------------------------------------


def test_allocation_is_balanced_between_eligible_moderators(db, mw):
    audits = [submit(db, new_audit(db, mw), mw.auditor, overall="inadequate") for _ in range(6)]
    held = [selectors.latest_round(db, audit_id=a.id).moderator_id for a in audits]
    assert held.count(mw.mona.id) == 3 and held.count(mw.max.id) == 3


def test_conflicts_are_refused_in_allocation(db, mw):
    # Mona is in the case's team, Max is the allocated worker: nobody else is trained.
    audit = submit(db, new_audit(db, mw, team=mw.south, worker_name="max  MARSH"), mw.auditor, overall="inadequate")
    round_ = selectors.latest_round(db, audit_id=audit.id)
    assert round_.moderator_id is None and audit.status == "in_moderation"
    reasons = dict(selectors.why_no_moderator(db, audit=audit, today=TODAY))
    assert reasons == {
        "Max Marsh": ["is the case's allocated worker"],
        "Mona Moderator": ["works in the case's team (South Team)"],
    }
    assert selectors.unallocated_count(db) == 1


def test_the_auditor_never_moderates_their_own_audit_and_expired_training_is_named(db, mw):
    both = make_user(db, username="both", roles=(Role.AUDITOR, Role.MODERATOR), team=make_team(db), full_name="Bo Th")
    add_training(db, both, TrainingKind.MODERATOR, TODAY - timedelta(days=400), TODAY - timedelta(days=2))
    audit = new_audit(db, mw)
    audit.auditor_id = both.id
    db.add(audit)
    db.flush()
    parties = selectors.audit_parties(db, audit=audit)
    assert isinstance(parties, AuditParties)
    infos = {i.id: i for i in selectors.moderator_pool(db, today=TODAY)}
    assert infos[both.id].training_note.startswith("moderator training expired on ")
    assert "is the auditor" in ineligibility_reasons(infos[both.id], parties)


# --- The QA lead's hand -----------------------------------------------------------------------------------------


def test_reassigning_checks_eligibility_needs_a_reason_and_is_recorded(db, mw):
    audit = submit(db, new_audit(db, mw), mw.auditor, overall="inadequate")
    round_ = selectors.latest_round(db, audit_id=audit.id)
    other = mw.max if round_.moderator_id == mw.mona.id else mw.mona
    with pytest.raises(ValidationFailed) as missing:
        service.moderation_reassign(
            db,
            moderation=round_,
            moderator_id=other.id,
            reason="  ",
            version=round_.version,
            actor=mw.lead,
            today=TODAY,
        )
    assert set(missing.value.errors) == {"reason"}
    with pytest.raises(ValidationFailed) as conflict:
        service.moderation_reassign(
            db,
            moderation=round_,
            moderator_id=mw.auditor.id,
            reason="Leave",
            version=round_.version,
            actor=mw.lead,
            today=TODAY,
        )
    assert "is the auditor" in conflict.value.errors["moderator_id"]
    assert "does not have the moderator role" in conflict.value.errors["moderator_id"]
    with pytest.raises(PermissionDenied):
        service.moderation_reassign(
            db,
            moderation=round_,
            moderator_id=other.id,
            reason="Leave",
            version=round_.version,
            actor=mw.mona,
            today=TODAY,
        )
    service.moderation_reassign(
        db,
        moderation=round_,
        moderator_id=other.id,
        reason="On leave until March",
        version=round_.version,
        actor=mw.lead,
        today=TODAY,
    )
    assert round_.moderator_id == other.id and round_.version == 2
    (event,) = _events(db, "moderation.reassign")
    assert event.after["reason"] == "On leave until March" and event.after["moderator_id"] == other.id
    with pytest.raises(Conflict):  # the form was read before the reassignment
        service.moderation_reassign(
            db, moderation=round_, moderator_id=mw.lead.id, reason="x", version=1, actor=mw.lead, today=TODAY
        )


def test_the_qa_lead_adds_a_completed_audit_and_accepting_it_changes_the_final_grade(db, mw):
    audit = submit(db, new_audit(db, mw), mw.auditor, overall="good")
    assert audit.status == "completed"
    with pytest.raises(PermissionDenied):
        service.moderation_add(db, audit=audit, version=audit.version, actor=mw.mona, today=TODAY)
    round_ = service.moderation_add(db, audit=audit, version=audit.version, actor=mw.lead, today=TODAY)
    assert (audit.status, round_.reason, round_.selected_by_id) == ("in_moderation", "added", mw.lead.id)
    with pytest.raises(Conflict):
        service.moderation_add(db, audit=audit, version=audit.version, actor=mw.lead, today=TODAY)
    moderator = db.get(type(mw.lead), round_.moderator_id)
    sections = _sections(db, audit)
    service.moderation_grade(
        db,
        moderation=round_,
        audit=audit,
        section_grades=dict.fromkeys(sections, "good"),
        overall_grade="requires_improvement",
        version=round_.version,
        actor=moderator,
    )
    service.moderation_decide(
        db,
        moderation=round_,
        audit=audit,
        agreement={**dict.fromkeys(sections, True), "overall": False},
        rationale="Drift not weighed",
        learning="",
        decision="accept",
        feedback="",
        version=round_.version,
        actor=moderator,
    )
    assert (audit.status, audit.final_grade) == ("completed", "requires_improvement")
    # The auditor's answers are untouched.
    _, definition = audit_selectors.audit_template(db, audit)
    assert audit_selectors.audit_answers(db, audit=audit)[definition.overall.grade_question] == "good"


def test_only_submitted_or_completed_audits_can_be_added(db, mw):
    audit = new_audit(db, mw)
    with pytest.raises(Conflict):
        service.moderation_add(db, audit=audit, version=audit.version, actor=mw.lead, today=TODAY)


# --- Grading and deciding ----------------------------------------------------------------------------------------


def _sections(db, audit) -> list[str]:
    _, definition = audit_selectors.audit_template(db, audit)
    return [s.key for s in service.sections_to_grade(definition, audit_selectors.audit_answers(db, audit=audit))]


def _moderated(db, mw, **grades):
    audit = submit(db, new_audit(db, mw), mw.auditor, overall="inadequate", **grades)
    round_ = selectors.latest_round(db, audit_id=audit.id)
    return audit, round_, db.get(type(mw.lead), round_.moderator_id)


def test_grading_needs_every_section_and_the_overall_grade_and_only_the_moderator_may(db, mw):
    audit, round_, moderator = _moderated(db, mw)
    sections = _sections(db, audit)
    with pytest.raises(ValidationFailed) as exc:
        service.moderation_grade(
            db,
            moderation=round_,
            audit=audit,
            section_grades={sections[0]: "good"},
            overall_grade=None,
            version=round_.version,
            actor=moderator,
        )
    assert f"grade_{sections[1]}" in exc.value.errors and "overall_grade" in exc.value.errors
    assert f"grade_{sections[0]}" not in exc.value.errors
    other = mw.max if moderator.id == mw.mona.id else mw.mona
    for intruder in (other, mw.lead):
        with pytest.raises(PermissionDenied):
            service.moderation_grade(
                db,
                moderation=round_,
                audit=audit,
                section_grades={},
                overall_grade="good",
                version=round_.version,
                actor=intruder,
            )
    with pytest.raises(Conflict):  # blind: no decision before grading
        service.moderation_decide(
            db,
            moderation=round_,
            audit=audit,
            agreement={"overall": True},
            rationale="",
            learning="",
            decision="accept",
            feedback="",
            version=round_.version,
            actor=moderator,
        )
    service.moderation_grade(
        db,
        moderation=round_,
        audit=audit,
        section_grades=dict.fromkeys(sections, "good"),
        overall_grade="inadequate",
        version=round_.version,
        actor=moderator,
    )
    assert (round_.status, round_.overall_grade) == ("graded", "inadequate") and round_.graded_at is not None
    with pytest.raises(Conflict):  # grades cannot change once the auditor's are shown
        service.moderation_grade(
            db,
            moderation=round_,
            audit=audit,
            section_grades=dict.fromkeys(sections, "good"),
            overall_grade="good",
            version=round_.version,
            actor=moderator,
        )


def test_disagreeing_needs_a_rationale_and_returning_needs_feedback(db, mw):
    audit, round_, moderator = _moderated(db, mw)
    sections = _sections(db, audit)
    service.moderation_grade(
        db,
        moderation=round_,
        audit=audit,
        section_grades=dict.fromkeys(sections, "good"),
        overall_grade="requires_improvement",
        version=round_.version,
        actor=moderator,
    )
    agreement = {**dict.fromkeys(sections, True), sections[0]: False, "overall": False}
    with pytest.raises(ValidationFailed) as exc:
        service.moderation_decide(
            db,
            moderation=round_,
            audit=audit,
            agreement=agreement,
            rationale=" ",
            learning="",
            decision="return",
            feedback="",
            version=round_.version,
            actor=moderator,
        )
    assert set(exc.value.errors) == {"rationale", "feedback"}
    assert "the overall grade" in exc.value.errors["rationale"]
    with pytest.raises(ValidationFailed) as missing:
        service.moderation_decide(
            db,
            moderation=round_,
            audit=audit,
            agreement={"overall": True},
            rationale="",
            learning="",
            decision=None,
            feedback="",
            version=round_.version,
            actor=moderator,
        )
    assert f"agree_{sections[0]}" in missing.value.errors and "decision" in missing.value.errors
    assert round_.status == "graded" and audit.status == "in_moderation"  # nothing saved


def test_return_then_resubmit_goes_back_to_the_same_moderator_in_a_new_round(db, mw):
    audit, round_, moderator = _moderated(db, mw)
    sections = _sections(db, audit)
    service.moderation_grade(
        db,
        moderation=round_,
        audit=audit,
        section_grades=dict.fromkeys(sections, "good"),
        overall_grade="requires_improvement",
        version=round_.version,
        actor=moderator,
    )
    service.moderation_decide(
        db,
        moderation=round_,
        audit=audit,
        agreement={**dict.fromkeys(sections, False), "overall": False},
        rationale="Graded too harshly",
        learning="Weigh the strengths",
        decision="return",
        feedback="Regrade sections",
        version=round_.version,
        actor=moderator,
    )
    assert (audit.status, round_.status, round_.decision) == ("returned", "decided", "return")
    assert round_.agreement == {**dict.fromkeys(sections, False), "overall": False}
    with pytest.raises(Conflict):  # deciding the round twice
        service.moderation_decide(
            db,
            moderation=round_,
            audit=audit,
            agreement={},
            rationale="x",
            learning="",
            decision="accept",
            feedback="",
            version=round_.version,
            actor=moderator,
        )
    # The auditor edits and resubmits with a better grade: it goes back all the same.
    submit(db, audit, mw.auditor, overall="requires_improvement")
    assert audit.status == "in_moderation"
    first, second = selectors.moderation_rounds(db, audit_id=audit.id)
    assert (second.round, second.reason, second.moderator_id) == (2, "resubmitted", moderator.id)
    assert first.id == round_.id and second.status == "allocated"


def test_a_stale_round_version_is_refused_and_nothing_is_overwritten(db, mw):
    audit, round_, moderator = _moderated(db, mw)
    sections = _sections(db, audit)
    grades = dict.fromkeys(sections, "good")
    with pytest.raises(Conflict):
        service.moderation_grade(
            db,
            moderation=round_,
            audit=audit,
            section_grades=grades,
            overall_grade="good",
            version=round_.version + 5,
            actor=moderator,
        )
    assert round_.status == "allocated" and round_.section_grades == {}


def test_open_rounds_take_grades_and_decision_together(db, mw):
    mw.cycle.blind_moderation = False
    db.add(mw.cycle)
    db.flush()
    audit, round_, moderator = _moderated(db, mw)
    assert round_.blind is False
    sections = _sections(db, audit)
    service.moderation_decide(
        db,
        moderation=round_,
        audit=audit,
        agreement={**dict.fromkeys(sections, True), "overall": True},
        rationale="",
        learning="",
        decision="accept",
        feedback="",
        version=round_.version,
        actor=moderator,
        section_grades=dict.fromkeys(sections, "good"),
        overall_grade="inadequate",
    )
    assert (round_.status, round_.overall_grade, audit.final_grade) == ("decided", "inadequate", "inadequate")
    assert round_.graded_at is not None and round_.decided_at is not None


def test_the_moderators_grades_are_hidden_only_while_blind_and_ungraded(db, mw):
    audit, round_, moderator = _moderated(db, mw)
    assert selectors.grades_hidden_from(db, user=moderator, audit=audit)
    assert not selectors.grades_hidden_from(db, user=mw.lead, audit=audit)
    assert not selectors.grades_hidden_from(db, user=mw.auditor, audit=audit)
    # Until they have graded, the audit's own pages (which show grades) are closed to the moderator.
    assert not selectors.audit_visible_to(moderator, audit)
    service.moderation_grade(
        db,
        moderation=round_,
        audit=audit,
        section_grades=dict.fromkeys(_sections(db, audit), "good"),
        overall_grade="good",
        version=round_.version,
        actor=moderator,
    )
    assert not selectors.grades_hidden_from(db, user=moderator, audit=audit)
    assert selectors.audit_visible_to(moderator, audit)


def test_reassigning_a_graded_round_lets_the_new_moderator_grade_afresh(db, mw):
    audit, round_, moderator = _moderated(db, mw)
    sections = _sections(db, audit)
    service.moderation_grade(
        db,
        moderation=round_,
        audit=audit,
        section_grades=dict.fromkeys(sections, "good"),
        overall_grade="good",
        version=round_.version,
        actor=moderator,
    )
    other = mw.max if moderator.id == mw.mona.id else mw.mona
    service.moderation_reassign(
        db,
        moderation=round_,
        moderator_id=other.id,
        reason="Moderator left",
        version=round_.version,
        actor=mw.lead,
        today=TODAY,
    )
    assert (round_.status, round_.section_grades, round_.overall_grade, round_.moderator_id) == (
        "allocated",
        {},
        None,
        other.id,
    )
    (event,) = _events(db, "moderation.reassign")
    assert event.before["overall_grade"] == "good"  # the old grades stay on the record
    assert selectors.grades_hidden_from(db, user=other, audit=audit)
