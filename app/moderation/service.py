"""Moderation: selecting submitted audits, allocating a moderator, blind grading, agreement and the decision.

The audit itself moves only through `app.audits.service.audit_move` (legal moves, optimistic locking, one
audit-trail event per move). A round has its own version: every grading or decision names the version it was
made against, so a stale form (another tab, or a reassignment meanwhile) is refused and overwrites nothing.

Agreement is stored as {section key: bool, ..., "overall": bool} beside the moderator's `section_grades` and
`overall_grade`; the agreement statistics read exactly these with the auditor's answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from app import clock
from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_templates.conditions import is_visible
from app.audit_templates.schema import Grade, Section, TemplateDefinition
from app.audit_templates.scoring import overall_grade_flags
from app.audit_trail.service import audit_record
from app.audits import workflow
from app.audits.models import Audit
from app.audits.selectors import audit_answers, audit_template
from app.audits.service import STALE_MESSAGE, audit_move
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.escalations.models import Escalation
from app.moderation import selection
from app.moderation.eligibility import choose_moderator, ineligibility_reasons
from app.moderation.models import Moderation
from app.moderation.selectors import (
    ALLOCATED,
    DECIDED,
    GRADE_LABELS,
    GRADED,
    audit_parties,
    auditor_grades,
    latest_round,
    moderator_infos,
    moderator_pool,
)
from app.sampling.models import Cycle

OVERALL = "overall"
ACCEPT, RETURN = "accept", "return"
DECISIONS = (ACCEPT, RETURN)
MAX_TEXT = 10_000
ROUND_STALE = (
    "This moderation has been changed since you opened it, in another tab or by someone else. "
    "Nothing you just sent was saved: reload the page to see where it stands, then try again."
)


def _today(today: date | None) -> date:
    if today is not None:
        return today
    from app.config import (
        get_settings,  # the request's settings are not at hand when an audit is submitted
    )

    return get_settings().today()


# --- Pure rules: what the moderator must grade, what agreement is, what a decision needs ---------------------


def sections_to_grade(definition: TemplateDefinition, answers: Mapping[str, Any]) -> list[Section]:
    """The judgement sections the moderator grades: those the auditor's form showed (and so graded)."""
    found = []
    for section in definition.judgement_sections:
        question = definition.question(section.grade_key)
        if question is not None and is_visible(question, answers):
            found.append(section)
    return found


def grade_errors(
    sections: list[Section], section_grades: Mapping[str, Any], overall_grade: Any, *, field_prefix: str = "grade_"
) -> dict[str, str]:
    """A message per missing or invalid grade, keyed by form field (`grade_<section>`, `overall_grade`)."""
    valid = {g.value for g in Grade}
    errors = {}
    for section in sections:
        value = section_grades.get(section.key)
        if value not in valid:
            errors[f"{field_prefix}{section.key}"] = f"Select your grade for {section.title}"
    known = {s.key for s in sections}
    for key in section_grades:
        if key not in known:
            errors[f"{field_prefix}{key}"[:120]] = f"'{str(key)[:60]}' is not a judgement section of this audit"
    if overall_grade not in valid:
        errors["overall_grade"] = "Select your overall grade"
    return errors


def suggested_agreement(
    moderator_sections: Mapping[str, str],
    auditor_sections: Mapping[str, str],
    moderator_overall: str | None,
    auditor_overall: str | None,
) -> dict[str, bool]:
    """Agree where the two grades are equal: the starting point the moderator confirms or changes."""
    agreement = {key: auditor_sections.get(key) == grade for key, grade in moderator_sections.items()}
    agreement[OVERALL] = auditor_overall is not None and auditor_overall == moderator_overall
    return agreement


def decision_errors(
    agreement: Mapping[str, bool],
    *,
    rationale: str,
    decision: str | None,
    feedback: str,
    learning: str = "",
    labels: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A rationale when anything is disagreed, a decision, and feedback when the audit is returned."""
    errors = {}
    disagreed = [key for key, agreed in agreement.items() if not agreed]
    if disagreed and not rationale.strip():
        names = ", ".join((labels or {}).get(key, "the overall grade" if key == OVERALL else key) for key in disagreed)
        errors["rationale"] = f"Explain why you disagree with the auditor (you disagreed on {names})"
    if decision not in DECISIONS:
        errors["decision"] = "Select whether to accept the audit or return it to the auditor"
    elif decision == RETURN and not feedback.strip():
        errors["feedback"] = "Give feedback for the auditor: what to change before they resubmit"
    for name, text in (("rationale", rationale), ("learning", learning), ("feedback", feedback)):
        errors.update(text_errors(name, text))
    return errors


def text_errors(name: str, text: str, limit: int = MAX_TEXT) -> dict[str, str]:
    """Too long, or holding a NUL character (which PostgreSQL cannot store): a message naming the field."""
    if len(text) > limit:
        return {name: f"The {name} must be {limit:,} characters or fewer"}
    if "\x00" in text:
        return {name: f"The {name} contains a character that cannot be stored (NUL): remove it"}
    return {}


# --- Selection and allocation --------------------------------------------------------------------------------


def _cycle(session: Session, audit: Audit) -> Cycle | None:
    return session.get(Cycle, audit.cycle_id) if audit.cycle_id is not None else None


def _allocate(session: Session, *, audit: Audit, round: int, today: date, prefer_id: int | None) -> int | None:
    chosen = choose_moderator(
        moderator_pool(session, today=today), audit_parties(session, audit=audit), round=round, prefer_id=prefer_id
    )
    return chosen.id if chosen else None


def _new_round(
    session: Session,
    *,
    audit: Audit,
    reason: str,
    actor: User | None,
    today: date,
    draw: float | None = None,
    rate: float | None = None,
    selected_by: User | None = None,
) -> Moderation:
    previous = latest_round(session, audit_id=audit.id)
    if previous is not None and previous.status != DECIDED:
        raise Conflict("This audit is already being moderated.")
    number = previous.round + 1 if previous else 1
    prefer = previous.moderator_id if previous is not None and previous.decision == RETURN else None
    cycle = _cycle(session, audit)
    moderator_id = _allocate(session, audit=audit, round=number, today=today, prefer_id=prefer)
    moderation = Moderation(
        audit_id=audit.id,
        round=number,
        reason=reason,
        selection_draw=draw,
        selection_rate=rate,
        moderator_id=moderator_id,
        blind=cycle.blind_moderation if cycle is not None else True,
        selected_by_id=selected_by.id if selected_by else None,
    )
    session.add(moderation)
    session.flush()
    moderator = session.get(User, moderator_id) if moderator_id else None
    audit_record(
        session,
        actor=actor,
        action="moderation.allocate",
        summary=(
            f"Round {number} of moderation of audit {audit.id} allocated to {moderator.username}"
            if moderator
            else f"Round {number} of moderation of audit {audit.id}: no eligible moderator"
        ),
        entity_type="moderation",
        entity_id=moderation.id,
        after={
            "audit_id": audit.id,
            "round": number,
            "reason": reason,
            "moderator_id": moderator_id,
            "blind": moderation.blind,
            "draw": draw,
            "rate": rate,
        },
    )
    return moderation


def moderation_on_submit(
    session: Session, *, audit: Audit, actor: User | None, today: date | None = None
) -> Moderation | None:
    """Called once an audit is submitted: either a new moderation round (the audit goes in_moderation, a
    moderator allocated if anyone is eligible) or completion with the auditor's overall grade as final."""
    if audit.status != workflow.SUBMITTED:
        raise Conflict(
            f"Only a submitted audit can be selected for moderation; this one is "
            f"{workflow.LABELS.get(audit.status, audit.status)}."
        )
    assert audit.id is not None
    _, definition = audit_template(session, audit)
    answers = audit_answers(session, audit=audit)
    _, overall = auditor_grades(definition, answers)
    previous = latest_round(session, audit_id=audit.id)
    number = previous.round + 1 if previous else 1
    cycle = _cycle(session, audit)
    escalated = (
        session.execute(
            select(func.count()).select_from(Escalation).where(Escalation.audit_id == audit.id)
        ).scalar_one()
        > 0
    )
    outcome = selection.select_for_moderation(
        auditor_overall=overall,
        has_escalation=escalated,
        was_returned=previous is not None and previous.decision == RETURN,
        draw=selection.selection_draw(audit.cycle_id, audit.id, number),
        rate=cycle.moderation_rate if cycle is not None else 0.0,
        grade_flagged=bool(overall_grade_flags(definition, answers)),
    )
    detail = {"draw": round(outcome.draw, 6), "rate": outcome.rate}
    if not outcome.selected:
        audit_move(
            session,
            audit=audit,
            to=workflow.COMPLETED,
            version=audit.version,
            actor=actor,
            summary=f"Completed audit {audit.id} without moderation (not selected)",
            detail={**detail, "final_grade": overall},
            final_grade=overall,
            completed_at=clock.now(),
        )
        return None
    assert outcome.reason is not None
    moderation = _new_round(
        session,
        audit=audit,
        reason=outcome.reason,
        actor=actor,
        today=_today(today),
        draw=outcome.draw,
        rate=outcome.rate,
    )
    audit_move(
        session,
        audit=audit,
        to=workflow.IN_MODERATION,
        version=audit.version,
        actor=actor,
        summary=f"Audit {audit.id} selected for moderation ({selection.REASON_LABELS[outcome.reason]})",
        detail={**detail, "reason": outcome.reason, "round": moderation.round},
    )
    return moderation


def moderation_add(
    session: Session, *, audit: Audit, version: int, actor: User, today: date | None = None
) -> Moderation:
    """The QA lead adds a submitted or completed audit to moderation (reason `added`)."""
    if not actor.has_role(Role.QA_LEAD):
        raise PermissionDenied("Only the QA lead can add an audit to moderation.")
    if audit.status not in (workflow.SUBMITTED, workflow.COMPLETED):
        raise Conflict(
            f"Only a submitted or completed audit can be added to moderation; this one is "
            f"{workflow.LABELS.get(audit.status, audit.status)}."
        )
    if audit.version != version:
        raise Conflict(STALE_MESSAGE)
    moderation = _new_round(
        session, audit=audit, reason=selection.ADDED, actor=actor, today=_today(today), selected_by=actor
    )
    audit_move(
        session,
        audit=audit,
        to=workflow.IN_MODERATION,
        version=version,
        actor=actor,
        summary=f"Audit {audit.id} added to moderation by the QA lead",
        detail={"reason": selection.ADDED, "round": moderation.round},
    )
    return moderation


def _claim_round(session: Session, moderation: Moderation, version: int, **values: Any) -> None:
    """Move the round to its next version if it is still at `version`; otherwise the form was stale."""
    changed = session.execute(
        update(Moderation)
        .where(Moderation.id == moderation.id, Moderation.version == version)
        .values(version=Moderation.version + 1, **values)
    ).rowcount
    if changed != 1:
        raise Conflict(ROUND_STALE)
    session.refresh(moderation)


def moderation_reassign(
    session: Session,
    *,
    moderation: Moderation,
    moderator_id: int | None,
    reason: str,
    version: int,
    actor: User,
    today: date | None = None,
) -> Moderation:
    """The QA lead gives an open round to another moderator, with a reason; eligibility is checked again. A
    round already graded is graded afresh by the new moderator (the old grades stay in the audit trail)."""
    if not actor.has_role(Role.QA_LEAD):
        raise PermissionDenied("Only the QA lead can reassign a moderation.")
    if moderation.status == DECIDED:
        raise Conflict("This moderation has been decided, so it can no longer be reassigned.")
    if moderation.version != version:
        raise Conflict(ROUND_STALE)
    errors = {}
    text = " ".join(reason.split())
    if not text:
        errors["reason"] = "Give the reason for reassigning this moderation"
    else:
        errors.update(text_errors("reason", text, 2000))
    new = session.get(User, moderator_id) if moderator_id else None
    if new is None:
        errors["moderator_id"] = "Select the moderator to give this audit to"
    elif new.id == moderation.moderator_id:
        errors["moderator_id"] = f"{new.full_name} already moderates this audit: select someone else"
    else:
        audit = session.get(Audit, moderation.audit_id)
        assert audit is not None
        (info,) = moderator_infos(session, users=[new], today=_today(today))
        why = ineligibility_reasons(info, audit_parties(session, audit=audit))
        if why:
            errors["moderator_id"] = f"{new.full_name} may not moderate this audit: {'; '.join(why)}"
    if errors:
        raise ValidationFailed(errors)
    assert new is not None
    before = {
        "moderator_id": moderation.moderator_id,
        "status": moderation.status,
        "section_grades": moderation.section_grades,
        "overall_grade": moderation.overall_grade,
    }
    _claim_round(
        session,
        moderation,
        version,
        moderator_id=new.id,
        status=ALLOCATED,
        section_grades={},
        overall_grade=None,
        agreement={},
        graded_at=None,
    )
    audit_record(
        session,
        actor=actor,
        action="moderation.reassign",
        summary=f"Moderation of audit {moderation.audit_id} (round {moderation.round}) reassigned to {new.username}",
        entity_type="moderation",
        entity_id=moderation.id,
        before=before,
        after={"moderator_id": new.id, "reason": text, "version": moderation.version},
    )
    return moderation


# --- Grading and deciding -------------------------------------------------------------------------------------


def _check_moderator(moderation: Moderation, actor: User) -> None:
    if moderation.moderator_id is None or moderation.moderator_id != actor.id:
        raise PermissionDenied("Only the moderator this audit is allocated to can grade it or decide.")


def _check_open(audit: Audit, moderation: Moderation) -> None:
    if moderation.status == DECIDED or audit.status != workflow.IN_MODERATION:
        raise Conflict("This moderation has already been decided.")


def _clean_grades(section_grades: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in section_grades.items() if v not in (None, "")}


def moderation_grade(
    session: Session,
    *,
    moderation: Moderation,
    audit: Audit,
    section_grades: Mapping[str, Any],
    overall_grade: str | None,
    version: int,
    actor: User,
) -> Moderation:
    """The moderator's own grades, given before the auditor's are shown (blind): the round becomes `graded`."""
    _check_moderator(moderation, actor)
    _check_open(audit, moderation)
    if moderation.status != ALLOCATED:
        raise Conflict("You have already graded this audit; your grades can no longer change.")
    if moderation.version != version:
        raise Conflict(ROUND_STALE)
    _, definition = audit_template(session, audit)
    sections = sections_to_grade(definition, audit_answers(session, audit=audit))
    grades = _clean_grades(section_grades)
    errors = grade_errors(sections, grades, overall_grade)
    if errors:
        raise ValidationFailed(errors)
    mine, mine_overall = auditor_grades(definition, audit_answers(session, audit=audit))
    _claim_round(
        session,
        moderation,
        version,
        status=GRADED,
        section_grades=grades,
        overall_grade=overall_grade,
        graded_at=clock.now(),
        auditor_section_grades=mine,
        auditor_overall_grade=mine_overall,
    )
    audit_record(
        session,
        actor=actor,
        action="moderation.grade",
        summary=f"Graded audit {audit.id} for moderation (round {moderation.round})",
        entity_type="moderation",
        entity_id=moderation.id,
        after={
            "section_grades": grades,
            "overall_grade": overall_grade,
            "blind": moderation.blind,
            "version": moderation.version,
        },
    )
    return moderation


def moderation_decide(
    session: Session,
    *,
    moderation: Moderation,
    audit: Audit,
    agreement: Mapping[str, bool],
    rationale: str,
    learning: str,
    decision: str | None,
    feedback: str,
    version: int,
    actor: User,
    section_grades: Mapping[str, Any] | None = None,
    overall_grade: str | None = None,
) -> Moderation:
    """Agreement, rationale, learning and the decision. A blind round must be graded first; an open (not blind)
    round sends its grades with the decision. Accept completes the audit with the moderator's overall grade as
    final (the auditor's answers untouched); return sends it back to the auditor with the feedback."""
    _check_moderator(moderation, actor)
    _check_open(audit, moderation)
    if moderation.version != version:
        raise Conflict(ROUND_STALE)
    _, definition = audit_template(session, audit)
    answers = audit_answers(session, audit=audit)
    sections = sections_to_grade(definition, answers)
    errors: dict[str, str] = {}
    if moderation.status == ALLOCATED:
        if moderation.blind:
            raise Conflict(
                "Grade the audit first: in blind moderation the auditor's grades are shown once you have given yours."
            )
        grades = _clean_grades(section_grades or {})
        errors.update(grade_errors(sections, grades, overall_grade))
    else:
        grades, overall_grade = dict(moderation.section_grades), moderation.overall_grade
    expected = [s.key for s in sections if s.key in grades] + [OVERALL]
    missing = [key for key in expected if key not in agreement]
    labels = {s.key: s.title for s in sections}
    for key in missing:
        errors[f"agree_{key}"] = (
            f"Select whether you agree with the auditor's grade for {labels[key]}"
            if key != OVERALL
            else "Select whether you agree with the auditor's overall grade"
        )
    clean_agreement = {key: bool(agreement[key]) for key in expected if key in agreement}
    errors.update(
        decision_errors(
            clean_agreement, rationale=rationale, decision=decision, feedback=feedback, learning=learning, labels=labels
        )
    )
    if errors:
        raise ValidationFailed(errors)
    now = clock.now()
    values: dict[str, Any] = {
        "status": DECIDED,
        "agreement": clean_agreement,
        "rationale": rationale.strip(),
        "learning": learning.strip(),
        "decision": decision,
        "feedback": feedback.strip(),
        "decided_at": now,
    }
    if moderation.status == ALLOCATED:
        mine, mine_overall = auditor_grades(definition, answers)
        values.update(
            section_grades=grades,
            overall_grade=overall_grade,
            graded_at=now,
            auditor_section_grades=mine,
            auditor_overall_grade=mine_overall,
        )
    _claim_round(session, moderation, version, **values)
    audit_record(
        session,
        actor=actor,
        action="moderation.decide",
        summary=f"{'Accepted' if decision == ACCEPT else 'Returned'} audit {audit.id} after moderation "
        f"(round {moderation.round})",
        entity_type="moderation",
        entity_id=moderation.id,
        after={
            "decision": decision,
            "agreement": clean_agreement,
            "section_grades": moderation.section_grades,
            "overall_grade": moderation.overall_grade,
            "version": moderation.version,
        },
    )
    if decision == ACCEPT:
        audit_move(
            session,
            audit=audit,
            to=workflow.COMPLETED,
            version=audit.version,
            actor=actor,
            summary=f"Moderator accepted audit {audit.id}: final grade "
            f"{GRADE_LABELS.get(overall_grade or '', overall_grade)}",
            detail={"final_grade": overall_grade, "round": moderation.round},
            final_grade=overall_grade,
            completed_at=now,
        )
    else:
        audit_move(
            session,
            audit=audit,
            to=workflow.RETURNED,
            version=audit.version,
            actor=actor,
            summary=f"Moderator returned audit {audit.id} to the auditor",
            detail={"round": moderation.round},
        )
    return moderation


def moderation_record(
    session: Session,
    *,
    audit: Audit,
    version: int,
    answers: Mapping[str, Any] | None,
    overall_grade: str | None,
    agree: bool,
    rationale: str,
    decision: str,
    learning: str,
    feedback: str,
    actor: User,
) -> Moderation:
    """The API's one call: grades, agreement and decision together, against the audit's version.

    Agreement rule: "overall" is `agree`. Per section, the moderator's grade is the one in `answers`, and a
    section left out of `answers` takes the auditor's grade; a section agrees when the two grades are equal.
    A round already graded (on the page, blind) keeps its grades: sending different ones is a conflict.
    """
    moderation = latest_round(session, audit_id=audit.id)
    if moderation is None or moderation.status == DECIDED or audit.status != workflow.IN_MODERATION:
        if moderation is not None and moderation.status == DECIDED:
            raise Conflict("This moderation has already been decided.")
        raise Conflict(f"This audit is {workflow.LABELS.get(audit.status, audit.status)}, not in moderation.")
    _check_moderator(moderation, actor)
    if audit.version != version:
        raise Conflict(STALE_MESSAGE)
    _, definition = audit_template(session, audit)
    auditor_answers = audit_answers(session, audit=audit)
    auditor_sections, _ = auditor_grades(definition, auditor_answers)
    sections = sections_to_grade(definition, auditor_answers)
    given = _clean_grades(answers or {})
    if moderation.status == GRADED:
        grades = dict(moderation.section_grades)
        if any(grades.get(k) != v for k, v in given.items()) or overall_grade != moderation.overall_grade:
            raise Conflict(
                "This audit has already been graded for moderation and grades cannot change once the "
                "auditor's have been seen: send the grades recorded, or leave `answers` out."
            )
    else:
        grades = {s.key: given.get(s.key, auditor_sections.get(s.key)) for s in sections}
        grades.update({k: v for k, v in given.items() if k not in grades})  # unknown keys: reported below
        errors = grade_errors(
            sections, {k: v for k, v in grades.items() if v is not None}, overall_grade, field_prefix="answers."
        )
        if errors:
            raise ValidationFailed(errors)
    agreement = {key: grade == auditor_sections.get(key) for key, grade in grades.items()}
    agreement[OVERALL] = bool(agree)
    if moderation.status == ALLOCATED and moderation.blind:
        return _grade_then_decide(
            session,
            moderation=moderation,
            audit=audit,
            grades=grades,
            overall_grade=overall_grade,
            agreement=agreement,
            rationale=rationale,
            learning=learning,
            decision=decision,
            feedback=feedback,
            actor=actor,
        )
    return moderation_decide(
        session,
        moderation=moderation,
        audit=audit,
        agreement=agreement,
        rationale=rationale,
        learning=learning,
        decision=decision,
        feedback=feedback,
        version=moderation.version,
        actor=actor,
        section_grades=grades,
        overall_grade=overall_grade,
    )


def _grade_then_decide(
    session: Session,
    *,
    moderation: Moderation,
    audit: Audit,
    grades: dict[str, str],
    overall_grade: str | None,
    agreement: dict[str, bool],
    rationale: str,
    learning: str,
    decision: str,
    feedback: str,
    actor: User,
) -> Moderation:
    """A blind round decided in one API call: check the decision first, so nothing is saved if it is invalid."""
    errors = decision_errors(agreement, rationale=rationale, decision=decision, feedback=feedback, learning=learning)
    if errors:
        raise ValidationFailed(errors)
    moderation_grade(
        session,
        moderation=moderation,
        audit=audit,
        section_grades=grades,
        overall_grade=overall_grade,
        version=moderation.version,
        actor=actor,
    )
    return moderation_decide(
        session,
        moderation=moderation,
        audit=audit,
        agreement=agreement,
        rationale=rationale,
        learning=learning,
        decision=decision,
        feedback=feedback,
        version=moderation.version,
        actor=actor,
    )
