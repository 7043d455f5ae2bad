"""A few audits in the demo, so an auditor signing in to `make run` has work to open."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlmodel import Session

from app.accounts import selectors as account_selectors
from app.audit_templates.selectors import template_latest
from app.audits.models import Audit
from app.audits.service import audit_start
from app.cases.models import Case
from app.working_days import WorkingDayCalendar

# (template key, how many) allocated to the demo auditor by the demo QA lead.
DEMO_AUDITS = (("dip_sample", 3), ("case_file_audit", 1))


def demo_audits_load(session: Session, *, today: date, calendar: WorkingDayCalendar) -> int:
    """Start the demo audits on open cases; none if the templates are not published or audits exist."""
    lead = account_selectors.user_by_username(session, username="qa.lead")
    auditor = account_selectors.user_by_username(session, username="auditor")
    if lead is None or auditor is None or session.execute(select(Audit.id).limit(1)).first():
        return 0
    cases = iter(
        session.execute(
            select(Case).where(Case.status == "open").order_by(Case.child_id).limit(sum(n for _, n in DEMO_AUDITS))
        ).scalars()
    )
    started = 0
    for key, count in DEMO_AUDITS:
        template = template_latest(session, key=key)
        if template is None:
            continue
        for _ in range(count):
            case = next(cases, None)
            if case is None:
                return started
            audit_start(
                session,
                case=case,
                template=template,
                auditor=auditor,
                actor=lead,
                today=today,
                calendar=calendar,
                due_date=today + timedelta(days=14),
            )
            started += 1
    return started
