"""Work the browser journeys put in place behind the scenes, straight into the live server's database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select
from sqlmodel import Session

from app.accounts import selectors as account_selectors
from app.audit_templates.selectors import template_latest
from app.audits.models import Audit
from app.audits.service import audit_start
from app.audits.workflow.states import COMPLETED
from app.cases.models import Case
from app.db import make_engine
from app.working_days import calendar_for
from tests.browser.conftest import LiveServer


@dataclass(frozen=True)
class Setup:
    audit_id: int
    child_id: str


def start_dip_sample(live_server: LiveServer, *, worker_name: str, auditor_username: str, last: bool) -> Setup:
    """A dip sample of an open case of `worker_name`'s with no audit under way and none by the auditor, allocated to
    the auditor and due in two weeks: the last such case by child ID (`last`) or the first, so two journeys never
    take the same case. (The demo's year of completed audits has audited most open cases once already.)"""
    engine = make_engine(live_server.settings.database_url)
    try:
        with Session(engine) as session:
            auditor = account_selectors.user_by_username(session, username=auditor_username)
            template = template_latest(session, key="dip_sample")
            assert auditor is not None and template is not None
            order = Case.child_id.desc() if last else Case.child_id
            taken = select(Audit.case_id).where(or_(Audit.status != COMPLETED, Audit.auditor_id == auditor.id))
            case = (
                session.execute(
                    select(Case)
                    .where(Case.worker_name == worker_name, Case.status == "open", Case.id.not_in(taken))
                    .order_by(order)
                    .limit(1)
                )
                .scalars()
                .first()
            )
            assert case is not None, f"no open case of {worker_name} free for {auditor_username} in the demo data"
            today = live_server.today()
            audit = audit_start(
                session,
                case=case,
                template=template,
                auditor=auditor,
                actor=auditor,
                today=today,
                calendar=calendar_for(live_server.settings.working_days_jurisdiction),
                due_date=today + timedelta(days=14),
            )
            session.commit()
            assert audit.id is not None
            return Setup(audit_id=audit.id, child_id=case.child_id)
    finally:
        engine.dispose()
