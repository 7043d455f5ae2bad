"""Which submitted audits go to moderation, and why: pure, reproducible rules with no session.

Reasons, checked in this order (the first that applies is recorded):
- `inadequate`: the auditor's overall grade is Inadequate (always moderated);
- `safeguarding`: the audit raised a safeguarding escalation (always moderated);
- `grade_flags`: the overall grade is better than its section grades allow (the flags "Check your answers" shows:
  `app.audit_templates.scoring.overall_grade_flags`), so the audit may be optimistic (always moderated);
- `random`: the audit's draw is below the cycle's moderation rate. The draw is a number in [0, 1) taken from
  SHA-256 of "{cycle_id}:{audit_id}:{round}", so anyone can recompute it and the same audit, cycle and round
  always give the same answer; audits outside a cycle have rate 0;
- `resubmitted`: an audit returned by a moderator always goes back to moderation when resubmitted.
The QA lead can also add any submitted or completed audit (`added`); that is a decision, not a rule here.

The rate the draw is compared with is the cycle's, raised for an auditor whose grades are not yet known to be
reliable (`effective_rate`): one with fewer than a set number of moderated audits, or whose agreement with moderators
is low even at the top of its 95% interval. The rate used is recorded with the round, and why it was raised.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from app.audit_templates.schema import Grade

INADEQUATE, SAFEGUARDING, RANDOM, RESUBMITTED, ADDED = "inadequate", "safeguarding", "random", "resubmitted", "added"
GRADE_FLAGS = "grade_flags"

REASON_LABELS = {
    INADEQUATE: "Graded Inadequate",
    SAFEGUARDING: "Safeguarding escalation",
    GRADE_FLAGS: "Overall grade better than its sections",
    RANDOM: "Random selection",
    RESUBMITTED: "Resubmitted after being returned",
    ADDED: "Added by the QA lead",
}

_SCALE = float(2**64)


def selection_draw(cycle_id: int | None, audit_id: int, round: int) -> float:
    """The audit's reproducible draw in [0, 1): the first 8 bytes of SHA-256 of "cycle:audit:round"."""
    digest = hashlib.sha256(f"{cycle_id}:{audit_id}:{round}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


@dataclass(frozen=True)
class Rate:
    """The rate a random selection is compared with, and why it is above the cycle's (None: it is the cycle's)."""

    rate: float
    raised_because: str | None = None


def _clamp(rate: float) -> float:
    return min(1.0, max(0.0, rate))


def effective_rate(
    cycle_rate: float,
    moderated_count: int,
    kappa_upper: float | None,
    *,
    new_auditor_audits: int,
    raised_rate: float,
    low_kappa: float,
) -> Rate:
    """The cycle's rate, or `raised_rate` when that is higher and the auditor has fewer than `new_auditor_audits`
    moderated audits, or their agreement with moderators has an upper 95% bound (`kappa_upper`; None when it cannot
    be worked out) below `low_kappa`."""
    rate, raised = _clamp(cycle_rate), _clamp(raised_rate)
    if moderated_count < new_auditor_audits:
        why = f"fewer than {new_auditor_audits} moderated audit{'' if new_auditor_audits == 1 else 's'}"
    elif kappa_upper is not None and kappa_upper < low_kappa:
        why = f"low agreement with moderators (upper 95% bound of kappa {kappa_upper:.2f}, below {low_kappa:.2f})"
    else:
        return Rate(rate)
    return Rate(raised, why) if raised > rate else Rate(rate)


@dataclass(frozen=True)
class Selection:
    """The outcome for one submitted audit: the reason it is moderated (None: it is not), and the draw."""

    reason: str | None
    draw: float
    rate: float

    @property
    def selected(self) -> bool:
        return self.reason is not None


def select_for_moderation(
    *,
    auditor_overall: str | None,
    has_escalation: bool,
    was_returned: bool,
    draw: float,
    rate: float,
    grade_flagged: bool = False,
) -> Selection:
    """Whether a submitted audit is moderated, and the first reason that applies (see the module docstring)."""
    rate = _clamp(rate)
    if auditor_overall == Grade.INADEQUATE.value:
        reason: str | None = INADEQUATE
    elif has_escalation:
        reason = SAFEGUARDING
    elif grade_flagged:
        reason = GRADE_FLAGS
    elif draw < rate:
        reason = RANDOM
    elif was_returned:
        reason = RESUBMITTED
    else:
        reason = None
    return Selection(reason=reason, draw=draw, rate=rate)
