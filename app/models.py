"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from app.accounts.models import AuthToken, LoginAttempt, ServiceArea, Team, TrainingRecord, User, UserRole
from app.audit_templates.models import TemplateVersion
from app.audit_trail.models import AuditChainHead, AuditEvent
from app.audits.models import Audit, AuditAnswer, AuditDueChange, AuditReply
from app.audits.partners.models import PanelMeeting, SectionPartner
from app.cases.models import Case, CaseFactCorrection, CaseImport, CaseImportFile, LegalHold, WorkerLink
from app.escalations.models import Escalation, EscalationChase
from app.jobs.models import JobFailure
from app.moderation.models import Moderation
from app.notifications.models import EmailOutbox, Notification
from app.recommendations.models import (
    Recommendation,
    RecommendationEvent,
    RecommendationTheme,
    ReminderDigest,
    Theme,
)
from app.reports.packs.models import BoardPackRecord, PackDelivery, PackSchedule
from app.retention.models import RetentionRun
from app.sampling.models import Cycle, Sample, SampleCase

__all__ = [
    "Audit",
    "AuditAnswer",
    "AuditChainHead",
    "AuditDueChange",
    "AuditEvent",
    "AuditReply",
    "AuthToken",
    "BoardPackRecord",
    "Case",
    "CaseFactCorrection",
    "CaseImport",
    "CaseImportFile",
    "Cycle",
    "EmailOutbox",
    "Escalation",
    "EscalationChase",
    "JobFailure",
    "LegalHold",
    "LoginAttempt",
    "Moderation",
    "Notification",
    "PackDelivery",
    "PackSchedule",
    "PanelMeeting",
    "Recommendation",
    "RecommendationEvent",
    "RecommendationTheme",
    "ReminderDigest",
    "RetentionRun",
    "Sample",
    "SampleCase",
    "SectionPartner",
    "ServiceArea",
    "Team",
    "TemplateVersion",
    "Theme",
    "TrainingRecord",
    "User",
    "UserRole",
    "WorkerLink",
]
