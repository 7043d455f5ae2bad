"""Moderation: selecting submitted audits, allocating a moderator, blind grading, agreement and the decision.

The audit itself moves only through `app.audits.workflow.moves.audit_move` (legal moves, optimistic locking, one
audit-trail event per move). A round has its own version: every grading or decision names the version it was
made against, so a stale form (another tab, or a reassignment meanwhile) is refused and overwrites nothing.

Agreement is stored as {section key: bool, ..., "overall": bool} beside the moderator's `section_grades` and
`overall_grade`; the agreement statistics read exactly these with the auditor's answers.

A compliance-only template (the dip sample: no judgement sections, no overall grade) is moderated on its compliance
answers instead: the moderator answers, blind, each compliance question the auditor's form showed
(`moderator_answers`, beside the auditor's as they stood, `auditor_answers`), agreement is per question key, and no
overall grade is ever created (the audit's final grade stays empty).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlmodel import Session

from app import clock
from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_templates.conditions import visible_keys, visible_questions
from app.audit_templates.schema import YES_NO_NA_LABELS, Grade, Question, Section, TemplateDefinition
from app.audit_templates.scoring import overall_grade_flags
from app.audit_trail.service import audit_record
from app.audits.models import Audit
from app.audits.selectors import audit_answers, audit_template
from app.audits.workflow import states as workflow
from app.audits.workflow.moves import STALE_MESSAGE, audit_move
from app.db import claim_version
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.escalations.models import Escalation
from app.moderation import selection
from app.moderation.agreement.service import auditor_record
from app.moderation.eligibility import choose_moderator, ineligibility_reasons
from app.moderation.models import Moderation
from app.moderation.selectors import (
    ALLOCATED,
    DECIDED,
    GRADE_LABELS,
    GRADED,
    OVERALL,
    audit_parties,
    auditor_grades,
    compliance_only,
    latest_round,
    moderator_infos,
    moderator_pool,
)
from app.sampling.models import Cycle

if TYPE_CHECKING:
    from app.config import Settings

ACCEPT, RETURN = "accept", "return"
DECISIONS = (ACCEPT, RETURN)
MAX_TEXT = 10_000
ROUND_STALE = (
    "This moderation has been changed since you opened it, in another tab or by someone else. "
    "Nothing you just sent was saved: reload the page to see where it stands, then try again."
)


def _settings(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    from app.config import get_settings  # the request's settings are not at hand when an audit is submitted

    return get_settings()


def _today(today: date | None) -> date:
    return today if today is not None else _settings(None).today()


# --- Pure rules: what the moderator must grade, what agreement is, what a decision needs ---------------------


def sections_to_grade(definition: TemplateDefinition, answers: Mapping[str, Any]) -> list[Section]:
    """The judgement sections the moderator grades: those the auditor's form showed (and so graded)."""
    shown = visible_keys(definition, answers)
    return [section for section in definition.judgement_sections if section.grade_key in shown]


def questions_to_answer(definition: TemplateDefinition, answers: Mapping[str, Any]) -> list[Question]:
    """For a compliance-only template (the dip sample), the compliance questions the moderator answers: those the
    auditor's form showed. None for a template with grades (its moderator grades it instead)."""
    if not compliance_only(definition):
        return []
    return [q for q in visible_questions(definition, answers) if q.counts_for_compliance]


@dataclass(frozen=True)
class Asked:
    """What the moderator gives for one audit: a grade for each of `sections` and, when `overall`, an overall grade
    (a template with grades), or an answer to each of `questions` (a compliance-only template)."""

    sections: list[Section]
    overall: bool
    questions: list[Question]

    @property
    def labels(self) -> dict[str, str]:
        """How the page names each thing agreed or not: a section by its title, a question by its label."""
        return {
            **{s.key: s.title for s in self.sections},
            OVERALL: "the overall grade",
            **{q.key: f"'{q.label}'" for q in self.questions},
        }

    def described(self, key: str) -> str:
        """What agreement under `key` is about, as the page says it: "overall grade", "grade for D. Assessment",
        "answer to 'Is the chronology up to date?'"."""
        if key == OVERALL:
            return "overall grade"
        if any(q.key == key for q in self.questions):
            return f"answer to {self.labels[key]}"
        return f"grade for {self.labels.get(key, key)}"

    @property
    def all_keys(self) -> list[str]:
        """Every key agreement may be recorded under, in page order: sections, "overall", compliance questions."""
        return [s.key for s in self.sections] + ([OVERALL] if self.overall else []) + [q.key for q in self.questions]

    def agreement_keys(self, grades: Mapping[str, Any], answers: Mapping[str, Any]) -> list[str]:
        """The keys agreement is recorded under, in page order, for what the moderator gave."""
        return [key for key in self.all_keys if key == OVERALL or key in grades or key in answers]


def asked_of_moderator(definition: TemplateDefinition, answers: Mapping[str, Any]) -> Asked:
    """What the moderator gives for an audit with these answers (see `Asked`)."""
    return Asked(
        sections=sections_to_grade(definition, answers),
        overall=definition.overall is not None,
        questions=questions_to_answer(definition, answers),
    )


def grade_errors(
    sections: list[Section],
    section_grades: Mapping[str, Any],
    overall_grade: Any,
    *,
    field_prefix: str = "grade_",
    overall: bool = True,
) -> dict[str, str]:
    """A message per missing or invalid grade, keyed by form field (`grade_<section>`, `overall_grade`). Without
    `overall` (a template with no overall grade) an overall grade is refused: none may be invented."""
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
    if overall and overall_grade not in valid:
        errors["overall_grade"] = "Select your overall grade"
    elif not overall and overall_grade is not None:
        errors["overall_grade"] = "This audit's template has no overall grade, so none can be given"
    return errors


def answer_errors(
    questions: list[Question], given: Mapping[str, Any], *, field_prefix: str = "answer_"
) -> dict[str, str]:
    """A message per compliance question left unanswered or answered with something other than Yes, No or Not
    applicable, and per answer to a question this audit does not ask, keyed by field (`answer_<question key>`)."""
    errors = {}
    for question in questions:
        if given.get(question.key) not in YES_NO_NA_LABELS:
            errors[f"{field_prefix}{question.key}"] = f"Select your answer to '{question.label}'"
    known = {q.key for q in questions}
    for key in given:
        if key not in known:
            errors[f"{field_prefix}{key}"[:120]] = f"'{str(key)[:60]}' is not a compliance question this audit asks"
    return errors


def given_errors(
    asked: Asked,
    grades: Mapping[str, Any],
    overall_grade: Any,
    answers: Mapping[str, Any],
    *,
    grade_prefix: str = "grade_",
    answer_prefix: str = "answer_",
) -> dict[str, str]:
    """Everything wrong with what the moderator gave: grades (a template with grades) and answers (compliance-only)."""
    errors = grade_errors(asked.sections, grades, overall_grade, field_prefix=grade_prefix, overall=asked.overall)
    errors.update(answer_errors(asked.questions, answers, field_prefix=answer_prefix))
    return errors


def suggested_agreement(moderator: Mapping[str, Any], auditor: Mapping[str, Any]) -> dict[str, bool]:
    """Agree where the auditor gave the same as the moderator (a grade per section and "overall", or an answer per
    compliance question): the starting point the moderator confirms or changes."""
    return {key: auditor.get(key) is not None and auditor.get(key) == value for key, value in moderator.items()}


def auditor_snapshot(definition: TemplateDefinition, answers: Mapping[str, Any], asked: Asked) -> dict[str, Any]:
    """The auditor's grades and compliance answers as they stand, for the round to keep (a returned audit's later
    changes must not rewrite what the moderator compared)."""
    sections, overall = auditor_grades(definition, dict(answers))
    return {
        "auditor_section_grades": sections,
        "auditor_overall_grade": overall,
        "auditor_answers": {q.key: answers.get(q.key) for q in asked.questions},
    }


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
    rate_raised_because: str | None = None,
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
        rate_raised_because=rate_raised_because,
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
            "rate_raised_because": rate_raised_because,
        },
    )
    return moderation


def moderation_rate(session: Session, *, audit: Audit, cycle: Cycle | None, settings: Settings) -> selection.Rate:
    """The rate the audit's random draw is compared with: its cycle's, raised for an auditor with few moderated
    audits or low agreement with moderators over at least `agreement_min_pairs` pairs, as the refresher flag judges
    it (`selection.effective_rate`). An audit outside a cycle is never drawn at random (rate 0), so there is no rate
    to raise."""
    if cycle is None:
        return selection.Rate(0.0)
    record = auditor_record(session, auditor_id=audit.auditor_id)
    return selection.effective_rate(
        cycle.moderation_rate,
        record.moderated,
        record.kappa_upper(min_pairs=settings.agreement_min_pairs),
        new_auditor_audits=settings.moderation_new_auditor_audits,
        raised_rate=settings.moderation_raised_rate,
        low_kappa=settings.agreement_low_kappa,
    )


def moderation_on_submit(
    session: Session,
    *,
    audit: Audit,
    actor: User | None,
    today: date | None = None,
    settings: Settings | None = None,
) -> Moderation | None:
    """Called once an audit is submitted: either a new moderation round (the audit goes in_moderation, a
    moderator allocated if anyone is eligible) or completion with the auditor's overall grade as final (none for a
    template without one)."""
    if audit.status != workflow.SUBMITTED:
        raise Conflict(
            f"Only a submitted audit can be selected for moderation; this one is "
            f"{workflow.LABELS.get(audit.status, audit.status)}."
        )
    assert audit.id is not None
    settings = _settings(settings)
    _, definition = audit_template(session, audit)
    answers = audit_answers(session, audit=audit)
    _, overall = auditor_grades(definition, answers)
    previous = latest_round(session, audit_id=audit.id)
    number = previous.round + 1 if previous else 1
    cycle = _cycle(session, audit)
    rate = moderation_rate(session, audit=audit, cycle=cycle, settings=settings)
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
        rate=rate.rate,
        grade_flagged=bool(overall_grade_flags(definition, answers)),
    )
    detail = {"draw": round(outcome.draw, 6), "rate": outcome.rate, "rate_raised_because": rate.raised_because}
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
        rate_raised_because=rate.raised_because,
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
    claim_version(session, moderation, version, stale=ROUND_STALE, **values)


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
        "moderator_answers": moderation.moderator_answers,
    }
    _claim_round(
        session,
        moderation,
        version,
        moderator_id=new.id,
        status=ALLOCATED,
        section_grades={},
        overall_grade=None,
        moderator_answers={},
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


def _clean(given: Mapping[str, Any] | None) -> dict[str, str]:
    """Grades or answers as given (form fields or JSON), blanks left out."""
    return {str(k): str(v) for k, v in (given or {}).items() if v not in (None, "")}


def moderation_grade(
    session: Session,
    *,
    moderation: Moderation,
    audit: Audit,
    section_grades: Mapping[str, Any],
    overall_grade: str | None,
    version: int,
    actor: User,
    answers: Mapping[str, Any] | None = None,
) -> Moderation:
    """The moderator's own grades (or, for a compliance-only template, `answers` to its compliance questions), given
    before the auditor's are shown (blind): the round becomes `graded`."""
    _check_moderator(moderation, actor)
    _check_open(audit, moderation)
    if moderation.status != ALLOCATED:
        raise Conflict("You have already graded this audit; your grades can no longer change.")
    if moderation.version != version:
        raise Conflict(ROUND_STALE)
    _, definition = audit_template(session, audit)
    auditor_answers = audit_answers(session, audit=audit)
    asked = asked_of_moderator(definition, auditor_answers)
    grades, given = _clean(section_grades), _clean(answers)
    errors = given_errors(asked, grades, overall_grade, given)
    if errors:
        raise ValidationFailed(errors)
    _claim_round(
        session,
        moderation,
        version,
        status=GRADED,
        section_grades=grades,
        overall_grade=overall_grade,
        moderator_answers=given,
        graded_at=clock.now(),
        **auditor_snapshot(definition, auditor_answers, asked),
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
            "moderator_answers": given,
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
    answers: Mapping[str, Any] | None = None,
) -> Moderation:
    """Agreement, rationale, learning and the decision. A blind round must be graded first; an open (not blind)
    round sends its grades (or compliance answers) with the decision. Accept completes the audit with the
    moderator's overall grade as final (none for a template without one; the auditor's answers untouched); return
    sends it back to the auditor with the feedback."""
    _check_moderator(moderation, actor)
    _check_open(audit, moderation)
    if moderation.version != version:
        raise Conflict(ROUND_STALE)
    _, definition = audit_template(session, audit)
    auditor_answers = audit_answers(session, audit=audit)
    asked = asked_of_moderator(definition, auditor_answers)
    errors: dict[str, str] = {}
    if moderation.status == ALLOCATED:
        if moderation.blind:
            raise Conflict(
                "Grade the audit first: in blind moderation the auditor's grades are shown once you have given yours."
            )
        grades, given = _clean(section_grades), _clean(answers)
        errors.update(given_errors(asked, grades, overall_grade, given))
    else:
        grades, overall_grade = dict(moderation.section_grades), moderation.overall_grade
        given = dict(moderation.moderator_answers or {})
    expected = asked.agreement_keys(grades, given)
    for key in expected:
        if key not in agreement:
            errors[f"agree_{key}"] = f"Select whether you agree with the auditor's {asked.described(key)}"
    clean_agreement = {key: bool(agreement[key]) for key in expected if key in agreement}
    errors.update(
        decision_errors(
            clean_agreement,
            rationale=rationale,
            decision=decision,
            feedback=feedback,
            learning=learning,
            labels=asked.labels,
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
        values.update(
            section_grades=grades,
            overall_grade=overall_grade,
            moderator_answers=given,
            graded_at=now,
            **auditor_snapshot(definition, auditor_answers, asked),
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
            "moderator_answers": moderation.moderator_answers,
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
            summary=f"Moderator accepted audit {audit.id}"
            + (f": final grade {GRADE_LABELS.get(overall_grade, overall_grade)}" if overall_grade else ""),
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
    agree: bool | None,
    rationale: str,
    decision: str,
    learning: str,
    feedback: str,
    actor: User,
    compliance_answers: Mapping[str, Any] | None = None,
) -> Moderation:
    """The API's one call: grades (or compliance answers), agreement and decision together, against the audit's
    version.

    Agreement rule: "overall" is `agree`. Per section, the moderator's grade is the one in `answers`, and a
    section left out of `answers` takes the auditor's grade; a section agrees when the two grades are equal.
    A compliance-only template (the dip sample) takes no grades and no `agree`: `compliance_answers` must answer
    every compliance question the auditor's form showed, and each agrees when the two answers are equal.
    A round already graded (on the page, blind) keeps what was given: sending something different is a conflict.
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
    asked = asked_of_moderator(definition, auditor_answers)
    auditor_sections, _ = auditor_grades(definition, auditor_answers)
    given_grades, given_answers = _clean(answers), _clean(compliance_answers)
    errors = _agree_errors(asked, agree)
    if moderation.status == GRADED:
        grades, recorded_answers = dict(moderation.section_grades), dict(moderation.moderator_answers or {})
        if (
            any(grades.get(k) != v for k, v in given_grades.items())
            or any(recorded_answers.get(k) != v for k, v in given_answers.items())
            or overall_grade != moderation.overall_grade
        ):
            raise Conflict(
                "This audit has already been graded for moderation and grades cannot change once the "
                "auditor's have been seen: send the grades recorded, or leave `answers` out."
            )
        given_answers = recorded_answers
        if errors:
            raise ValidationFailed(errors)
    else:
        grades = {s.key: given_grades.get(s.key, auditor_sections.get(s.key)) for s in asked.sections}
        grades.update({k: v for k, v in given_grades.items() if k not in grades})  # unknown keys: reported below
        errors.update(
            given_errors(
                asked,
                {k: v for k, v in grades.items() if v is not None},
                overall_grade,
                given_answers,
                grade_prefix="answers.",
                answer_prefix="compliance_answers.",
            )
        )
        if errors:
            raise ValidationFailed(errors)
    agreement = suggested_agreement(
        {**grades, **given_answers},
        {**auditor_sections, **{q.key: auditor_answers.get(q.key) for q in asked.questions}},
    )
    if asked.overall:
        agreement[OVERALL] = bool(agree)
    if moderation.status == ALLOCATED and moderation.blind:
        return _grade_then_decide(
            session,
            moderation=moderation,
            audit=audit,
            grades=grades,
            overall_grade=overall_grade,
            answers=given_answers,
            agreement=agreement,
            labels=asked.labels,
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
        answers=given_answers,
    )


def _agree_errors(asked: Asked, agree: bool | None) -> dict[str, str]:
    """`agree` (the API's agreement on the overall grade) is needed exactly when the template has an overall grade."""
    if asked.overall and agree is None:
        return {"agree": "Say whether you agree with the auditor's overall grade (true or false)"}
    if not asked.overall and agree is not None:
        return {"agree": "This audit's template has no overall grade: leave `agree` out"}
    return {}


def _grade_then_decide(
    session: Session,
    *,
    moderation: Moderation,
    audit: Audit,
    grades: dict[str, str],
    overall_grade: str | None,
    answers: dict[str, str],
    agreement: dict[str, bool],
    labels: Mapping[str, str],
    rationale: str,
    learning: str,
    decision: str,
    feedback: str,
    actor: User,
) -> Moderation:
    """A blind round decided in one API call: check the decision first, so nothing is saved if it is invalid."""
    errors = decision_errors(
        agreement, rationale=rationale, decision=decision, feedback=feedback, learning=learning, labels=labels
    )
    if errors:
        raise ValidationFailed(errors)
    moderation_grade(
        session,
        moderation=moderation,
        audit=audit,
        section_grades=grades,
        overall_grade=overall_grade,
        answers=answers,
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
