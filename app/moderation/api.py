"""JSON API for moderation: an audit's rounds, and the moderator's grades, agreement and decision in one call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_trail.service import audit_read
from app.audits.lookups import ModeratedAudit
from app.db import SessionDep
from app.moderation import selectors, service
from app.moderation.schemas import (
    ModerationDecision,
    ModerationPublic,
    ModerationRounds,
    moderation_public,
)
from app.web.auth import RoleGuard

router = APIRouter(tags=["moderation"])

ModerationReader = Annotated[User, Depends(RoleGuard(Role.QA_LEAD, Role.MODERATOR, Role.AUDITOR))]
Moderator = Annotated[User, Depends(RoleGuard(Role.MODERATOR))]


@router.get("/audits/{audit_id}/moderation", response_model=ModerationRounds, responses={404: {}})
def moderation_get(session: SessionDep, user: ModerationReader, audit: ModeratedAudit) -> ModerationRounds:
    """The audit's moderation rounds, oldest first (the moderator's grades, agreement and decision; the
    auditor's grades are in the audit's answers)."""
    assert audit.id is not None
    audit_read(session, actor=user, action="moderation.view", entity_type="audit", entity_id=audit.id)
    return ModerationRounds(
        audit_id=audit.id,
        audit_status=audit.status,
        audit_version=audit.version,
        rounds=[moderation_public(m) for m in selectors.moderation_rounds(session, audit_id=audit.id)],
    )


@router.post(
    "/audits/{audit_id}/moderation",
    response_model=ModerationPublic,
    responses={
        403: {"description": "Not this round's moderator"},
        404: {},
        409: {"description": "Stale version, not in moderation, or already decided"},
        422: {
            "description": "A field at fault: rationale, feedback, overall_grade, agree, answers.<section> or "
            "compliance_answers.<question> (each compliance question left unanswered is named)"
        },
    },
)
def moderation_post(
    session: SessionDep, user: Moderator, audit: ModeratedAudit, body: ModerationDecision
) -> ModerationPublic:
    """Record the moderator's grades, agreement and decision (accept completes the audit with the moderator's
    overall grade as final; return sends it back to the auditor with the feedback).

    Agreement: "overall" is `agree`; per section, the moderator's grade is the one in `answers` (a section left
    out takes the auditor's grade) and the section agrees when the two grades are equal. A compliance-only template
    (the dip sample) is moderated on `compliance_answers` instead (each question agrees when the two answers are
    equal), and no overall grade is created."""
    moderation = service.moderation_record(
        session,
        audit=audit,
        version=body.version,
        answers=body.answers,
        overall_grade=body.overall_grade,
        agree=body.agree,
        compliance_answers=body.compliance_answers,
        rationale=body.rationale,
        decision=body.decision,
        learning=body.learning,
        feedback=body.feedback,
        actor=user,
    )
    return moderation_public(moderation)
