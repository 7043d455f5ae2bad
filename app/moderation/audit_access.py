"""Load the facts `app.audits.permissions` decides on for one audit: its case's team, area, worker and managers,
its moderation rounds (who moderates, who grades blind) and its partner assignments. It lives here, above the
audits, because the rounds are moderation's. Four small queries, whoever asks.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import Team
from app.audits.models import Audit
from app.audits.partners.models import PanelMeeting, SectionPartner
from app.audits.permissions import AuditAccess
from app.cases.models import Case
from app.moderation.models import Moderation

ALLOCATED = "allocated"


def audit_access(session: Session, audit: Audit) -> AuditAccess:
    case_row = session.execute(
        select(Case.team_id, Case.service_area_id, Case.worker_user_id, Case.manager_user_id, Team.manager_id)
        .outerjoin(Team, Team.id == Case.team_id)
        .where(Case.id == audit.case_id)
    ).one_or_none()
    team_id, area_id, worker_id, case_manager_id, team_manager_id = case_row or (None, None, None, None, None)
    moderator_ids: set[int] = set()
    blind_ids: set[int] = set()
    latest: dict[int, tuple[int, bool]] = {}
    for moderator_id, round_, blind, status in session.execute(
        select(Moderation.moderator_id, Moderation.round, Moderation.blind, Moderation.status).where(
            Moderation.audit_id == audit.id, Moderation.moderator_id.is_not(None)
        )
    ).all():
        moderator_ids.add(moderator_id)
        if moderator_id not in latest or round_ > latest[moderator_id][0]:
            latest[moderator_id] = (round_, bool(blind and status == ALLOCATED))
    blind_ids = {moderator_id for moderator_id, (_, hidden) in latest.items() if hidden}
    sections: dict[int, set[str]] = defaultdict(set)
    for partner_id, section_key in session.execute(
        select(SectionPartner.partner_id, SectionPartner.section_key).where(SectionPartner.audit_id == audit.id)
    ).all():
        sections[partner_id].add(section_key)
    panel_held = session.execute(select(PanelMeeting.id).where(PanelMeeting.audit_id == audit.id)).first() is not None
    return AuditAccess(
        audit=audit,
        case_team_id=team_id,
        case_area_id=area_id,
        case_worker_id=worker_id,
        manager_ids=frozenset(i for i in (case_manager_id, team_manager_id) if i is not None),
        moderator_ids=frozenset(moderator_ids),
        blind_ids=frozenset(blind_ids),
        partner_sections={partner_id: frozenset(keys) for partner_id, keys in sections.items()},
        panel_held=panel_held,
    )
