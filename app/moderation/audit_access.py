"""Load the facts `app.audits.permissions` decides on for one audit: its case's team, area, worker and managers,
its moderation rounds (who moderates, who grades blind) and its partner assignments. It lives here, above the
audits, because the rounds are moderation's. Four small queries, whoever asks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

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
    return audit_accesses(session, [audit])[audit.id or 0]


def audit_accesses(session: Session, audits: Sequence[Audit]) -> dict[int, AuditAccess]:
    """The facts for many audits (a page of a list) in the same four queries as for one, by audit id."""
    ids = [a.id for a in audits if a.id is not None]
    if not ids:
        return {}
    cases = {
        case_id: rest
        for case_id, *rest in session.execute(
            select(
                Case.id, Case.team_id, Case.service_area_id, Case.worker_user_id, Case.manager_user_id, Team.manager_id
            )
            .outerjoin(Team, Team.id == Case.team_id)
            .where(Case.id.in_({a.case_id for a in audits}))
        ).all()
    }
    moderators: dict[int, set[int]] = defaultdict(set)
    latest: dict[tuple[int, int], tuple[int, bool]] = {}  # (audit, moderator) -> their latest round, blind and open
    for audit_id, moderator_id, round_, is_blind, status in session.execute(
        select(
            Moderation.audit_id, Moderation.moderator_id, Moderation.round, Moderation.blind, Moderation.status
        ).where(Moderation.audit_id.in_(ids), Moderation.moderator_id.is_not(None))
    ).all():
        moderators[audit_id].add(moderator_id)
        key = (audit_id, moderator_id)
        if key not in latest or round_ > latest[key][0]:
            latest[key] = (round_, bool(is_blind and status == ALLOCATED))
    blind: dict[int, set[int]] = defaultdict(set)
    for (audit_id, moderator_id), (_, hidden) in latest.items():
        if hidden:
            blind[audit_id].add(moderator_id)
    sections: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for audit_id, partner_id, section_key in session.execute(
        select(SectionPartner.audit_id, SectionPartner.partner_id, SectionPartner.section_key).where(
            SectionPartner.audit_id.in_(ids)
        )
    ).all():
        sections[audit_id][partner_id].add(section_key)
    panels = set(session.execute(select(PanelMeeting.audit_id).where(PanelMeeting.audit_id.in_(ids))).scalars())
    found = {}
    for audit in audits:
        if audit.id is None:
            continue
        team_id, area_id, worker_id, case_manager_id, team_manager_id = cases.get(
            audit.case_id, (None, None, None, None, None)
        )
        found[audit.id] = AuditAccess(
            audit=audit,
            case_team_id=team_id,
            case_area_id=area_id,
            case_worker_id=worker_id,
            manager_ids=frozenset(i for i in (case_manager_id, team_manager_id) if i is not None),
            moderator_ids=frozenset(moderators[audit.id]),
            blind_ids=frozenset(blind[audit.id]),
            partner_sections={pid: frozenset(keys) for pid, keys in sections[audit.id].items()},
            panel_held=audit.id in panels,
        )
    return found
