"""Allocation to auditors: never a conflict, balanced loads, training enforced, every refusal explained."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from app.sampling.allocation.rules import (
    AuditorInfo,
    CaseInfo,
    check_allocation,
    conflict_reasons,
    propose_allocation,
)

SAFEGUARDING_2 = 2
EXPIRED = "auditor training expired on 3 Mar 2026"


def auditor(
    id: int, name: str = "", *, team_id: int | None = None, trained: bool = True, note: str | None = None, load: int = 0
) -> AuditorInfo:
    return AuditorInfo(id, name or f"Auditor {id}", team_id, trained, note, load)


def case(
    id: int, *, team_id: int | None = 9, team_name: str | None = "Team 9", worker: str = "W", manager: str = "M"
) -> CaseInfo:
    return CaseInfo(id, f"C{id:07d}", team_id, team_name, worker, manager)


def _random_world(rng: random.Random) -> tuple[list[CaseInfo], list[AuditorInfo]]:
    names = ["Jo Smith", "Ali Khan", "Sam Lee", "Pat Doe"]
    spellings = {"Jo Smith": "jo\u00a0 SMITH ", "Ali Khan": "Ali  Khan", "Sam Lee": "Sam Lee", "Pat Doe": "PAT DOE"}
    auditors = [
        auditor(
            i,
            names[i - 1] if i <= len(names) else "",
            team_id=rng.choice([1, 2, 3, None]),
            trained=rng.random() < 0.8,
            note=EXPIRED,
            load=rng.randint(0, 2),
        )
        for i in range(1, rng.randint(1, 7))
    ]
    cases = [
        CaseInfo(
            100 + j,
            f"C{j:07d}",
            team := rng.choice([1, 2, 3]),
            f"Team {team}",
            spellings[rng.choice(names)],
            spellings[rng.choice(names)],
        )
        for j in range(rng.randint(0, 14))
    ]
    return cases, auditors


@pytest.mark.parametrize("world", range(300))
def test_random_worlds_never_get_a_conflicted_auditor_and_stay_as_level_as_conflicts_allow(world: int):
    cases, auditors = _random_world(random.Random(world))
    proposal = propose_allocation(cases, auditors, seed=world)
    by_id = {a.id: a for a in auditors}
    eligible = {c.id: {a.id for a in auditors if not conflict_reasons(a, c)} for c in cases}

    for c in cases:
        assert (c.id in proposal.assignments) != (c.id in proposal.unallocated)
        assert (c.id in proposal.unallocated) == (not eligible[c.id])
    for case_id, auditor_id in proposal.assignments.items():
        assert auditor_id in eligible[case_id]
        # Nobody could take this case from its auditor and leave the loads more even.
        assert all(proposal.loads[auditor_id] <= proposal.loads[other] + 1 for other in eligible[case_id])
    new = Counter(proposal.assignments.values())
    assert proposal.loads == {a.id: a.load + new[a.id] for a in by_id.values()}
    assert check_allocation(proposal.assignments, cases, auditors) == {}


@pytest.mark.parametrize("world", range(150))
def test_loads_are_as_level_as_any_conflict_free_allocation_could_make_them(world: int):
    rng = random.Random(f"level:{world}")
    auditors = [auditor(i, team_id=rng.choice([1, 2, 3]), load=rng.randint(0, 2)) for i in range(1, 5)]
    cases = [case(10 + j, team_id=rng.choice([1, 2, 3])) for j in range(rng.randint(1, 7))]
    proposal = propose_allocation(cases, auditors, seed=world)
    choices = [[a.id for a in auditors if not conflict_reasons(a, c)] or [None] for c in cases]

    def spread(chosen: Counter[int | None]) -> int:  # sum of squared loads: lowest when most level
        return sum((a.load + chosen[a.id]) ** 2 for a in auditors)

    best = min(spread(Counter(pick)) for pick in itertools.product(*choices))
    assert spread(Counter(proposal.assignments.values())) == best


def test_without_conflicts_every_auditor_ends_within_one_audit_of_the_others():
    auditors = [auditor(i) for i in range(1, 8)]
    proposal = propose_allocation([case(i) for i in range(1, 31)], auditors, seed=7)

    assert len(proposal.assignments) == 30
    assert sorted(proposal.loads.values()) == [4, 4, 4, 4, 4, 5, 5]


def test_audits_already_held_in_the_cycle_count_towards_the_balance():
    auditors = [auditor(1, load=4), auditor(2, load=0), auditor(3, load=1)]
    proposal = propose_allocation([case(i) for i in range(1, 6)], auditors, seed=1)

    assert 1 not in proposal.assignments.values()
    assert proposal.loads == {1: 4, 2: 3, 3: 3}


def test_expired_training_blocks_allocation_even_to_the_least_loaded_auditor():
    expired = auditor(1, "Jo Smith", trained=False, note=EXPIRED, load=0)
    current = auditor(2, load=5)
    proposal = propose_allocation([case(10), case(11)], [expired, current], seed=3)

    assert proposal.assignments == {10: 2, 11: 2}
    assert conflict_reasons(expired, case(10)) == [EXPIRED]


def test_a_case_nobody_may_audit_is_explained_with_the_child_and_the_reasons():
    sampled = CaseInfo(123, "C0000123", SAFEGUARDING_2, "Safeguarding Team 2", "Ana Diaz", "Ben Ode")
    auditors = [
        auditor(1, "Kay Lin", team_id=SAFEGUARDING_2),
        auditor(2, "Ana\u00a0Diaz"),
        auditor(3, "Jo Smith", trained=False, note=EXPIRED),
        auditor(4, "Ola Bee", trained=False, note="no auditor training recorded"),
    ]
    other = case(124)
    proposal = propose_allocation([sampled, other], auditors, seed=1)

    assert set(proposal.assignments) == {124}
    assert proposal.unallocated == {
        123: "Child C0000123: every trained auditor is in the case's team (Safeguarding Team 2) "
        "or is the allocated worker; 2 auditors have no current auditor training "
        "(Jo Smith: auditor training expired on 3 Mar 2026; Ola Bee: no auditor training recorded)"
    }


def test_with_no_trained_auditor_the_explanation_says_so():
    proposal = propose_allocation([case(5)], [auditor(1, trained=False, note=EXPIRED)], seed=1)

    assert proposal.unallocated == {5: "Child C0000005: no auditor has current auditor training"}


def test_the_same_seed_gives_the_same_proposal_however_the_inputs_are_listed():
    cases, auditors = [case(i) for i in range(1, 12)], [auditor(i) for i in range(1, 6)]
    first = propose_allocation(cases, auditors, seed=42)

    assert propose_allocation(cases[::-1], auditors[::-1], seed=42) == first
    others = {tuple(propose_allocation(cases, auditors, seed=s).assignments.items()) for s in range(1, 10)}
    assert len(others) > 1, "the seed should decide ties, or one auditor always gets the extra case"


@pytest.mark.parametrize("seed", range(10))
def test_the_most_constrained_case_gets_its_only_eligible_auditor_and_loads_stay_level(seed: int):
    only_one = case(1, team_id=SAFEGUARDING_2, team_name="Safeguarding Team 2")
    auditors = [auditor(1), auditor(2, team_id=SAFEGUARDING_2), auditor(3, team_id=SAFEGUARDING_2)]
    proposal = propose_allocation([only_one, case(2), case(3)], auditors, seed=seed)

    assert proposal.assignments[1] == 1
    assert proposal.loads == {1: 1, 2: 1, 3: 1}


def test_names_match_whatever_their_case_and_spacing():
    sampled = case(
        1, worker="jo\u00a0 SMITH ", manager="Ali  Khan", team_id=SAFEGUARDING_2, team_name="Safeguarding Team 2"
    )

    assert conflict_reasons(auditor(1, "Jo Smith"), sampled) == ["is the allocated worker"]
    assert conflict_reasons(auditor(2, "ali khan", team_id=SAFEGUARDING_2, trained=False, note=EXPIRED), sampled) == [
        EXPIRED,
        "is the team manager",
        "is in the case's team (Safeguarding Team 2)",
    ]
    assert conflict_reasons(auditor(3, "Jo Smithson"), sampled) == []


def test_an_edit_to_a_conflicted_auditor_is_caught_naming_the_child_and_the_auditor():
    cases = [case(1, worker="Jo Smith"), case(2)]
    auditors = [auditor(1, "Jo Smith"), auditor(2, "Ali Khan", trained=False, note=EXPIRED), auditor(3)]
    proposal = propose_allocation(cases, auditors, seed=1)
    assert check_allocation(proposal.assignments, cases, auditors) == {}

    edited = {**proposal.assignments, 1: 1, 2: 2}
    assert check_allocation(edited, cases, auditors) == {
        1: "Child C0000001: Jo Smith cannot audit this case (is the allocated worker)",
        2: f"Child C0000002: Ali Khan cannot audit this case ({EXPIRED})",
    }
    assert check_allocation({1: 99, 7: 3}, cases, auditors) == {
        1: "Child C0000001: auditor #99 is not in the auditor pool",
        7: "Case #7 is not in this sample",
    }


def test_a_case_linked_to_accounts_knows_its_worker_and_manager_by_identity_not_by_name():
    linked = CaseInfo(1, "C0000001", 9, "Team 9", "Sam Worker", "Mo Manager", worker_user_id=7, manager_user_id=8)
    # The linked worker's account, whatever its display name, may not audit the case; nor the linked manager's.
    assert "is the allocated worker" in conflict_reasons(auditor(7, "Samantha Worker-Jones"), linked)
    assert "is the team manager" in conflict_reasons(auditor(8, "M. Manager"), linked)
    # A namesake of a linked worker or manager is another person.
    assert conflict_reasons(auditor(3, "Sam Worker"), linked) == []
    assert conflict_reasons(auditor(4, "Mo Manager"), linked) == []
    # A worker the register has not linked to an account is still recognised by name.
    assert conflict_reasons(auditor(3, "sam  WORKER"), case(2, worker="Sam Worker")) == ["is the allocated worker"]
