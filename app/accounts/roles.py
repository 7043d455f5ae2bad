"""The roles a user may hold; a user may hold several."""

from enum import StrEnum


class Role(StrEnum):
    QA_LEAD = "qa_lead"
    AUDITOR = "auditor"
    MODERATOR = "moderator"
    HEAD_OF_SERVICE = "head_of_service"
    PRACTITIONER = "practitioner"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.QA_LEAD: "QA lead",
    Role.AUDITOR: "Auditor",
    Role.MODERATOR: "Moderator",
    Role.HEAD_OF_SERVICE: "Head of service",
    Role.PRACTITIONER: "Practitioner or team manager",
    Role.VIEWER: "Viewer",
}

ROLE_HINTS = {
    Role.QA_LEAD: "Runs the programme: users, teams, training, imports, samples, templates and every report.",
    Role.AUDITOR: "Completes audits allocated to them. Needs a current auditor training record.",
    Role.MODERATOR: "Re-grades a share of audits. Needs a current moderator training record.",
    Role.HEAD_OF_SERVICE: "Sees results and recommendations for their service area and verifies closures.",
    Role.PRACTITIONER: "Receives recommendations on their cases and records what was done.",
    Role.VIEWER: "Reads reports only.",
}


class TrainingKind(StrEnum):
    AUDITOR = "auditor"
    MODERATOR = "moderator"
