"""The roles a user may hold; a user may hold several."""

from enum import StrEnum


class Role(StrEnum):
    QA_LEAD = "qa_lead"
    AUDITOR = "auditor"
    MODERATOR = "moderator"
    HEAD_OF_SERVICE = "head_of_service"
    TEAM_MANAGER = "team_manager"
    PRACTITIONER = "practitioner"
    PARTNER = "partner"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.QA_LEAD: "QA lead",
    Role.AUDITOR: "Auditor",
    Role.MODERATOR: "Moderator",
    Role.HEAD_OF_SERVICE: "Head of service",
    Role.TEAM_MANAGER: "Team manager",
    Role.PRACTITIONER: "Practitioner",
    Role.PARTNER: "Partner agency representative",
    Role.VIEWER: "Viewer",
}

ROLE_HINTS = {
    Role.QA_LEAD: "Runs the programme: users, teams, training, imports, samples, templates and every report.",
    Role.AUDITOR: "Completes audits allocated to them. Needs a current auditor training record.",
    Role.MODERATOR: "Re-grades a share of audits. Needs a current moderator training record.",
    Role.HEAD_OF_SERVICE: "Sees results and recommendations for their service area and verifies closures.",
    Role.TEAM_MANAGER: "Reads completed audits of their team's cases, their findings and replies (read-only).",
    Role.PRACTITIONER: "Receives recommendations on their cases and records what was done.",
    Role.PARTNER: (
        "Another agency's representative in multi-agency audits: completes the sections assigned to them. "
        "Needs an agency and a current partner agreement."
    ),
    Role.VIEWER: "Reads reports only.",
}


class TrainingKind(StrEnum):
    AUDITOR = "auditor"
    MODERATOR = "moderator"


class Agency(StrEnum):
    """The agencies a partner representative may come from (children's social care is the council's own)."""

    POLICE = "police"
    HEALTH = "health"
    EDUCATION = "education"
    PROBATION = "probation"
    OTHER = "other"

    @property
    def label(self) -> str:
        return AGENCY_LABELS[self]


AGENCY_LABELS = {
    Agency.POLICE: "Police",
    Agency.HEALTH: "Health",
    Agency.EDUCATION: "Education",
    Agency.PROBATION: "Probation",
    Agency.OTHER: "Other agency",
}
