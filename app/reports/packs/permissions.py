"""Who may see and do what with board pack records: pure rules of the user and the pack."""

from __future__ import annotations

from app.accounts.models import User
from app.accounts.roles import Role
from app.reports.packs.models import ISSUED, BoardPackRecord

PACK_READER_ROLES = (Role.QA_LEAD, Role.HEAD_OF_SERVICE, Role.VIEWER)  # as the reports
PACK_MANAGER_ROLES = (Role.QA_LEAD,)


def may_manage_packs(user: User) -> bool:
    """Schedules, drafts, commentary and issuing: the QA lead."""
    return user.has_role(*PACK_MANAGER_ROLES)


def may_read_pack(user: User, pack: BoardPackRecord) -> bool:
    """The QA lead sees every pack; viewers every issued one; a head of service the issued packs of their own
    service area (as on the reports page: an all-areas pack is not theirs to see)."""
    if may_manage_packs(user):
        return True
    if pack.status != ISSUED:
        return False
    if user.has_role(Role.VIEWER):
        return True
    return (
        user.has_role(Role.HEAD_OF_SERVICE)
        and pack.service_area_id is not None
        and pack.service_area_id == user.scope_service_area_id
    )
