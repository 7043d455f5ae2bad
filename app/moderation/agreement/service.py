"""Moderation agreement: the auditor's grades against the moderator's, over a cycle or a period.

A pair is one moderation round the moderator has graded (status graded or decided): the auditor's
grade (their answer to the section's grade question, or to the template's overall grade question)
against the moderator's grade for the same section, or overall. Templates without an overall grade
give no overall pairs; a section either of them left ungraded gives no pair for that section.

Compliance-only templates (the dip sample) have no grades: their moderator answers the compliance questions, and
each question both answered is a pair of answers (`answer_pairs`), kept apart from the grades.
The statistics themselves are the pure functions in `app.moderation.agreement.kappa`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import User
from app.audit_templates.models import TemplateVersion
from app.audit_templates.schema import TemplateDefinition
from app.audit_templates.service import template_definition
from app.audits.models import Audit, AuditAnswer
from app.moderation.agreement.kappa import (
    ANSWERS,
    GRADES,
    Agreement,
    FlagStatus,
    agreement_flag,
    agreement_of,
    answer_agreement,
)
from app.moderation.models import Moderation
from app.sampling.models import Cycle

GRADED = ("graded", "decided")
OVERALL = "overall"


@dataclass(frozen=True)
class GradePair:
    """One grade given by both: which audit and round, on what (a section, or the overall grade), and the two grades."""

    audit_id: int
    round: int
    auditor_id: int
    template_key: str
    template_title: str
    section_key: str  # OVERALL for the overall grade
    section_title: str
    grade_question: str
    auditor_grade: str
    moderator_grade: str
    recorded_agree: bool | None  # what the moderator recorded (agree/disagree), when they did


@dataclass(frozen=True)
class SectionAgreement:
    """Agreement on one section's grade (or the overall grade) of one template."""

    template_key: str
    template_title: str
    section_key: str
    title: str
    grade_question: str
    agreement: Agreement
    recorded_disagreements: int

    @property
    def is_overall(self) -> bool:
        return self.section_key == OVERALL


@dataclass(frozen=True)
class AuditorAgreement:
    """One auditor's agreement with the moderators on the overall grade, and whether it prompts refresher training."""

    auditor_id: int
    name: str
    agreement: Agreement
    status: FlagStatus

    @property
    def flagged(self) -> bool:
        return self.status == "flagged"


@dataclass(frozen=True)
class Disagreement:
    """A graded moderation round where the moderator's grades (or checklist answers) differed from the auditor's."""

    audit_id: int
    round: int
    sections: tuple[str, ...]  # the grades that differed: "Overall grade" and section titles, in the template's order
    answers: int  # compliance answers that differed (compliance-only templates)


@dataclass(frozen=True)
class AgreementReport:
    overall: Agreement
    by_auditor: list[AuditorAgreement]
    by_section: list[SectionAgreement]
    most_disagreement: list[SectionAgreement]
    rounds: int  # moderation rounds graded in the selection (some may give no pair, e.g. no overall grade)
    compliance: Agreement  # the compliance answers of compliance-only templates (the dip sample), not grades
    templates: int  # how many templates the pairs come from (the page names the template when more than one)
    min_pairs: int
    low_kappa: float
    disagreements: list[Disagreement] = field(default_factory=list)  # by audit and round
    moderator_id: int | None = None  # the one moderator the report is limited to, if any


def is_grade(grade: Any) -> bool:
    return isinstance(grade, str) and grade in GRADES


def _definitions(session: Session, version_ids: Iterable[int]) -> dict[int, tuple[str, Any]]:
    ids = set(version_ids)
    if not ids:
        return {}
    versions = session.execute(select(TemplateVersion).where(TemplateVersion.id.in_(ids))).scalars()
    return {v.id: (v.title, template_definition(v)) for v in versions if v.id is not None}


def _graded_rounds(
    session: Session,
    *,
    cycle_id: int | None = None,
    graded_from: datetime | None = None,
    graded_before: datetime | None = None,
    audit_ids: Any = None,
    auditor_id: int | None = None,
    moderator_id: int | None = None,
) -> list[tuple[Moderation, Audit]]:
    """The graded (or decided) moderation rounds in the selection, with their audits, by audit and round."""
    stmt = (
        select(Moderation, Audit)
        .join(Audit, Audit.id == Moderation.audit_id)
        .where(Moderation.status.in_(GRADED))
        .order_by(Moderation.audit_id, Moderation.round)
    )
    if audit_ids is not None:
        stmt = stmt.where(Moderation.audit_id.in_(audit_ids))
    if cycle_id is not None:
        stmt = stmt.where(Audit.cycle_id == cycle_id)
    if auditor_id is not None:
        stmt = stmt.where(Audit.auditor_id == auditor_id)
    if moderator_id is not None:
        stmt = stmt.where(Moderation.moderator_id == moderator_id)
    if graded_from is not None:
        stmt = stmt.where(Moderation.graded_at >= graded_from)
    if graded_before is not None:
        stmt = stmt.where(Moderation.graded_at < graded_before)
    return [(moderation, audit) for moderation, audit in session.execute(stmt).all()]


def agreement_pairs(
    session: Session,
    *,
    cycle_id: int | None = None,
    graded_from: datetime | None = None,
    graded_before: datetime | None = None,
    audit_ids: Any = None,
    auditor_id: int | None = None,
) -> tuple[list[GradePair], int]:
    """Every pair of grades in the selection, and how many graded moderation rounds it covers. `audit_ids`
    (a collection of audit ids, or a SELECT of them, e.g. the reports page's selection) narrows it to those audits,
    `auditor_id` to one auditor's."""
    rounds = _graded_rounds(
        session,
        cycle_id=cycle_id,
        graded_from=graded_from,
        graded_before=graded_before,
        audit_ids=audit_ids,
        auditor_id=auditor_id,
    )
    return _grade_pairs(session, rounds), len(rounds)


def _grade_pairs(session: Session, rounds: list[tuple[Moderation, Audit]]) -> list[GradePair]:
    if not rounds:
        return []
    audit_ids = {audit.id for _, audit in rounds}
    answers: dict[int, dict[str, Any]] = defaultdict(dict)
    for audit_id, key, value in session.execute(
        select(AuditAnswer.audit_id, AuditAnswer.question_key, AuditAnswer.value).where(
            AuditAnswer.audit_id.in_(audit_ids), AuditAnswer.value.is_not(None)
        )
    ):
        answers[audit_id][key] = value
    definitions = _definitions(session, (audit.template_version_id for _, audit in rounds))
    pairs: list[GradePair] = []
    for moderation, audit in rounds:
        title, definition = definitions[audit.template_version_id]
        given = _auditor_grades_then(moderation, definition, answers.get(audit.id, {}))
        section_grades = moderation.section_grades or {}
        # (section key, title, the auditor's grade question, the auditor's grade, the moderator's grade)
        graded: list[tuple[str, str, str, Any, Any]] = []
        if definition.overall is not None:
            question = definition.overall.grade_question
            graded.append((OVERALL, "Overall grade", question, given.get(question), moderation.overall_grade))
        for section in definition.judgement_sections:
            theirs = section_grades.get(section.key, section_grades.get(section.grade_key))
            graded.append((section.key, section.title, section.grade_key, given.get(section.grade_key), theirs))
        recorded = moderation.agreement or {}
        for section_key, section_title, question, mine, theirs in graded:
            if not (is_grade(mine) and is_grade(theirs)):
                continue
            agree = recorded.get(section_key)
            pairs.append(
                GradePair(
                    audit_id=audit.id,
                    round=moderation.round,
                    auditor_id=audit.auditor_id,
                    template_key=audit.template_key,
                    template_title=title,
                    section_key=section_key,
                    section_title=section_title,
                    grade_question=question,
                    auditor_grade=mine,
                    moderator_grade=theirs,
                    recorded_agree=agree if isinstance(agree, bool) else None,
                )
            )
    return pairs


def answer_pairs(rounds: Iterable[Moderation]) -> list[tuple[str, str]]:
    """(auditor's, moderator's) answer to each compliance question a moderator answered (compliance-only templates),
    the auditor's as the moderator compared them; a question either left unanswered gives no pair."""
    return [
        (mine, theirs)
        for moderation in rounds
        for key, theirs in (moderation.moderator_answers or {}).items()
        if (mine := (moderation.auditor_answers or {}).get(key)) in ANSWERS and theirs in ANSWERS
    ]


def _auditor_grades_then(moderation: Moderation, definition: TemplateDefinition, now: dict[str, Any]) -> dict[str, Any]:
    """The auditor's grade answers as the moderator compared them: the round's snapshot, taken when it was
    graded (a returned audit may have changed since); rounds graded before snapshots existed use today's."""
    if not (moderation.auditor_section_grades or moderation.auditor_overall_grade):
        return now
    then = {s.grade_key: moderation.auditor_section_grades.get(s.key) for s in definition.judgement_sections}
    if definition.overall is not None:
        then[definition.overall.grade_question] = moderation.auditor_overall_grade
    return then


def _disagreements(graded: list[tuple[Moderation, Audit]], pairs: list[GradePair]) -> list[Disagreement]:
    differing: dict[tuple[int, int], list[str]] = defaultdict(list)
    for p in pairs:
        if p.auditor_grade != p.moderator_grade:
            differing[(p.audit_id, p.round)].append(p.section_title)
    found = []
    for moderation, audit in graded:
        answers = sum(1 for mine, theirs in answer_pairs([moderation]) if mine != theirs)
        sections = differing.get((audit.id, moderation.round), [])
        if sections or answers:
            found.append(
                Disagreement(audit_id=audit.id, round=moderation.round, sections=tuple(sections), answers=answers)
            )
    return found


def _of(pairs: Iterable[GradePair]) -> Agreement:
    return agreement_of((p.auditor_grade, p.moderator_grade) for p in pairs)


def agreement_report(
    session: Session,
    *,
    min_pairs: int,
    low_kappa: float,
    cycle_id: int | None = None,
    graded_from: datetime | None = None,
    graded_before: datetime | None = None,
    moderator_id: int | None = None,
) -> AgreementReport:
    """Overall, per auditor and per section agreement for the selection, with the sections and grade questions
    ranked by how often the two disagree, auditors flagged for refresher training, and (apart from the grades)
    agreement on the compliance answers of compliance-only templates. `moderator_id` limits it to the rounds that
    moderator graded (their own figures, `app.moderation.agreement.permissions`)."""
    graded = _graded_rounds(
        session, cycle_id=cycle_id, graded_from=graded_from, graded_before=graded_before, moderator_id=moderator_id
    )
    pairs = _grade_pairs(session, graded)
    overall_pairs = [p for p in pairs if p.section_key == OVERALL]

    by_auditor_pairs: dict[int, list[GradePair]] = defaultdict(list)
    for p in overall_pairs:
        by_auditor_pairs[p.auditor_id].append(p)
    names = (
        dict(session.execute(select(User.id, User.full_name).where(User.id.in_(list(by_auditor_pairs)))).all())
        if by_auditor_pairs
        else {}
    )
    by_auditor = []
    for auditor_id, mine in by_auditor_pairs.items():
        agreement = _of(mine)
        by_auditor.append(
            AuditorAgreement(
                auditor_id=auditor_id,
                name=names.get(auditor_id, ""),
                agreement=agreement,
                status=agreement_flag(agreement, min_pairs=min_pairs, low=low_kappa),
            )
        )
    by_auditor.sort(key=lambda a: (a.name.casefold(), a.auditor_id))
    if moderator_id is not None:  # one moderator's own figures: the auditors' rows are not theirs to see
        by_auditor = []

    # Sections in the order the template shows them (the pairs come in that order), overall first.
    grouped: dict[tuple[str, str], list[GradePair]] = defaultdict(list)
    for p in pairs:
        grouped[(p.template_key, p.section_key)].append(p)
    sections = []
    for (template_key, section_key), group in grouped.items():
        first = group[0]
        sections.append(
            SectionAgreement(
                template_key=template_key,
                template_title=first.template_title,
                section_key=section_key,
                title=first.section_title,
                grade_question=first.grade_question,
                agreement=_of(group),
                recorded_disagreements=sum(1 for p in group if p.recorded_agree is False),
            )
        )
    by_section = [s for s in sections if not s.is_overall]
    most = sorted(
        (s for s in sections if s.agreement.disagreed > 0),
        key=lambda s: (-(s.agreement.disagreement_rate or 0), -s.agreement.disagreed, s.title),
    )
    return AgreementReport(
        overall=_of(overall_pairs),
        by_auditor=by_auditor,
        by_section=by_section,
        most_disagreement=most,
        rounds=len(graded),
        compliance=answer_agreement(answer_pairs(moderation for moderation, _ in graded)),
        templates=len({p.template_key for p in pairs}),
        min_pairs=min_pairs,
        low_kappa=low_kappa,
        disagreements=_disagreements(graded, pairs),
        moderator_id=moderator_id,
    )


@dataclass(frozen=True)
class AuditorRecord:
    """An auditor's moderation so far: how many of their audits a moderator has graded (or answered), and their
    agreement with moderators on the overall grade (what the refresher flag judges)."""

    moderated: int
    agreement: Agreement

    def kappa_upper(self, *, min_pairs: int) -> float | None:
        """The upper bound of the kappa's 95% interval, over at least `min_pairs` pairs (None with fewer: a handful
        of pairs gives no interval to trust, e.g. a single pair gives 0 to 0), or when kappa is undefined."""
        if self.agreement.n < min_pairs or self.agreement.interval is None:
            return None
        return self.agreement.interval[1]


def auditor_record(session: Session, *, auditor_id: int) -> AuditorRecord:
    """The auditor's moderated audits and overall-grade agreement, over every cycle (`selection.effective_rate`)."""
    graded = _graded_rounds(session, auditor_id=auditor_id)
    overall = [p for p in _grade_pairs(session, graded) if p.section_key == OVERALL]
    return AuditorRecord(moderated=len({m.audit_id for m, _ in graded}), agreement=_of(overall))


def agreement_cycles(session: Session) -> list[Cycle]:
    """The cycles the QA lead can choose between, newest first."""
    return list(session.execute(select(Cycle).order_by(Cycle.due_date.desc(), Cycle.id.desc())).scalars())
