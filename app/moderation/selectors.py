"""Reads for moderation: an audit's rounds, who may moderate it, what a moderator may see, and the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import object_session
from sqlmodel import Session

from app.accounts.models import Team, TrainingRecord, User, UserRole
from app.accounts.roles import Role, TrainingKind
from app.accounts.selectors import training_status
from app.audit_templates.models import TemplateVersion
from app.audit_templates.schema import YES_NO_NA_LABELS, Grade, TemplateDefinition
from app.audit_templates.scoring import compliance_questions
from app.audit_templates.service import template_definition
from app.audits.models import Audit
from app.audits.permissions import may_read_audit
from app.cases.models import Case
from app.dates import short_date
from app.moderation.audit_access import audit_access
from app.moderation.eligibility import AuditParties, ModeratorInfo, why_nobody
from app.moderation.models import Moderation
from app.pagination import Page, paginate
from app.sampling.models import Cycle

ALLOCATED, GRADED, DECIDED = "allocated", "graded", "decided"
OVERALL = "overall"  # agreement's key for the overall grade (beside section keys, or compliance question keys)
OPEN = (ALLOCATED, GRADED)
ROUND_STATUS_LABELS = {
    ALLOCATED: "Waiting for grades",
    GRADED: "Graded, waiting for a decision",
    DECIDED: "Decided",
}
# The list's status filter: the round statuses, and rounds nobody may moderate yet.
UNALLOCATED = "unallocated"
FILTER_LABELS = {UNALLOCATED: "No eligible moderator", **ROUND_STATUS_LABELS}
DECISION_LABELS = {"accept": "Accepted", "return": "Returned to the auditor"}
GRADE_LABELS = {g.value: g.label for g in Grade}


# --- An audit's rounds ----------------------------------------------------------------------------


def moderation_rounds(session: Session, *, audit_id: int) -> list[Moderation]:
    """Every moderation round of the audit, oldest first."""
    return list(
        session.execute(select(Moderation).where(Moderation.audit_id == audit_id).order_by(Moderation.round)).scalars()
    )


def latest_round(session: Session, *, audit_id: int) -> Moderation | None:
    """The audit's newest moderation round, or None if it has never been moderated."""
    return (
        session.execute(
            select(Moderation).where(Moderation.audit_id == audit_id).order_by(Moderation.round.desc()).limit(1)
        )
        .scalars()
        .first()
    )


def latest_decided_round(session: Session, *, audit_id: int) -> Moderation | None:
    return (
        session.execute(
            select(Moderation)
            .where(Moderation.audit_id == audit_id, Moderation.status == DECIDED)
            .order_by(Moderation.round.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def moderates(session: Session, *, user: User, audit_id: int) -> bool:
    """Whether the user is (or was) the moderator of any round of this audit."""
    if user.id is None:
        return False
    return (
        session.execute(
            select(func.count())
            .select_from(Moderation)
            .where(Moderation.audit_id == audit_id, Moderation.moderator_id == user.id)
        ).scalar_one()
        > 0
    )


def grades_hidden_from(session: Session, *, user: User, audit: Audit) -> bool:
    """True while this user moderates the audit blind and has not graded yet: the auditor's grades (or, for a
    compliance-only template, answers) must not reach them by any page or endpoint. Whoever is allocated grades
    blind, the QA lead included; the auditor, and a QA lead who is not the round's moderator, see everything.
    Only a moderator grades (no query for anyone else: the reports' lists of audits stay a fixed number of queries
    for a QA lead who does not moderate)."""
    if audit.auditor_id == user.id or not user.has_role(Role.MODERATOR):
        return False
    mine = (
        session.execute(
            select(Moderation)
            .where(Moderation.audit_id == audit.id, Moderation.moderator_id == user.id)
            .order_by(Moderation.round.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )
    return mine is not None and mine.blind and mine.status == ALLOCATED


def audit_visible_to(user: User, audit: Audit) -> bool:
    """`app.audits.permissions.may_read_audit` with the audit's facts loaded: for lists that check one row at a time."""
    session = object_session(audit)
    if session is None or audit.id is None:
        return user.has_role(Role.QA_LEAD)
    return may_read_audit(user, audit_access(session, audit))


def grade_keys(definition: TemplateDefinition) -> set[str]:
    """The question keys that hold the auditor's grades: each judgement section's grade and the overall grade."""
    keys = {s.grade_key for s in definition.judgement_sections}
    if definition.overall is not None:
        keys.add(definition.overall.grade_question)
    return keys


def compliance_only(definition: TemplateDefinition) -> bool:
    """A template with no grades at all (no judgement sections, no overall grade), such as the dip sample: it is
    moderated on its compliance answers, and never given an overall grade."""
    return definition.overall is None and not definition.judgement_sections


def blind_keys(definition: TemplateDefinition) -> set[str]:
    """What a moderator grading blind must not see of the auditor's answers: the grades, and for a compliance-only
    template the answers to its compliance questions with their explanations (an explanation gives the answer away)."""
    keys = grade_keys(definition)
    if compliance_only(definition):
        compliance = {q.key for q in compliance_questions(definition)}
        keys |= compliance | {q.key for q in definition.questions if q.explains in compliance}
    return keys


def auditor_grades(definition: TemplateDefinition, answers: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    """The auditor's grades: {section key: grade} for graded judgement sections, and the overall grade (None for
    templates without one, such as the dip sample)."""
    sections = {s.key: answers[s.grade_key] for s in definition.judgement_sections if answers.get(s.grade_key)}
    overall = answers.get(definition.overall.grade_question) if definition.overall is not None else None
    return sections, overall or None


GradeSet = tuple[dict[str, str], str | None]  # {section key: grade}, overall grade


def auditor_values(definition: TemplateDefinition, answers: dict[str, Any]) -> dict[str, Any]:
    """The auditor's grades (and, for a compliance-only template, compliance answers) as they stand, by agreement
    key: section keys, OVERALL, compliance question keys."""
    sections, overall = auditor_grades(definition, answers)
    compliance = compliance_questions(definition) if compliance_only(definition) else []
    return {
        **sections,
        **({OVERALL: overall} if overall else {}),
        **{q.key: answers[q.key] for q in compliance if q.key in answers},
    }


def moderator_given(moderation: Moderation) -> dict[str, Any]:
    """What the round's moderator gave, by agreement key: section grades, the overall grade, compliance answers."""
    overall = {OVERALL: moderation.overall_grade} if moderation.overall_grade else {}
    return {**(moderation.section_grades or {}), **overall, **(moderation.moderator_answers or {})}


def auditor_given(moderation: Moderation) -> dict[str, Any]:
    """The auditor's grades and compliance answers as the round's moderator compared them, by agreement key (empty
    for a round graded before these were kept)."""
    overall = {OVERALL: moderation.auditor_overall_grade} if moderation.auditor_overall_grade else {}
    return {**(moderation.auditor_section_grades or {}), **overall, **(moderation.auditor_answers or {})}


@dataclass(frozen=True)
class Compared:
    """One thing both graded or answered, as people read it: the auditor's and the moderator's (None: not given)."""

    key: str  # a section key, OVERALL, or a compliance question key: the key agreement is recorded under
    title: str
    auditor: str | None
    moderator: str | None

    @property
    def differs(self) -> bool:
        return self.auditor != self.moderator


def compared(definition: TemplateDefinition, moderation: Moderation, auditor_now: dict[str, Any]) -> list[Compared]:
    """The round's grades (or, for a compliance-only template, answers) beside the auditor's as the moderator
    compared them, in the form's order. `auditor_now` (by agreement key) stands in for a round graded before the
    auditor's were kept with it."""
    mine = moderator_given(moderation)
    theirs = auditor_given(moderation) or auditor_now
    if moderation.moderator_answers:
        return [
            Compared(q.key, q.label, YES_NO_NA_LABELS.get(theirs.get(q.key) or ""), YES_NO_NA_LABELS.get(mine[q.key]))
            for q in definition.questions
            if q.key in mine
        ]
    rows = [
        Compared(s.key, s.title, GRADE_LABELS.get(theirs.get(s.key) or ""), GRADE_LABELS.get(mine[s.key]))
        for s in definition.judgement_sections
        if s.key in mine
    ]
    if definition.overall is not None or OVERALL in mine:
        rows.append(
            Compared(
                OVERALL,
                "Overall grade",
                GRADE_LABELS.get(theirs.get(OVERALL) or ""),
                GRADE_LABELS.get(mine.get(OVERALL) or ""),
            )
        )
    return rows


def audit_grades(
    session: Session, *, audit: Audit, definition: TemplateDefinition, answers: dict[str, Any]
) -> tuple[GradeSet, GradeSet | None]:
    """The auditor's grades, and the final ones once the audit is completed (None before): the moderator's section
    grades when the latest round was accepted, else the auditor's; the overall grade that counts is the audit's."""
    auditor = auditor_grades(definition, answers)
    if audit.status != "completed":
        return auditor, None
    assert audit.id is not None
    latest = latest_round(session, audit_id=audit.id)
    sections = dict(latest.section_grades) if latest is not None and latest.decision == "accept" else auditor[0]
    return auditor, (sections, audit.final_grade)  # the overall grade that counts is kept on the audit


# --- Who may moderate -----------------------------------------------------------------------------


def _training_note(records: list[TrainingRecord], today: date) -> tuple[bool, str | None]:
    status = training_status(records, today=today)[TrainingKind.MODERATOR.value]
    if status.current:
        return True, None
    if status.state == "expired" and status.expires_on:
        return False, f"moderator training expired on {short_date(status.expires_on)}"
    if status.state == "not_started" and status.completed_on:
        return False, f"moderator training only counts from {short_date(status.completed_on)}"
    return False, "has no moderator training recorded"


def moderator_infos(session: Session, *, users: list[User], today: date) -> list[ModeratorInfo]:
    """These users as eligibility sees them: role, training, and the undecided rounds they hold."""
    ids = [u.id for u in users if u.id is not None]
    records: dict[int, list[TrainingRecord]] = {i: [] for i in ids}
    if ids:
        for record in session.execute(select(TrainingRecord).where(TrainingRecord.user_id.in_(ids))).scalars():
            records[record.user_id].append(record)
    loads = (
        dict(
            session.execute(
                select(Moderation.moderator_id, func.count())
                .where(Moderation.moderator_id.in_(ids), Moderation.status.in_(OPEN))
                .group_by(Moderation.moderator_id)
            ).all()
        )
        if ids
        else {}
    )
    infos = []
    for user in users:
        assert user.id is not None
        current, note = _training_note(records[user.id], today)
        infos.append(
            ModeratorInfo(
                id=user.id,
                name=user.full_name,
                team_id=user.team_id,
                active=user.active,
                is_moderator=user.has_role(Role.MODERATOR),
                training_current=current,
                training_note=note,
                open_rounds=int(loads.get(user.id, 0)),
            )
        )
    return infos


def moderator_users(session: Session) -> list[User]:
    """Active users with the moderator role, by name."""
    return list(
        session.execute(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.MODERATOR.value, User.active.is_(True))
            .order_by(User.full_name, User.id)
        )
        .scalars()
        .unique()
    )


def moderator_pool(session: Session, *, today: date) -> list[ModeratorInfo]:
    """Every active moderator with their training and open rounds: the candidates for any audit."""
    return moderator_infos(session, users=moderator_users(session), today=today)


def audit_parties(session: Session, *, audit: Audit) -> AuditParties:
    case = session.get(Case, audit.case_id)
    assert case is not None and audit.id is not None  # a foreign key; a stored audit
    team = session.get(Team, case.team_id) if case.team_id is not None else None
    return AuditParties(
        audit_id=audit.id,
        auditor_id=audit.auditor_id,
        case_team_id=case.team_id,
        case_team_name=team.name if team else None,
        worker_name=case.worker_name,
        manager_name=case.manager_name,
    )


def why_no_moderator(session: Session, *, audit: Audit, today: date) -> list[tuple[str, list[str]]]:
    """For the QA lead: each moderator and why they may not moderate this audit (empty list: no moderators)."""
    return why_nobody(moderator_pool(session, today=today), audit_parties(session, audit=audit))


# --- The queue ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundRow:
    """A round as the moderation list shows it."""

    moderation: Moderation
    audit: Audit
    child_id: str
    template_title: str
    auditor_name: str
    moderator_name: str | None
    cycle_title: str | None

    @property
    def status_label(self) -> str:
        if self.moderation.moderator_id is None and self.moderation.status != DECIDED:
            return FILTER_LABELS[UNALLOCATED]
        return ROUND_STATUS_LABELS.get(self.moderation.status, self.moderation.status)


def rounds_page(
    session: Session,
    *,
    user: User,
    status: str | None = None,
    cycle_id: int | None = None,
    page: int | None = 1,
    page_size: int | None = None,
    clamp_to_last: bool = False,
) -> Page[Moderation]:
    """Rounds the user may see: every round for the QA lead (those nobody may moderate first, then open ones),
    a moderator's own otherwise (open ones first); newest first within each."""
    stmt = select(Moderation).join(Audit, Audit.id == Moderation.audit_id)
    if not user.has_role(Role.QA_LEAD):
        stmt = stmt.where(Moderation.moderator_id == user.id)
    if status == UNALLOCATED:
        stmt = stmt.where(Moderation.moderator_id.is_(None), Moderation.status != DECIDED)
    elif status in ROUND_STATUS_LABELS:
        stmt = stmt.where(Moderation.status == status)
    if cycle_id is not None:
        stmt = stmt.where(Audit.cycle_id == cycle_id)
    nobody_first = sql_case((Moderation.moderator_id.is_(None) & (Moderation.status != DECIDED), 0), else_=1)
    open_first = sql_case((Moderation.status == DECIDED, 1), else_=0)
    stmt = stmt.order_by(nobody_first, open_first, Moderation.created_at.desc(), Moderation.id.desc())
    return paginate(session, stmt, page=page, page_size=page_size, clamp_to_last=clamp_to_last)


def round_rows(session: Session, *, rounds: list[Moderation]) -> list[RoundRow]:
    """Rows for a page of rounds, in a fixed number of queries whatever the page size."""
    if not rounds:
        return []
    audits = {
        a.id: a for a in session.execute(select(Audit).where(Audit.id.in_({m.audit_id for m in rounds}))).scalars()
    }
    children = dict(
        session.execute(select(Case.id, Case.child_id).where(Case.id.in_({a.case_id for a in audits.values()}))).all()
    )
    titles = dict(
        session.execute(
            select(TemplateVersion.id, TemplateVersion.title).where(
                TemplateVersion.id.in_({a.template_version_id for a in audits.values()})
            )
        ).all()
    )
    people = {a.auditor_id for a in audits.values()} | {m.moderator_id for m in rounds if m.moderator_id}
    names = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(people))).all())
    cycle_ids = {a.cycle_id for a in audits.values() if a.cycle_id is not None}
    cycles = (
        dict(session.execute(select(Cycle.id, Cycle.title).where(Cycle.id.in_(cycle_ids))).all()) if cycle_ids else {}
    )
    rows = []
    for m in rounds:
        audit = audits[m.audit_id]
        rows.append(
            RoundRow(
                moderation=m,
                audit=audit,
                child_id=children.get(audit.case_id, ""),
                template_title=titles.get(audit.template_version_id, ""),
                auditor_name=names.get(audit.auditor_id, ""),
                moderator_name=names.get(m.moderator_id) if m.moderator_id else None,
                cycle_title=cycles.get(audit.cycle_id) if audit.cycle_id is not None else None,
            )
        )
    return rows


def cycles_with_moderation(session: Session) -> list[Cycle]:
    """Cycles that have at least one moderated audit, for the list's filter."""
    return list(
        session.execute(
            select(Cycle)
            .where(
                Cycle.id.in_(
                    select(Audit.cycle_id)
                    .join(Moderation, Moderation.audit_id == Audit.id)
                    .where(Audit.cycle_id.is_not(None))
                )
            )
            .order_by(Cycle.due_date.desc(), Cycle.id.desc())
        ).scalars()
    )


def unallocated_count(session: Session) -> int:
    """Open rounds nobody may moderate: the QA lead must act on them."""
    return session.execute(
        select(func.count())
        .select_from(Moderation)
        .where(Moderation.moderator_id.is_(None), Moderation.status != DECIDED)
    ).scalar_one()


def audit_moderation_panel(session: Session, *, audit: Audit, user: User) -> dict[str, Any]:
    """What the audit's page shows about moderation (templates/moderation/_audit_panel.html): the current round
    and its moderator (and, when it was picked at a raised rate, why), and the latest decided round (its feedback
    and learning once the audit is returned)."""
    assert audit.id is not None
    current = latest_round(session, audit_id=audit.id)
    moderator = session.get(User, current.moderator_id) if current and current.moderator_id else None
    version = session.get(TemplateVersion, audit.template_version_id)
    return {
        "current": current,
        "decided": latest_decided_round(session, audit_id=audit.id),
        "moderator_name": moderator.full_name if moderator else None,
        "is_lead": user.has_role(Role.QA_LEAD),
        "grade_labels": GRADE_LABELS,
        "compliance": version is not None and compliance_only(template_definition(version)),
    }
