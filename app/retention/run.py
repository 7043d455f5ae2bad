"""Applying the retention schedule: for each rule, find what is due (its event fell before the rule's period, and no
legal hold keeps it), then delete, anonymise or redact it in batches, each batch all-or-nothing with its own
audit-trail event. A dry run finds and counts, changes nothing.

What each kind of record loses:
- closed cases: anonymise keeps the row for the programme's figures but replaces the child ID with "ANON-<id>"
  and removes birth month, worker and manager (names, ids, accounts), per-list involvements, permanence plan and the
  facts' corrections; delete removes the case and everything about it (sample entries, audits with their answers,
  moderation, replies, panel and partners, recommendations with their history, escalations, notifications). Either
  way, what the audit trail says about the child is redacted.
- completed audits: free-text answers and prefill explanations go; grades and compliance answers stay.
- moderation: the written rationale, learning and feedback go; grades and agreement stay.
- replies, escalations, recommendations: their text goes (recommendations keep status, dates and themes).
- imports: the per-row problems and closing lists (which quote the extract) go; counts, file names and SHA-256 stay.
- import files, notifications, sent emails, sign-in attempts: deleted.
- audit-trail details: redacted (app.audit_trail.service.audit_redact); the chain still verifies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, String, and_, cast, delete, false, func, literal, or_, select, update
from sqlmodel import Session, col

from app import clock
from app.accounts.models import LoginAttempt
from app.audit_templates.models import TemplateVersion
from app.audit_templates.schema import QuestionType
from app.audit_templates.service import template_definition
from app.audit_trail.models import AuditEvent
from app.audit_trail.selectors import trail_events_about_children
from app.audit_trail.service import Actor, audit_record, audit_redact, commit_and_link
from app.audits.models import Audit, AuditAnswer, AuditDueChange, AuditReply
from app.audits.partners.models import PanelMeeting, SectionPartner
from app.cases.models import Case, CaseFactCorrection, CaseImport, CaseImportFile, LegalHold
from app.escalations.models import Escalation, EscalationChase
from app.moderation.models import Moderation
from app.notifications.models import EmailOutbox, Notification
from app.recommendations.models import Recommendation, RecommendationEvent, RecommendationTheme
from app.retention.holds import held_cases
from app.retention.models import RetentionRun
from app.retention.schedule import Rule, Schedule
from app.sampling.models import SampleCase

log = logging.getLogger("caseaudit.retention")

IdQuery = Select[Any]  # a query of one column of record ids

BATCH = 500
EXAMPLES = 10
COMPLETED = "completed"
CLOSED = "closed"
FINISHED_IMPORTS = ("committed", "discarded", "expired", "rejected", "failed")
ANON_PREFIX = "ANON-"
REMOVED = "Removed under the retention schedule"
DONE_WORDS = {"anonymise": "anonymised", "delete": "deleted", "redact": "redacted"}


@dataclass
class RuleOutcome:
    kind: str
    action: str
    cutoff: date
    due: int = 0  # found due (held ones not counted)
    held: int = 0  # due by date but kept by a legal hold
    done: int = 0  # deleted, anonymised or redacted
    examples: list[int] = field(default_factory=list)  # the first ids found due

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "cutoff": self.cutoff.isoformat(),
            "due": self.due,
            "held": self.held,
            "done": self.done,
        }


@dataclass
class RunOutcome:
    dry_run: bool
    rules: list[RuleOutcome]
    run_id: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class Window:
    """`before` is the first instant that is not yet due: the local midnight after the rule's cutoff day."""

    cutoff: date
    before: datetime


def window_for(rule: Rule, today: date, tz: ZoneInfo) -> Window:
    cutoff = rule.keep.cutoff(today)
    return Window(cutoff, datetime.combine(cutoff + timedelta(days=1), time.min, tz))


def _held_audits() -> IdQuery:
    return select(col(Audit.id)).where(col(Audit.case_id).in_(held_cases()))


def _in_held(column: Any, held: IdQuery) -> ColumnElement[bool]:
    """Null-safe: a row with no case (a thematic recommendation) is never held, and NOT of this is true for it."""
    return and_(column.is_not(None), column.in_(held))


@dataclass(frozen=True)
class Handler:
    """One kind of record: the query of its records due by date (`due`), the condition that a hold keeps one
    (`held`), and what each action does to a batch of ids."""

    due: Callable[[Window], IdQuery]
    held: Callable[[], ColumnElement[bool]]
    actions: dict[str, Callable[[Session, list[int], str], None]]
    noun: str


# ----- closed cases ------------------------------------------------------------------------------------------------


def _closed_cases_due(window: Window) -> IdQuery:
    closed_on_or_before = or_(
        col(Case.end_date) <= window.cutoff,
        and_(col(Case.end_date).is_(None), col(Case.updated_at) < window.before),
    )
    return select(col(Case.id)).where(
        col(Case.status) == CLOSED, closed_on_or_before, col(Case.anonymised_at).is_(None)
    )


def _case_refs(session: Session, case_ids: list[int]) -> dict[str, list[int]]:
    audits = list(session.execute(select(col(Audit.id)).where(col(Audit.case_id).in_(case_ids))).scalars())
    recommendations = list(
        session.execute(select(col(Recommendation.id)).where(col(Recommendation.case_id).in_(case_ids))).scalars()
    )
    escalations = list(
        session.execute(select(col(Escalation.id)).where(col(Escalation.case_id).in_(case_ids))).scalars()
    )
    moderations = list(
        session.execute(select(col(Moderation.id)).where(col(Moderation.audit_id).in_(audits))).scalars()
    )
    return {
        "case": case_ids,
        "audit": audits,
        "recommendation": recommendations,
        "escalation": escalations,
        "moderation": moderations,
    }


def _redact_about_cases(session: Session, case_ids: list[int], rule: str, refs: dict[str, list[int]]) -> None:
    """What the trail says about these children: the events about their records (`refs`, from `_case_refs`) or
    naming their child IDs."""
    child_ids = list(session.execute(select(col(Case.child_id)).where(col(Case.id).in_(case_ids))).scalars())
    events = trail_events_about_children(session, refs, child_ids=child_ids)
    if events:
        audit_redact(session, events=events, rule=rule, actor=None)


def _corrections_delete(session: Session, case_ids: list[int]) -> None:
    session.execute(delete(CaseFactCorrection).where(col(CaseFactCorrection.case_id).in_(case_ids)))


def _cases_anonymise(session: Session, ids: list[int], rule: str) -> None:
    _redact_about_cases(session, ids, rule, _case_refs(session, ids))
    _corrections_delete(session, ids)
    session.execute(
        update(Case)
        .where(col(Case.id).in_(ids))
        .values(
            child_id=literal(ANON_PREFIX) + cast(col(Case.id), String),  # "ANON-<id>", in one statement
            birth_month=None,
            worker_name=None,
            manager_name=None,
            worker_id=None,
            worker_user_id=None,
            manager_user_id=None,
            involvements={},
            permanence_plan=None,
            anonymised_at=clock.now(),
            version=col(Case.version) + 1,
        )
    )


def _recommendations_delete(session: Session, ids: Iterable[int]) -> None:
    ids = list(ids)
    if not ids:
        return
    for model in (Notification, RecommendationEvent, RecommendationTheme):
        session.execute(delete(model).where(col(model.recommendation_id).in_(ids)))
    session.execute(delete(Recommendation).where(col(Recommendation.id).in_(ids)))


def _escalations_delete(session: Session, ids: Iterable[int]) -> None:
    ids = list(ids)
    if not ids:
        return
    session.execute(delete(Notification).where(col(Notification.escalation_id).in_(ids)))
    session.execute(delete(EscalationChase).where(col(EscalationChase.escalation_id).in_(ids)))
    session.execute(delete(Escalation).where(col(Escalation.id).in_(ids)))


def _audits_delete(session: Session, ids: list[int], rule: str) -> None:
    """Delete audits and everything hanging from them; recommendations from an audit go with it."""
    if not ids:
        return
    _recommendations_delete(
        session, session.execute(select(col(Recommendation.id)).where(col(Recommendation.audit_id).in_(ids))).scalars()
    )
    _escalations_delete(
        session, session.execute(select(col(Escalation.id)).where(col(Escalation.audit_id).in_(ids))).scalars()
    )
    for model in (AuditAnswer, AuditDueChange, AuditReply, Moderation, PanelMeeting, SectionPartner):
        session.execute(delete(model).where(col(model.audit_id).in_(ids)))
    session.execute(delete(Audit).where(col(Audit.id).in_(ids)))


def _cases_delete(session: Session, ids: list[int], rule: str) -> None:
    refs = _case_refs(session, ids)
    _redact_about_cases(session, ids, rule, refs)
    _corrections_delete(session, ids)
    _recommendations_delete(session, refs["recommendation"])
    _escalations_delete(session, refs["escalation"])
    _audits_delete(session, refs["audit"], rule)
    session.execute(delete(SampleCase).where(col(SampleCase.case_id).in_(ids)))
    session.execute(delete(LegalHold).where(col(LegalHold.case_id).in_(ids)))  # lifted ones: held cases never come
    session.execute(delete(Case).where(col(Case.id).in_(ids)))


# ----- audits and what hangs from them -----------------------------------------------------------------------------


def _completed_audits(window: Window) -> IdQuery:
    return select(col(Audit.id)).where(col(Audit.status) == COMPLETED, col(Audit.completed_at) < window.before)


def _audits_due(window: Window) -> IdQuery:
    return _completed_audits(window).where(col(Audit.anonymised_at).is_(None))


def _text_questions(session: Session, audit_ids: list[int]) -> list[tuple[list[int], set[str]]]:
    """The audits grouped by template version, each group with its version's free-text question keys."""
    rows = session.execute(
        select(col(Audit.id), col(Audit.template_version_id)).where(col(Audit.id).in_(audit_ids))
    ).all()
    audits_of: dict[int, list[int]] = {}
    for audit_id, version_id in rows:
        audits_of.setdefault(version_id, []).append(audit_id)
    versions = session.execute(select(TemplateVersion).where(col(TemplateVersion.id).in_(audits_of))).scalars()
    return [
        (audits_of[v.id or 0], {q.key for q in template_definition(v).questions if q.type == QuestionType.TEXT})
        for v in versions
    ]


def _audits_anonymise(session: Session, ids: list[int], rule: str) -> None:
    for audit_ids, keys in _text_questions(session, ids):  # one statement per template version, not per audit
        if keys:
            session.execute(
                update(AuditAnswer)
                .where(col(AuditAnswer.audit_id).in_(audit_ids), col(AuditAnswer.question_key).in_(keys))
                .values(value=None)
            )
    session.execute(update(AuditAnswer).where(col(AuditAnswer.audit_id).in_(ids)).values(prefill_explanation=None))
    session.execute(update(AuditDueChange).where(col(AuditDueChange.audit_id).in_(ids)).values(reason=REMOVED))
    session.execute(update(Audit).where(col(Audit.id).in_(ids)).values(anonymised_at=clock.now()))


def _moderation_due(window: Window) -> IdQuery:
    return select(col(Moderation.id)).where(
        col(Moderation.audit_id).in_(_completed_audits(window)), col(Moderation.anonymised_at).is_(None)
    )


def _moderation_anonymise(session: Session, ids: list[int], rule: str) -> None:
    session.execute(
        update(Moderation)
        .where(col(Moderation.id).in_(ids))
        .values(rationale="", learning="", feedback="", anonymised_at=clock.now())
    )


def _moderation_delete(session: Session, ids: list[int], rule: str) -> None:
    session.execute(delete(Moderation).where(col(Moderation.id).in_(ids)))


def _replies_due_after(anchor: str) -> Callable[[Window], IdQuery]:
    def due(window: Window) -> IdQuery:
        if anchor == "created":
            when = col(AuditReply.created_at) < window.before
        else:
            when = col(AuditReply.audit_id).in_(_completed_audits(window))
        return select(col(AuditReply.id)).where(when, col(AuditReply.anonymised_at).is_(None))

    return due


def _replies_anonymise(session: Session, ids: list[int], rule: str) -> None:
    session.execute(update(AuditReply).where(col(AuditReply.id).in_(ids)).values(text="", anonymised_at=clock.now()))


def _replies_delete(session: Session, ids: list[int], rule: str) -> None:
    session.execute(delete(AuditReply).where(col(AuditReply.id).in_(ids)))


def _audit_held(column: Any) -> ColumnElement[bool]:
    return _in_held(column, _held_audits())


# ----- recommendations, escalations --------------------------------------------------------------------------------


def _recommendations_due(window: Window) -> IdQuery:
    return select(col(Recommendation.id)).where(
        col(Recommendation.status) == CLOSED,
        col(Recommendation.closed_at) < window.before,
        col(Recommendation.anonymised_at).is_(None),
    )


def _recommendations_anonymise(session: Session, ids: list[int], rule: str) -> None:
    session.execute(
        update(Recommendation)
        .where(col(Recommendation.id).in_(ids))
        .values(text=REMOVED, evidence="", anonymised_at=clock.now())
    )
    session.execute(
        update(RecommendationEvent).where(col(RecommendationEvent.recommendation_id).in_(ids)).values(note="")
    )
    session.execute(delete(Notification).where(col(Notification.recommendation_id).in_(ids)))


def _escalations_due(window: Window) -> IdQuery:
    return select(col(Escalation.id)).where(
        col(Escalation.created_at) < window.before, col(Escalation.anonymised_at).is_(None)
    )


def _escalations_anonymise(session: Session, ids: list[int], rule: str) -> None:
    session.execute(
        update(Escalation)
        .where(col(Escalation.id).in_(ids))
        .values(
            description="",
            acknowledgement_note="",
            withdrawn_reason=None,
            anonymised_at=clock.now(),
            version=col(Escalation.version) + 1,
        )
    )


# ----- imports -----------------------------------------------------------------------------------------------------


def _imports_due(window: Window) -> IdQuery:
    return select(col(CaseImport.id)).where(
        col(CaseImport.status).in_(FINISHED_IMPORTS),
        col(CaseImport.finished_at) < window.before,
        col(CaseImport.anonymised_at).is_(None),
    )


def _imports_anonymise(session: Session, ids: list[int], rule: str) -> None:
    session.execute(delete(CaseImportFile).where(col(CaseImportFile.import_id).in_(ids)))
    session.execute(
        update(CaseImport)
        .where(col(CaseImport.id).in_(ids))
        .values(errors=[], warnings=[], closing=[], changes=[], anonymised_at=clock.now())
    )


def _imports_delete(session: Session, ids: list[int], rule: str) -> None:
    session.execute(update(Case).where(col(Case.last_import_id).in_(ids)).values(last_import_id=None))
    session.execute(delete(CaseImportFile).where(col(CaseImportFile.import_id).in_(ids)))
    session.execute(delete(CaseImport).where(col(CaseImport.id).in_(ids)))


def _import_files_due(window: Window) -> IdQuery:
    finished = select(col(CaseImport.id)).where(
        col(CaseImport.status).in_(FINISHED_IMPORTS), col(CaseImport.finished_at) < window.before
    )
    return select(col(CaseImportFile.id)).where(col(CaseImportFile.import_id).in_(finished))


def _import_files_delete(session: Session, ids: list[int], rule: str) -> None:
    imports = sorted(
        set(session.execute(select(col(CaseImportFile.import_id)).where(col(CaseImportFile.id).in_(ids))).scalars())
    )
    session.execute(delete(CaseImportFile).where(col(CaseImportFile.id).in_(ids)))
    # A failed import whose files are gone cannot be tried again: it has expired.
    session.execute(
        update(CaseImport)
        .where(col(CaseImport.id).in_(imports), col(CaseImport.status) == "failed")
        .values(status="expired", phase=None)
    )


# ----- plain deletions ---------------------------------------------------------------------------------------------


def _created_before(model: Any, column: Any, *extra: ColumnElement[bool]) -> Callable[[Window], IdQuery]:
    return lambda window: select(model.id).where(column < window.before, *extra)


def _delete_rows(model: Any) -> Callable[[Session, list[int], str], None]:
    def apply(session: Session, ids: list[int], rule: str) -> None:
        session.execute(delete(model).where(col(model.id).in_(ids)))

    return apply


def _trail_due(window: Window) -> IdQuery:
    return select(col(AuditEvent.id)).where(
        col(AuditEvent.occurred_at) < window.before,
        col(AuditEvent.hash).is_not(None),
        col(AuditEvent.details_hash).is_not(None),  # events from before redaction keep their details
        col(AuditEvent.redacted_at).is_(None),
        col(AuditEvent.action) != "audit_trail.redact",
    )


def _trail_redact(session: Session, ids: list[int], rule: str) -> None:
    events = list(
        session.execute(select(AuditEvent).where(col(AuditEvent.id).in_(ids)).order_by(col(AuditEvent.id))).scalars()
    )
    audit_redact(session, events=events, rule=rule, actor=None)


def _never_held() -> ColumnElement[bool]:
    return false()


def _notification_held() -> ColumnElement[bool]:
    return or_(
        _in_held(
            col(Notification.recommendation_id),
            select(col(Recommendation.id)).where(col(Recommendation.case_id).in_(held_cases())),
        ),
        _in_held(
            col(Notification.escalation_id),
            select(col(Escalation.id)).where(col(Escalation.case_id).in_(held_cases())),
        ),
    )


HANDLERS: dict[str, Handler] = {
    "closed_cases": Handler(
        _closed_cases_due,
        lambda: _in_held(col(Case.id), held_cases()),
        {"anonymise": _cases_anonymise, "delete": _cases_delete},
        "cases",
    ),
    "completed_audits": Handler(
        _audits_due,
        lambda: _in_held(col(Audit.case_id), held_cases()),
        {"anonymise": _audits_anonymise, "delete": _audits_delete},
        "audits",
    ),
    "moderation": Handler(
        _moderation_due,
        lambda: _audit_held(col(Moderation.audit_id)),
        {"anonymise": _moderation_anonymise, "delete": _moderation_delete},
        "moderation rounds",
    ),
    "replies": Handler(
        _replies_due_after("audit_completed"),
        lambda: _audit_held(col(AuditReply.audit_id)),
        {"anonymise": _replies_anonymise, "delete": _replies_delete},
        "replies",
    ),
    "recommendations": Handler(
        _recommendations_due,
        lambda: _in_held(col(Recommendation.case_id), held_cases()),
        {"anonymise": _recommendations_anonymise, "delete": lambda s, ids, rule: _recommendations_delete(s, ids)},
        "recommendations",
    ),
    "escalations": Handler(
        _escalations_due,
        lambda: _in_held(col(Escalation.case_id), held_cases()),
        {"anonymise": _escalations_anonymise, "delete": lambda s, ids, rule: _escalations_delete(s, ids)},
        "escalations",
    ),
    "imports": Handler(
        _imports_due, _never_held, {"anonymise": _imports_anonymise, "delete": _imports_delete}, "imports"
    ),
    "import_files": Handler(_import_files_due, _never_held, {"delete": _import_files_delete}, "stored files"),
    "notifications": Handler(
        _created_before(Notification, col(Notification.created_at)),
        _notification_held,
        {"delete": _delete_rows(Notification)},
        "notifications",
    ),
    "email_outbox": Handler(
        _created_before(EmailOutbox, col(EmailOutbox.created_at), col(EmailOutbox.sent_at).is_not(None)),
        _never_held,
        {"delete": _delete_rows(EmailOutbox)},
        "sent emails",
    ),
    "sign_in_attempts": Handler(
        _created_before(LoginAttempt, col(LoginAttempt.created_at)),
        _never_held,
        {"delete": _delete_rows(LoginAttempt)},
        "sign-in attempts",
    ),
    "trail_details": Handler(_trail_due, _never_held, {"redact": _trail_redact}, "audit-trail events"),
}


def _trail_held_ids(session: Session) -> set[int]:
    """Events about a held child (their records or their child ID): their details are kept while the hold lasts."""
    held = list(session.execute(select(col(Case.id), col(Case.child_id)).where(col(Case.id).in_(held_cases()))).all())
    if not held:
        return set()
    refs = _case_refs(session, [case_id for case_id, _ in held])
    events = trail_events_about_children(session, refs, child_ids=[child_id for _, child_id in held])
    return {e.id for e in events if e.id is not None}


def _count(session: Session, stmt: IdQuery) -> int:
    return int(session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())


def _due_query(kind: str, handler: Handler, window: Window, trail_held: set[int]) -> tuple[IdQuery, IdQuery]:
    """(due and not held, due but held)"""
    base = handler.due(window)
    keep = handler.held() if kind != "trail_details" else _in_ids(col(AuditEvent.id), trail_held)
    return base.where(~keep), base.where(keep)


def _in_ids(column: Any, ids: set[int]) -> ColumnElement[bool]:
    return column.in_(sorted(ids)) if ids else false()


def retention_run(
    session: Session,
    schedule: Schedule,
    *,
    today: date,
    tz: ZoneInfo,
    dry_run: bool,
    actor: Actor | None = None,
    actor_label: str = "retention job",
    batch_size: int = BATCH,
    progress: Callable[[RuleOutcome], None] | None = None,
) -> RunOutcome:
    """Find, then (unless a dry run) apply, what each rule says is due. Each batch is committed with its trail event;
    a batch that fails is rolled back whole and stops the run, which says so (batches before it stay applied)."""
    outcomes: list[RuleOutcome] = []
    run: RetentionRun | None = None
    if not dry_run:
        run = RetentionRun(started_at=clock.now(), dry_run=False, actor_label=actor_label[:120])
        session.add(run)
        commit_and_link(session)
    trail_held = _trail_held_ids(session)
    problem: str | None = None
    for kind, rule in schedule.rules.items():
        handler = HANDLERS[kind]
        window = window_for(rule, today, tz)
        due, held = _due_query(kind, handler, window, trail_held)
        outcome = RuleOutcome(kind=kind, action=rule.then, cutoff=window.cutoff)
        outcome.due = _count(session, due)
        outcome.held = _count(session, held)
        outcome.examples = list(session.execute(due.order_by(None).limit(EXAMPLES)).scalars())
        outcomes.append(outcome)
        if dry_run or outcome.due == 0:
            if progress:
                progress(outcome)
            continue
        apply = handler.actions[rule.then]
        id_column = due.selected_columns[0]
        # Only what was due when the rule started: the run's own trail events are not fed back into it.
        top = session.execute(select(func.max(due.subquery().c[0]))).scalar_one() or 0
        last_id = 0
        while problem is None:
            batch = list(
                session.execute(
                    due.where(id_column > last_id, id_column <= top).order_by(id_column).limit(batch_size)
                ).scalars()
            )
            if not batch:
                break
            try:
                apply(session, batch, kind)
                audit_record(
                    session,
                    actor=actor,
                    actor_label=None if actor else actor_label,
                    action="retention.apply",
                    summary=f"Retention rule {kind}: {rule.then} {len(batch)} {handler.noun}"[:500],
                    entity_type="retention_run",
                    entity_id=run.id if run else None,
                    after={"rule": kind, "action": rule.then, "ids": batch, "cutoff": window.cutoff.isoformat()},
                )
                commit_and_link(session)
            except Exception as exc:  # the batch is undone whole; the run stops and says where
                session.rollback()
                problem = f"rule {kind}: a batch of {len(batch)} failed ({type(exc).__name__}); nothing of it applied"
                log.error("retention %s", problem)
                break
            outcome.done += len(batch)
            last_id = batch[-1]
        if progress:
            progress(outcome)
        if problem:
            break
    if run is not None:
        run = session.get(RetentionRun, run.id)
        assert run is not None
        run.finished_at = clock.now()
        run.status = "failed" if problem else "done"
        run.problem = problem
        run.summary = {o.kind: o.as_dict() for o in outcomes}
        session.add(run)
        done = sum(o.done for o in outcomes)
        audit_record(
            session,
            actor=actor,
            actor_label=None if actor else actor_label,
            action="retention.run",
            summary=f"Retention run {run.id}: {done} records removed, anonymised or redacted"
            + (f"; stopped: {problem}" if problem else ""),
            entity_type="retention_run",
            entity_id=run.id,
            after=run.summary,
        )
        commit_and_link(session)
    return RunOutcome(dry_run=dry_run, rules=outcomes, run_id=run.id if run else None, problem=problem)
