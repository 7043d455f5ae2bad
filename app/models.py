"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from app.accounts.models import AuthToken, LoginAttempt, ServiceArea, Team, TrainingRecord, User, UserRole
from app.audit_trail.models import AuditChainHead, AuditEvent
from app.cases.models import Case, CaseImport, CaseImportFile

__all__ = [
    "AuditChainHead",
    "AuditEvent",
    "AuthToken",
    "Case",
    "CaseImport",
    "CaseImportFile",
    "LoginAttempt",
    "ServiceArea",
    "Team",
    "TrainingRecord",
    "User",
    "UserRole",
]
