"""The audit's states and the moves between them: one table, used by the service, the pages and the API.

    allocated -> in_progress -> submitted -> in_moderation -> completed
                      ^                          |
                      +------ returned <---------+
    submitted -> completed          (not selected for moderation)
    submitted | completed -> in_moderation   (selected on submission, or added by the QA lead)

Any other move is refused (409 in the API, a message on the page), naming both states.
"""

from __future__ import annotations

from app.errors import Conflict

ALLOCATED, IN_PROGRESS, SUBMITTED = "allocated", "in_progress", "submitted"
IN_MODERATION, RETURNED, COMPLETED = "in_moderation", "returned", "completed"

STATES = (ALLOCATED, IN_PROGRESS, SUBMITTED, IN_MODERATION, RETURNED, COMPLETED)

# (from, to) -> what the move is called in the audit trail ("audit.<name>")
MOVES: dict[tuple[str, str], str] = {
    (ALLOCATED, IN_PROGRESS): "begin",
    (IN_PROGRESS, SUBMITTED): "submit",
    (SUBMITTED, IN_MODERATION): "moderate",
    (SUBMITTED, COMPLETED): "complete",
    (COMPLETED, IN_MODERATION): "moderate",
    (IN_MODERATION, COMPLETED): "accept",
    (IN_MODERATION, RETURNED): "return",
    (RETURNED, IN_PROGRESS): "rework",
}

# The auditor may change answers in these states (a returned audit goes back to in progress on the first save).
EDITABLE = (ALLOCATED, IN_PROGRESS, RETURNED)

LABELS = {
    ALLOCATED: "not started",
    IN_PROGRESS: "in progress",
    SUBMITTED: "submitted",
    IN_MODERATION: "in moderation",
    RETURNED: "returned to the auditor",
    COMPLETED: "completed",
}


def can_move(current: str, to: str) -> bool:
    return (current, to) in MOVES


def check_move(current: str, to: str) -> str:
    """The move's name, or a Conflict saying why an audit in `current` cannot become `to`."""
    name = MOVES.get((current, to))
    if name is None:
        raise Conflict(f"An audit that is {LABELS.get(current, current)} cannot become {LABELS.get(to, to)}.")
    return name
