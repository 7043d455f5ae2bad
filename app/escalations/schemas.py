"""Form models for safeguarding escalations."""

from __future__ import annotations

from pydantic import BaseModel


class EscalationAcknowledgeForm(BaseModel):
    """Acknowledging an escalation: an optional note (the service tidies it and names one that is too long)."""

    note: str = ""
