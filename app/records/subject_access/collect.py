"""Everything the service holds about one child, gathered into one JSON-ready structure (plain dicts and lists of
strings, numbers, booleans and None; dates and times as ISO 8601 text), which `records.json` is written from as it
is and `records.pdf` is rendered from. `redact.records_redact` turns it into the redacted variant.

Every member of staff (or partner) the records mention is a *person reference*, `{"person": key, "name": name}`, and
is listed once in `people` with their username, the other names the records give them and what they did in these
records (`roles`, in the order the records first show them). That list is what redaction reads: it needs no
database.

Top-level keys, in document order:

    about            what this is: the child ID, when and by whom it was produced, the variant, what is left out
    register         the case register's facts about the child (`child_case`), with the worker and manager as people
    imports          the register imports that touched the case: the last to write its facts, those that closed it
                     (or would have), those whose problems name the child; file names and SHA-256, dates, who
    corrections      the QA lead's corrections of register facts, with the reason, who and when
    samples          the audit samples the case was drawn in
    audits           each audit: answers (every answer row), grades (auditor's and final), due date changes,
                     moderation rounds, the practitioner's replies, section partners and the panel meeting
    recommendations  recommendations on the case or its audits, with their themes and history
    escalations      safeguarding escalations on the case, with the chase ladder's steps
    access_log       what the audit trail records about these records: who viewed, exported or changed them, when
    legal_holds      legal holds on the case: when, why and by whom placed, and lifted
    people           every person referred to above
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, String, cast, or_, select
from sqlmodel import Session, col

from app.accounts.models import ServiceArea, Team, User
from app.audit_templates.describe import answer_text
from app.audit_templates.schema import Question, TemplateDefinition
from app.audit_trail.selectors import trail_events_about_child
from app.audits import case_scope
from app.audits import selectors as audit_selectors
from app.audits.models import Audit, AuditDueChange, AuditReply
from app.audits.partners.models import PanelMeeting, SectionPartner
from app.cases import selectors as case_selectors
from app.cases.models import Case, CaseFactCorrection, CaseImport, LegalHold
from app.cases.selectors import case_by_child_id
from app.escalations import rules as escalation_rules
from app.escalations import selectors as escalation_selectors
from app.escalations.models import Escalation
from app.moderation import selectors as moderation_selectors
from app.recommendations import rules as recommendation_rules
from app.recommendations import selectors as recommendation_selectors
from app.recommendations.models import Recommendation
from app.records.printable import COMPLIANCE_DECISION_LABELS, DECISION_LABELS, MODERATION_STATUS, REASON_LABELS
from app.records.printable import grade_label as _grade_label
from app.records.subject_access.redact import ALIAS_AFTER, ALIAS_BEFORE
from app.sampling.models import Cycle, Sample, SampleCase

FORMAT = "case-file-audit/records-request"
SCHEMA_VERSION = 1
FULL = "full"
SYSTEM = "The service itself (an automatic step)"

# The register's columns that name or identify staff: given as people (`worker`, `manager`), never as raw columns.
REGISTER_STAFF_COLUMNS = {"worker_name", "manager_name", "worker_user_id", "manager_user_id"}

# The parts people play in the child's case, most telling first: a person is named by the first they have (an
# auditor who also raised a recommendation is "auditor"), else by the first thing the records show them doing.
PRIMARY_ROLES = (
    "auditor",
    "moderator",
    "allocated worker",
    "team manager",
    "section partner",
    "recommendation owner",
    "escalation recipient",
    "reply author",
    "panel attendee",
    "produced these records",
)
CORRECTION_OMITS = {"case_id", "corrected_by_id"}  # the case is the record's; who corrected it is a person


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _plain(value: Any) -> Any:
    """A column's value as JSON: dates and times as ISO 8601 (times with their offset), the rest as stored."""
    return value.isoformat() if isinstance(value, date | datetime) else value


def _child_pattern(child_id: str) -> re.Pattern[str]:
    """The child ID as a whole word (never the start of a longer ID)."""
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(child_id) + r"(?![A-Za-z0-9])")


def _findable_name(name: str) -> bool:
    """A full name worth looking for in free text: two words or more (a single word is too often an ordinary one)."""
    return len(name.split()) >= 2 and len(name) >= 5


@dataclass(frozen=True)
class _Account:
    id: int
    username: str
    full_name: str


@dataclass
class People:
    """The people the records refer to, by key ("user-12" for an account; "named-..." for someone the records name
    only as text: a worker the register names but nobody mapped, a panel attendee), in first-mention order."""

    accounts: dict[int, _Account]
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    # An account that is someone the records already named only as text, by exactly their full name (the register's
    # worker before the QA lead mapped them): "user-12" -> that entry's key, so they are one person with one label.
    same_as: dict[str, str] = field(default_factory=dict)

    def _entry(self, key: str, name: str, username: str | None) -> dict[str, Any]:
        return self.entries.setdefault(
            key, {"person": key, "name": name, "username": username, "also_known_as": [], "roles": []}
        )

    @staticmethod
    def _note(entry: dict[str, Any], role: str, alias: str | None = None) -> None:
        if role not in entry["roles"]:
            entry["roles"].append(role)
        if alias and alias.strip() and alias.strip() != entry["name"] and alias.strip() not in entry["also_known_as"]:
            entry["also_known_as"].append(alias.strip())

    def user(self, user_id: int | None, role: str, *, shown_as: str | None = None) -> dict[str, Any] | None:
        """A reference to an account (None for none); `shown_as`: another name the records give them."""
        if user_id is None:
            return None
        account = self.accounts.get(user_id)
        key = self.same_as.get(f"user-{user_id}", f"user-{user_id}")
        if key not in self.entries and account is not None:
            named = next(
                (
                    e
                    for e in self.entries.values()
                    if e["username"] is None and e["name"].casefold() == account.full_name.casefold()
                ),
                None,
            )
            if named is not None:
                self.same_as[key] = named["person"]
                key, named["username"] = named["person"], account.username
        entry = self._entry(
            key, account.full_name if account else f"Account {user_id}", account.username if account else None
        )
        self._note(entry, role, shown_as)
        return {"person": key, "name": entry["name"]}

    def named(self, name: str | None, role: str, *, alias: str | None = None) -> dict[str, Any] | None:
        """A reference to someone the records name only as text; the same account when the name is exactly the full
        name of someone the records already refer to by account (a partner at their own panel meeting)."""
        if name is None or not name.strip():
            return None
        name = name.strip()
        folded = name.casefold()
        for entry in self.entries.values():
            if entry["name"].casefold() == folded or folded in (a.casefold() for a in entry["also_known_as"]):
                self._note(entry, role, alias)
                return {"person": entry["person"], "name": entry["name"]}
        key = "named-" + re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:60]
        entry = self._entry(key, name, None)
        self._note(entry, role, alias)
        return {"person": key, "name": name}

    def listed(self) -> list[dict[str, Any]]:
        """Everyone, in first-mention order, each with the part they play in the child's case first (what a label
        names them by), then the rest in the order the records show them."""

        def rank(role: str) -> int:
            return PRIMARY_ROLES.index(role) if role in PRIMARY_ROLES else len(PRIMARY_ROLES)

        return [{**e, "roles": sorted(e["roles"], key=rank)} for e in self.entries.values()]


def _accounts(session: Session) -> dict[int, _Account]:
    rows = session.execute(select(col(User.id), col(User.username), col(User.full_name))).all()
    return {row.id: _Account(row.id, row.username, row.full_name) for row in rows}


# --- The register and where its facts came from ------------------------------------------------------------------


def _register(session: Session, case: Case, people: People, today: date) -> dict[str, Any]:
    facts = {name: _plain(getattr(case, name)) for name in Case.model_fields if name not in REGISTER_STAFF_COLUMNS}
    team = session.get(Team, case.team_id) if case.team_id is not None else None
    area = session.get(ServiceArea, case.service_area_id) if case.service_area_id is not None else None
    worker = (
        people.user(case.worker_user_id, "allocated worker", shown_as=case.worker_name)
        if case.worker_user_id is not None
        else people.named(case.worker_name, "allocated worker")
    )
    if worker is not None and case.worker_id:
        people.entries[worker["person"]]["also_known_as"].append(case.worker_id)  # the case system's id for them
    manager = (
        people.user(case.manager_user_id, "team manager", shown_as=case.manager_name)
        if case.manager_user_id is not None
        else people.named(case.manager_name, "team manager")
    )
    age = case_selectors.age_on(case.birth_year, case.birth_month, today)
    return {
        **facts,
        "case_type_label": case_selectors.case_type_label(case.case_type),
        "age_today": age,
        "team": team.name if team else None,
        "service_area": area.name if area else None,
        "worker": worker,
        "manager": manager,
    }


def _mentions(entries: Iterable[dict[str, Any]], child: re.Pattern[str]) -> list[dict[str, Any]]:
    """The problems of an import that name the child (in the value read or the message)."""
    return [
        e
        for e in entries
        if isinstance(e, dict)
        and (child.search(str(e.get("value") or "")) or child.search(str(e.get("message") or "")))
    ]


def _imports(session: Session, case: Case, people: People) -> list[dict[str, Any]]:
    """The last import to write the case's facts, and every import whose closing list or problems name the case (a
    text match narrows the search; each is then checked exactly)."""
    pattern = "%" + case.child_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    conditions: list[ColumnElement[bool]] = [
        cast(CaseImport.closing, String).like(pattern, escape="\\"),
        cast(CaseImport.errors, String).like(pattern, escape="\\"),
        cast(CaseImport.warnings, String).like(pattern, escape="\\"),
    ]
    if case.last_import_id is not None:
        conditions.append(col(CaseImport.id) == case.last_import_id)
    found = session.execute(select(CaseImport).where(or_(*conditions)).order_by(col(CaseImport.id))).scalars().all()
    child = _child_pattern(case.child_id)
    listed = []
    for imp in found:
        how = []
        if imp.id == case.last_import_id:
            how.append("the last import to write the case's facts")
        if any(c.get("id") == case.id or c.get("child_id") == case.child_id for c in imp.closing or []):
            how.append("closed the case" if imp.status == "committed" else "listed the case to close")
        problems = _mentions(imp.errors or [], child) + _mentions(imp.warnings or [], child)
        if problems:
            how.append("a problem with the child's row")
        if not how:
            continue  # the child ID was only part of a longer one
        listed.append(
            {
                "id": imp.id,
                "how": how,
                "format": imp.format,
                "mode": imp.mode,
                "full": imp.full,
                "status": imp.status,
                "files": [
                    {"name": name, "sha256": sha}
                    for name, sha in zip(imp.file_names or [], imp.file_hashes or [], strict=False)
                ],
                "rows_read": imp.rows_read,
                "imported_by": people.user(imp.created_by_id, "imported the register"),
                "created_at": _iso(imp.created_at),
                "finished_at": _iso(imp.finished_at),
                "problems": problems,
            }
        )
    return listed


def _corrections(session: Session, case: Case, people: People) -> dict[str, Any]:
    """The QA lead's corrections of the case's register facts, oldest first: every column as kept (the fact, the value
    before and after, what the case system said, why, when, what superseded it), with who corrected it."""
    rows = session.execute(
        select(CaseFactCorrection)
        .where(col(CaseFactCorrection.case_id) == case.id)
        .order_by(col(CaseFactCorrection.corrected_at), col(CaseFactCorrection.id))
    ).scalars()
    items = [
        {
            **{
                name: _plain(getattr(c, name))
                for name in CaseFactCorrection.model_fields
                if name not in CORRECTION_OMITS
            },
            "corrected_by": people.user(c.corrected_by_id, "corrected the register"),
        }
        for c in rows
    ]
    return {"included": True, "items": items}


def _samples(session: Session, case: Case, people: People) -> list[dict[str, Any]]:
    rows = session.execute(
        select(SampleCase, Sample, Cycle)
        .join(Sample, col(Sample.id) == col(SampleCase.sample_id))
        .join(Cycle, col(Cycle.id) == col(Sample.cycle_id))
        .where(col(SampleCase.case_id) == case.id)
        .order_by(col(Sample.created_at), col(Sample.id))
    ).all()
    return [
        {
            "sample_id": sample.id,
            "cycle_id": cycle.id,
            "cycle": cycle.title,
            "cycle_kind": cycle.kind,
            "method": sample.method,
            "stratum": member.stratum,
            "added_by_hand_because": member.manual_reason,
            "drawn_by": people.user(sample.created_by_id, "drew a sample"),
            "drawn_at": _iso(sample.created_at),
        }
        for member, sample, cycle in rows
    ]


# --- Audits --------------------------------------------------------------------------------------------------------


def _question_sections(definition: TemplateDefinition) -> Iterator[tuple[str, str, Question]]:
    for section in definition.sections:
        for question in section.form_questions:
            yield section.key, section.title, question


def _answers(audit: Audit, definition: TemplateDefinition, session: Session, people: People) -> list[dict[str, Any]]:
    """Every answer row the audit has, in the form's order, then any the form no longer shows (kept all the same)."""
    rows = audit_selectors.audit_answer_rows(session, audit=audit)
    listed = []
    seen = set()
    ordered = [
        (s_key, s_title, q, rows[q.key]) for s_key, s_title, q in _question_sections(definition) if q.key in rows
    ]
    extras = [(None, None, None, row) for key, row in sorted(rows.items()) if definition.question(key) is None]
    for section_key, section_title, question, row in [*ordered, *extras]:
        if row.question_key in seen:
            continue
        seen.add(row.question_key)
        listed.append(
            {
                "question_key": row.question_key,
                "question": question.label if question else row.question_key,
                "section_key": section_key,
                "section": section_title,
                "value": row.value,
                "text": answer_text(question, row.value) if question else ("" if row.value is None else str(row.value)),
                "suggested": (
                    {"value": row.prefill_value, "explanation": row.prefill_explanation} if row.prefill_value else None
                ),
                "updated_by": people.user(row.updated_by_id, "answered audit questions"),
                "updated_at": _iso(row.updated_at),
            }
        )
    return listed


def _grade_set(definition: TemplateDefinition, sections: dict[str, Any], overall: str | None) -> dict[str, Any]:
    titles = {s.key: s.title for s in definition.sections}
    return {
        "overall": overall,
        "overall_label": _grade_label(overall),
        "sections": [
            {"key": key, "title": titles.get(key, key), "grade": grade, "label": _grade_label(grade)}
            for key, grade in sections.items()
        ],
    }


def _moderation(
    session: Session, audit: Audit, definition: TemplateDefinition, answers: dict[str, Any], people: People
) -> list[dict[str, Any]]:
    assert audit.id is not None
    auditor_now = moderation_selectors.auditor_values(definition, answers)
    compliance = moderation_selectors.compliance_only(definition)
    decisions = COMPLIANCE_DECISION_LABELS if compliance else DECISION_LABELS
    rounds = []
    for m in moderation_selectors.moderation_rounds(session, audit_id=audit.id):
        graded = m.status in ("graded", "decided")
        agreement = m.agreement or {}
        rounds.append(
            {
                "id": m.id,
                "round": m.round,
                "reason": m.reason,
                "reason_label": REASON_LABELS.get(m.reason, m.reason),
                "selection_draw": m.selection_draw,
                "selection_rate": m.selection_rate,
                "rate_raised_because": m.rate_raised_because,
                "selected_by": people.user(m.selected_by_id, "selected an audit for moderation"),
                "moderator": people.user(m.moderator_id, "moderator"),
                "status": m.status,
                "status_label": MODERATION_STATUS.get(m.status, m.status),
                "blind": m.blind,
                "compared": "answers" if compliance else "grades",
                "comparison": [
                    {
                        "key": c.key,
                        "title": c.title,
                        "auditor": c.auditor,
                        "moderator": c.moderator,
                        "agree": agree if isinstance(agree := agreement.get(c.key), bool) else None,
                    }
                    for c in (moderation_selectors.compared(definition, m, auditor_now) if graded else [])
                ],
                "section_grades": m.section_grades,
                "overall_grade": m.overall_grade,
                "moderator_answers": m.moderator_answers,
                "auditor_section_grades": m.auditor_section_grades,
                "auditor_overall_grade": m.auditor_overall_grade,
                "auditor_answers": m.auditor_answers,
                "agreement": agreement,
                "rationale": m.rationale,
                "learning": m.learning,
                "decision": m.decision,
                "decision_label": decisions.get(m.decision or "", ""),
                "feedback": m.feedback,
                "created_at": _iso(m.created_at),
                "graded_at": _iso(m.graded_at),
                "decided_at": _iso(m.decided_at),
            }
        )
    return rounds


def _panel(
    session: Session, audit: Audit, definition: TemplateDefinition, people: People
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    partners = session.execute(
        select(SectionPartner).where(col(SectionPartner.audit_id) == audit.id).order_by(col(SectionPartner.id))
    ).scalars()
    section_titles = {s.key: s.title for s in definition.sections}
    assigned = [
        {
            "section_key": p.section_key,
            "section": section_titles.get(p.section_key, p.section_key),
            "partner": people.user(p.partner_id, "section partner"),
            "assigned_by": people.user(p.assigned_by_id, "assigned a section partner"),
            "assigned_at": _iso(p.assigned_at),
        }
        for p in partners
    ]
    meeting = session.execute(select(PanelMeeting).where(col(PanelMeeting.audit_id) == audit.id)).scalar_one_or_none()
    if meeting is None:
        return assigned, None
    return assigned, {
        "id": meeting.id,
        "held_on": _iso(meeting.held_on),
        "attendees": [
            {"agency": a.get("agency"), "attendee": people.named(str(a.get("name") or ""), "panel attendee")}
            for a in meeting.attendees or []
        ],
        "conclusion": meeting.conclusion,
        "grade": meeting.grade,
        "grade_label": _grade_label(meeting.grade),
        "dissent": meeting.dissent,
        "actions": [
            {
                "recommendation_id": a.get("recommendation_id"),
                "agency": a.get("agency"),
                "owner": people.user(a.get("owner_id"), "panel action owner"),
            }
            for a in meeting.actions or []
        ],
        "recorded_by": people.user(meeting.recorded_by_id, "recorded the panel meeting"),
        "recorded_at": _iso(meeting.recorded_at),
    }


def _audit(session: Session, audit: Audit, people: People) -> dict[str, Any]:
    template, definition = audit_selectors.audit_template(session, audit)
    answers = audit_selectors.audit_answers(session, audit=audit)
    auditor_grades, final_grades = moderation_selectors.audit_grades(
        session, audit=audit, definition=definition, answers=answers
    )
    cycle = session.get(Cycle, audit.cycle_id) if audit.cycle_id is not None else None
    due_changes = session.execute(
        select(AuditDueChange)
        .where(col(AuditDueChange.audit_id) == audit.id)
        .order_by(col(AuditDueChange.created_at), col(AuditDueChange.id))
    ).scalars()
    replies = session.execute(
        select(AuditReply)
        .where(col(AuditReply.audit_id) == audit.id)
        .order_by(col(AuditReply.created_at), col(AuditReply.id))
    ).scalars()
    record: dict[str, Any] = {
        "id": audit.id,
        "template_key": audit.template_key,
        "template_version": audit.template_version,
        "template_title": template.title,
        "cycle_id": audit.cycle_id,
        "cycle": cycle.title if cycle else None,
        "sample_id": audit.sample_id,
        "status": audit.status,
        "status_label": audit_selectors.STATUS_LABELS.get(audit.status, audit.status),
        "auditor": people.user(audit.auditor_id, "auditor"),
        "started_by": people.user(audit.started_by_id, "started an audit"),
        "safeguarding_recipient": people.user(audit.safeguarding_recipient_id, "chosen to be told of a concern"),
        "due_date": _iso(audit.due_date),
        "created_at": _iso(audit.created_at),
        "updated_at": _iso(audit.updated_at),
        "submitted_at": _iso(audit.submitted_at),
        "completed_at": _iso(audit.completed_at),
        "final_grade": audit.final_grade,
        "final_grade_label": _grade_label(audit.final_grade),
        "compliance_answers": audit.compliance_answers,
        "version": audit.version,
    }
    record["answers"] = _answers(audit, definition, session, people)
    record["grades"] = {
        "auditor": _grade_set(definition, *auditor_grades),
        "final": _grade_set(definition, *final_grades) if final_grades is not None else None,
    }
    record["due_date_changes"] = [
        {
            "id": c.id,
            "old_due_date": _iso(c.old_due_date),
            "new_due_date": _iso(c.new_due_date),
            "reason": c.reason,
            "changed_by": people.user(c.changed_by_id, "changed a due date"),
            "created_at": _iso(c.created_at),
        }
        for c in due_changes
    ]
    record["moderation"] = _moderation(session, audit, definition, answers, people)
    record["replies"] = [
        {
            "id": r.id,
            "author": people.user(r.author_id, "reply author"),
            "text": r.text,
            "created_at": _iso(r.created_at),
        }
        for r in replies
    ]
    record["section_partners"], record["panel_meeting"] = _panel(session, audit, definition, people)
    return record


# --- Recommendations and escalations --------------------------------------------------------------------------------


def _recommendations(session: Session, case: Case, audit_ids: list[int], people: People) -> list[dict[str, Any]]:
    condition: ColumnElement[bool] = col(Recommendation.case_id) == case.id
    if audit_ids:
        condition = or_(condition, col(Recommendation.audit_id).in_(audit_ids))
    items = session.execute(select(Recommendation).where(condition).order_by(col(Recommendation.id))).scalars().all()
    themes = recommendation_selectors.themes_by_item(session, [i.id for i in items if i.id is not None])
    cycles = {
        c.id: c.title
        for c in session.execute(select(Cycle).where(col(Cycle.id).in_({i.cycle_id for i in items if i.cycle_id})))
        .scalars()
        .all()
    }
    listed = []
    for item in items:
        assert item.id is not None
        record = {
            "id": item.id,
            "text": item.text,
            "audit_id": item.audit_id,
            "section_key": item.section_key,
            "cycle_id": item.cycle_id,
            "cycle": cycles.get(item.cycle_id) if item.cycle_id else None,
            "priority": item.priority,
            "priority_label": recommendation_rules.PRIORITY_LABELS.get(item.priority, item.priority),
            "status": item.status,
            "status_label": recommendation_rules.STATUS_LABELS.get(item.status, item.status),
            "due_date": _iso(item.due_date),
            "owner": people.user(item.owner_id, "recommendation owner"),
            "raised_by": people.user(item.raised_by_id, "raised a recommendation"),
            "raised_at": _iso(item.raised_at),
            "evidence": item.evidence,
            "completed_at": _iso(item.completed_at),
            "closed_at": _iso(item.closed_at),
            "closed_by": people.user(item.closed_by_id, "closed a recommendation"),
            "days_to_close": item.days_to_close,
            "themes": themes.get(item.id, []),
            "version": item.version,
        }
        record["history"] = [
            {
                "id": h.event.id,
                "action": h.event.action,
                "label": h.label,
                "from_status": h.event.from_status,
                "to_status": h.event.to_status,
                "old_due_date": _iso(h.event.old_due_date),
                "new_due_date": _iso(h.event.new_due_date),
                "note": h.event.note,
                "by": people.user(h.event.actor_id, "updated a recommendation"),
                "at": _iso(h.event.created_at),
            }
            for h in recommendation_selectors.recommendation_history(session, recommendation_id=item.id)
        ]
        listed.append(record)
    return listed


def _escalations(session: Session, case: Case, people: People) -> list[dict[str, Any]]:
    items = (
        session.execute(
            select(Escalation)
            .where(col(Escalation.case_id) == case.id)
            .order_by(col(Escalation.created_at), col(Escalation.id))
        )
        .scalars()
        .all()
    )
    chases = escalation_selectors.chases_for(session, escalation_ids=[e.id for e in items if e.id is not None])
    listed = []
    for e in items:
        assert e.id is not None
        status = escalation_selectors.escalation_status(e)
        listed.append(
            {
                "id": e.id,
                "audit_id": e.audit_id,
                "status": status,
                "status_label": escalation_selectors.STATUS_LABELS.get(status, status),
                "raised_by": people.user(e.raised_by_id, "raised an escalation"),
                "recipient": people.user(e.recipient_id, "escalation recipient"),
                "description": e.description,
                "created_at": _iso(e.created_at),
                "acknowledged_at": _iso(e.acknowledged_at),
                "acknowledged_by": people.user(e.acknowledged_by_id, "acknowledged an escalation"),
                "acknowledgement_note": e.acknowledgement_note,
                "outcome": e.outcome,
                "outcome_label": escalation_rules.outcome_label(e.outcome) if e.acknowledged_at else None,
                "withdrawn_at": _iso(e.withdrawn_at),
                "withdrawn_by": people.user(e.withdrawn_by_id, "withdrew an escalation"),
                "withdrawn_reason": e.withdrawn_reason,
                "chases": [
                    {
                        "step": c.step,
                        "label": escalation_rules.STEP_LABELS.get(c.step, f"Step {c.step}"),
                        "sent_at": _iso(c.sent_at),
                        "told": [people.user(i, "chased about an escalation") for i in c.recipient_ids],
                    }
                    for c in chases.get(e.id, [])
                ],
            }
        )
    return listed


# --- The audit trail ---------------------------------------------------------------------------------------------


def _access_log(
    session: Session, case: Case, records: dict[str, Any], people: People
) -> tuple[list[dict[str, Any]], dict[str, list[int]]]:
    entities: dict[str, list[int]] = {
        "case": [case.id] if case.id is not None else [],
        "audit": [a["id"] for a in records["audits"]],
        # Moderation events name the round (audit_moderation.id), not the audit (app.moderation.service).
        "moderation": [m["id"] for a in records["audits"] for m in a["moderation"]],
        "recommendation": [r["id"] for r in records["recommendations"]],
        "escalation": [e["id"] for e in records["escalations"]],
    }
    events = trail_events_about_child(session, entities, child_id=case.child_id)
    return [
        {
            "event_id": event.id,
            "occurred_at": _iso(event.occurred_at),
            "actor": (
                people.user(event.actor_id, "acted in the audit trail")
                if event.actor_id is not None
                else {"person": None, "name": SYSTEM if event.actor_label == "system" else event.actor_label}
            ),
            "action": event.action,
            "entity_type": event.entity_type,
            "entity_id": event.entity_id,
            "summary": event.summary,
        }
        for event in events
    ], entities


# --- Names in free text -------------------------------------------------------------------------------------------


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        if "person" in value and set(value) <= {"person", "name"}:
            return
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def _name_mentions(records: dict[str, Any], people: People) -> None:
    """Register anyone with an account whose full name appears in the records' text (a reply naming a colleague), and
    anyone whose username an audit trail summary gives ("allocated to jsmith"): redaction then replaces them too."""
    by_name = {a.full_name.casefold(): a for a in people.accounts.values() if _findable_name(a.full_name)}
    by_username = {a.username.casefold(): a for a in people.accounts.values() if len(a.username) >= 2}

    def pattern(words: Iterable[str]) -> re.Pattern[str] | None:
        alternatives = sorted(words, key=len, reverse=True)
        if not alternatives:
            return None
        joined = "|".join(re.escape(w) for w in alternatives)
        return re.compile(f"{ALIAS_BEFORE}(?:{joined}){ALIAS_AFTER}", re.IGNORECASE)

    names, usernames = pattern(by_name), pattern(by_username)
    sections = {key: value for key, value in records.items() if key not in ("about", "people")}
    if names is not None:
        for text in _texts(sections):
            for match in names.finditer(text):
                account = by_name[match.group(0).casefold()]
                people.user(account.id, "named in the records")
    if usernames is not None:
        for entry in records["access_log"]:
            for match in usernames.finditer(entry["summary"]):
                account = by_username[match.group(0).casefold()]
                people.user(account.id, "named in the audit trail")


# --- The whole record -------------------------------------------------------------------------------------------


def requested_case(session: Session, *, user: User, child_id: str) -> Case | None:
    """The case of this child ID (as typed, or in capitals), if `user` may see it."""
    return case_by_child_id(session, scope=case_scope.case_scope_filter(user), child_id=child_id)


def _legal_holds(session: Session, case: Case, people: People) -> dict[str, Any]:
    """The legal holds on the case, oldest first, with who placed and lifted them and why."""
    rows = session.execute(
        select(LegalHold).where(col(LegalHold.case_id) == case.id).order_by(col(LegalHold.placed_at), col(LegalHold.id))
    ).scalars()
    items = [
        {
            "id": h.id,
            "placed_at": _iso(h.placed_at),
            "reason": h.reason,
            "placed_by": people.user(h.placed_by_id, "placed a legal hold"),
            "lifted_at": _iso(h.lifted_at),
            "lifted_by": people.user(h.lifted_by_id, "lifted a legal hold"),
            "lifted_reason": h.lifted_reason,
        }
        for h in rows
    ]
    return {"included": True, "items": items}


def records_collect(
    session: Session,
    *,
    case: Case,
    produced_by: User,
    produced_at: datetime,
    today: date,
    service_name: str,
    timezone: str,
) -> dict[str, Any]:
    """Everything held about the child of `case`, in the full variant (see the module's docstring for its shape)."""
    people = People(accounts=_accounts(session))
    records: dict[str, Any] = {"about": {}}
    records["register"] = _register(session, case, people, today)
    records["imports"] = _imports(session, case, people)
    records["corrections"] = _corrections(session, case, people)
    records["samples"] = _samples(session, case, people)
    audits = session.execute(
        select(Audit).where(col(Audit.case_id) == case.id).order_by(col(Audit.created_at), col(Audit.id))
    )
    records["audits"] = [_audit(session, audit, people) for audit in audits.scalars().all()]
    records["recommendations"] = _recommendations(session, case, [a["id"] for a in records["audits"]], people)
    records["escalations"] = _escalations(session, case, people)
    records["access_log"], entities = _access_log(session, case, records, people)
    records["legal_holds"] = _legal_holds(session, case, people)
    _name_mentions(records, people)
    records["about"] = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "service": service_name,
        "child_id": case.child_id,
        "case_id": case.id,
        "variant": FULL,
        "produced_at": _iso(produced_at),
        "timezone": timezone,
        "produced_by": people.user(produced_by.id, "produced these records"),
        "counts": {
            "imports": len(records["imports"]),
            "samples": len(records["samples"]),
            "audits": len(records["audits"]),
            "answers": sum(len(a["answers"]) for a in records["audits"]),
            "moderation_rounds": sum(len(a["moderation"]) for a in records["audits"]),
            "replies": sum(len(a["replies"]) for a in records["audits"]),
            "recommendations": len(records["recommendations"]),
            "escalations": len(records["escalations"]),
            "access_log": len(records["access_log"]),
        },
        "trail_entities": entities,
        "not_included": [
            {
                "what": "This request itself",
                "why": "Producing these records is recorded in the audit trail as it finishes, so it is not listed "
                "in them.",
            },
        ],
    }
    records["people"] = people.listed()
    return records
