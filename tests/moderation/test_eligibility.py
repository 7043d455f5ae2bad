"""Who may moderate (pure): training, the auditor, the case's team and people, and balanced allocation."""

from __future__ import annotations

from app.moderation.eligibility import (
    AuditParties,
    ModeratorInfo,
    choose_moderator,
    eligible,
    ineligibility_reasons,
    why_nobody,
)

PARTIES = AuditParties(
    audit_id=10,
    auditor_id=1,
    case_team_id=5,
    case_team_name="North Team",
    worker_name="Sam  Social\u00a0Worker",
    manager_name="Tess Manager",
)


def mod(id: int, name: str = "", **fields) -> ModeratorInfo:
    return ModeratorInfo(id=id, name=name or f"Moderator {id}", team_id=fields.pop("team_id", 9), **fields)


def test_a_trained_moderator_outside_the_case_is_eligible():
    assert ineligibility_reasons(mod(2), PARTIES) == []


def test_conflicts_and_missing_training_are_refused_with_reasons():
    assert ineligibility_reasons(mod(1), PARTIES) == ["is the auditor"]
    assert ineligibility_reasons(mod(2, team_id=5), PARTIES) == ["works in the case's team (North Team)"]
    # Names are compared ignoring case, repeated and non-breaking spaces, as allocation does.
    assert ineligibility_reasons(mod(3, "sam social worker"), PARTIES) == ["is the case's allocated worker"]
    assert ineligibility_reasons(mod(4, "TESS MANAGER"), PARTIES) == ["is the case's team manager"]
    expired = mod(5, training_current=False, training_note="moderator training expired on 3 Mar 2026")
    assert ineligibility_reasons(expired, PARTIES) == ["moderator training expired on 3 Mar 2026"]
    assert not eligible(mod(6, active=False), PARTIES)
    assert not eligible(mod(7, is_moderator=False), PARTIES)


def test_allocation_goes_to_the_eligible_moderator_with_fewest_open_rounds():
    pool = [mod(1, open_rounds=0), mod(2, open_rounds=3), mod(3, open_rounds=1), mod(4, team_id=5, open_rounds=0)]
    # 1 is the auditor and 4 is in the case's team, despite holding nothing.
    assert choose_moderator(pool, PARTIES, round=1).id == 3


def test_ties_are_broken_reproducibly_and_spread_over_audits():
    pool = [mod(i) for i in range(2, 8)]
    first = choose_moderator(pool, PARTIES, round=1)
    assert choose_moderator(list(reversed(pool)), PARTIES, round=1) == first  # order of the pool does not matter
    chosen = {
        choose_moderator(pool, AuditParties(audit_id=a, auditor_id=1, case_team_id=5), round=1).id for a in range(1, 40)
    }
    assert len(chosen) > 2  # ties do not always land on the same person


def test_a_preferred_moderator_is_kept_only_while_eligible():
    pool = [mod(2, open_rounds=5), mod(3)]
    assert choose_moderator(pool, PARTIES, round=2, prefer_id=2).id == 2
    lapsed = [mod(2, training_current=False), mod(3)]
    assert choose_moderator(lapsed, PARTIES, round=2, prefer_id=2).id == 3


def test_nobody_eligible_gives_none_and_each_candidates_reason():
    pool = [
        mod(1, "Asha Auditor"),
        mod(2, "Nia North", team_id=5),
        mod(3, "Old Hand", training_current=False, training_note="moderator training expired on 1 Jan 2026"),
    ]
    assert choose_moderator(pool, PARTIES, round=1) is None
    assert why_nobody(pool, PARTIES) == [
        ("Asha Auditor", ["is the auditor"]),
        ("Nia North", ["works in the case's team (North Team)"]),
        ("Old Hand", ["moderator training expired on 1 Jan 2026"]),
    ]
