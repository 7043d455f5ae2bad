"""A synthetic case register for demonstrations and scale tests: plausible, consistent, and fast to load.

Case types follow a typical council's mix; each goes to a team of the service area that works
it; ages suit the case type; dates keep to the timescales in DOMAIN.md, with a share overdue
(statutory visits, health checks) and some missing episodes for children looked after, so
compliance filters have something to find. No real person or child is represented.

Rows are built as plain dicts and written with Core bulk inserts in chunks, so a million cases
load in minutes and memory stays flat.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from app import clock
from app.accounts import selectors as account_selectors
from app.accounts import service as account_service
from app.accounts.roles import Role
from app.accounts.schemas import TeamCreate
from app.cases.facts import CaseType
from app.cases.models import Case
from app.cases.people import links_from_names
from app.db import bulk_insert, refresh_statistics
from app.demo.generator import DEMO_TEAMS, DEMO_USERS

CHUNK_SIZE = 5_000
CHILD_ID_PREFIX = "DEMO"

CASE_TYPE_MIX: dict[CaseType, float] = {
    CaseType.CIN: 0.35,
    CaseType.CP: 0.15,
    CaseType.CLA: 0.20,
    CaseType.ASSESSMENT: 0.10,
    CaseType.REFERRAL: 0.08,
    CaseType.EARLY_HELP: 0.08,
    CaseType.CARE_LEAVER: 0.03,
    CaseType.ADOPTION: 0.01,
}
CLOSED_SHARE = 0.10

# Which of the demo teams works each kind of case.
TEAMS_FOR_TYPE: dict[CaseType, tuple[str, ...]] = {
    CaseType.REFERRAL: ("MASH",),
    CaseType.ASSESSMENT: ("Assessment Team 1",),
    CaseType.EARLY_HELP: ("Early Help North", "Early Help South"),
    CaseType.CIN: ("Safeguarding Team 1", "Safeguarding Team 2"),
    CaseType.CP: ("Safeguarding Team 1", "Safeguarding Team 2"),
    CaseType.CLA: ("Children in Care Team",),
    CaseType.ADOPTION: ("Children in Care Team",),
    CaseType.CARE_LEAVER: ("Leaving Care Team",),
}
# The Annex A list each kind of case is reported in.
LIST_FOR_TYPE: dict[CaseType, str] = {
    CaseType.EARLY_HELP: "List 2",
    CaseType.REFERRAL: "List 3",
    CaseType.ASSESSMENT: "List 4",
    CaseType.CIN: "List 6",
    CaseType.CP: "List 7",
    CaseType.CLA: "List 8",
    CaseType.CARE_LEAVER: "List 9",
    CaseType.ADOPTION: "List 10",
}
AGES: dict[CaseType, tuple[int, int]] = {
    CaseType.EARLY_HELP: (0, 17),
    CaseType.REFERRAL: (0, 17),
    CaseType.ASSESSMENT: (0, 17),
    CaseType.CIN: (0, 17),
    CaseType.CP: (0, 15),
    CaseType.CLA: (0, 17),
    CaseType.CARE_LEAVER: (18, 21),
    CaseType.ADOPTION: (0, 4),
}
# How long ago an open case of each kind typically started (days, at most).
MAX_OPEN_DAYS: dict[CaseType, int] = {
    CaseType.EARLY_HELP: 365,
    CaseType.REFERRAL: 10,
    CaseType.ASSESSMENT: 60,
    CaseType.CIN: 730,
    CaseType.CP: 540,
    CaseType.CLA: 2500,
    CaseType.CARE_LEAVER: 1400,
    CaseType.ADOPTION: 700,
}
# Statutory visit standard (days) and the share of cases overdue against it.
VISIT_STANDARD: dict[CaseType, tuple[int, float]] = {
    CaseType.CP: (14, 0.15),  # 10 working days
    CaseType.CLA: (42, 0.12),  # 6 weeks
    CaseType.CIN: (42, 0.15),
    CaseType.CARE_LEAVER: (56, 0.10),
    CaseType.ADOPTION: (42, 0.10),
}

FIRST_NAMES = (
    "Alex",
    "Bea",
    "Callum",
    "Dana",
    "Eilidh",
    "Femi",
    "Grace",
    "Hamza",
    "Isla",
    "Jonah",
    "Kiran",
    "Lena",
    "Marcus",
    "Nadia",
    "Owen",
    "Petra",
    "Rhys",
    "Sofia",
    "Tariq",
    "Una",
    "Wes",
    "Yasmin",
)
SURNAMES = (
    "Ahmed",
    "Baker",
    "Clarke",
    "Da Silva",
    "Evans",
    "Fischer",
    "Green",
    "Hussain",
    "Ibrahim",
    "Jones",
    "Kaur",
    "Lewis",
    "Mensah",
    "Nowak",
    "O'Brien",
    "Price",
    "Quinn",
    "Roberts",
    "Singh",
    "Taylor",
)
GENDERS = (("Male", 0.49), ("Female", 0.49), ("Unknown", 0.02))
ETHNICITIES = (
    ("WBRI", 0.70),
    ("WOTH", 0.06),
    ("MWBC", 0.04),
    ("MOTH", 0.03),
    ("AIND", 0.03),
    ("APKN", 0.03),
    ("BAFR", 0.04),
    ("BCRB", 0.02),
    ("CHNE", 0.01),
    ("OOTH", 0.02),
    ("NOBT", 0.02),
)
LEGAL_STATUSES = (("C2", 0.55), ("V2", 0.20), ("E1", 0.10), ("J2", 0.05), ("C1", 0.10))
NEEDS = (
    ("N1", 0.55),
    ("N2", 0.05),
    ("N3", 0.06),
    ("N4", 0.15),
    ("N5", 0.04),
    ("N6", 0.03),
    ("N7", 0.02),
    ("N8", 0.06),
    ("N9", 0.04),
)
ABUSE = (
    ("Neglect", 0.45),
    ("Emotional abuse", 0.35),
    ("Physical abuse", 0.08),
    ("Sexual abuse", 0.04),
    ("Multiple", 0.08),
)
PERMANENCE = (
    ("Return to family", 0.2),
    ("Long-term fostering", 0.4),
    ("Adoption", 0.1),
    ("Special guardianship order", 0.15),
    ("Independent living", 0.15),
)


def _weighted(rng: random.Random, pairs: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([value for value, _ in pairs], weights=[weight for _, weight in pairs])[0]


def _team_ids(session: Session) -> dict[str, tuple[int, int]]:
    """(team id, service area id) for each demo team, creating any that are missing."""
    found: dict[str, tuple[int, int]] = {}
    for area, names in DEMO_TEAMS.items():
        for name in names:
            team = account_selectors.team_by_name(session, name=name)
            if team is None:
                team = account_service.team_create(session, data=TeamCreate(name=name, service_area=area), actor=None)
            found[name] = (team.id, team.service_area_id)
    return found


def _workers(rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """A handful of (worker, manager) names per team; the demo practitioners work their own team's cases."""
    workers: dict[str, list[tuple[str, str]]] = {}
    for names in DEMO_TEAMS.values():
        for team in names:
            manager = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
            staff = [u.full_name for u in DEMO_USERS if u.team == team and Role.PRACTITIONER in u.roles]
            while len(staff) < 6:
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
                if name not in staff:
                    staff.append(name)
            workers[team] = [(name, manager) for name in staff]
    return workers


def _days_ago(today: date, days: int) -> date:
    return today - timedelta(days=days)


def demo_case_rows(
    *, n: int, today: date, teams: dict[str, tuple[int, int]], seed: int = 2026
) -> Iterator[dict[str, Any]]:
    """`n` synthetic cases as dicts of Case columns; the same seed gives the same register."""
    rng = random.Random(seed)
    workers = _workers(rng)
    types = list(CASE_TYPE_MIX)
    weights = [CASE_TYPE_MIX[t] for t in types]
    now = clock.now()
    numbers = rng.sample(range(10**7), n)
    for number in numbers:
        kind = rng.choices(types, weights)[0]
        team_name = rng.choice(TEAMS_FOR_TYPE[kind])
        team_id, area_id = teams[team_name]
        worker, manager = rng.choice(workers[team_name])
        low, high = AGES[kind]
        age = rng.randint(low, high)
        birth_month = rng.randint(1, 12)
        birth_year = today.year - age - (1 if birth_month > today.month else 0)
        born = date(birth_year, birth_month, 1)
        closed = rng.random() < CLOSED_SHARE
        start = max(
            born, _days_ago(today, rng.randint(0, MAX_OPEN_DAYS[kind]) + (rng.randint(30, 400) if closed else 0))
        )
        end = min(today, start + timedelta(days=rng.randint(7, 400))) if closed else None
        as_of = end or today  # facts stop at the end of a closed case
        row: dict[str, Any] = {
            "child_id": f"{CHILD_ID_PREFIX}{number:07d}",
            "source": "demo",
            "case_type": kind.value,
            "birth_year": birth_year,
            "birth_month": birth_month,
            "age_at_extract": age,
            "gender": _weighted(rng, GENDERS),
            "ethnicity": _weighted(rng, ETHNICITIES),
            "disability": rng.random() < 0.1,
            "service_area_id": area_id,
            "team_id": team_id,
            "worker_name": worker,
            "manager_name": manager,
            "status": "closed" if closed else "open",
            "start_date": start,
            "end_date": end,
            "legal_status": None,
            "primary_need": None,
            "category_of_abuse": None,
            "referral_date": None,
            "assessment_start": None,
            "assessment_authorised": None,
            "child_seen": None,
            "seen_alone": None,
            "last_seen_date": None,
            "last_statutory_visit": None,
            "latest_review": None,
            "last_iro_contact": None,
            "last_health_check": None,
            "last_dental_check": None,
            "permanence_plan": None,
            "placements_12m": None,
            "missing_12m": None,
            "absent_12m": None,
            "return_interview_offered": None,
            "return_interview_accepted": None,
        }
        lists = {LIST_FOR_TYPE[kind]: {"start": start.isoformat(), "end": end.isoformat() if end else None}}
        if kind in (CaseType.REFERRAL, CaseType.ASSESSMENT, CaseType.CIN, CaseType.CP):
            referral = max(born, start - timedelta(days=rng.randint(0, 10)))
            row["referral_date"] = referral
            row["primary_need"] = _weighted(rng, NEEDS)
            if kind != CaseType.REFERRAL:
                row["assessment_start"] = min(as_of, referral + timedelta(days=rng.randint(0, 2)))
                authorised = row["assessment_start"] + timedelta(days=rng.randint(10, 70))
                row["assessment_authorised"] = authorised if authorised <= as_of else None
                row["child_seen"] = rng.random() < 0.95
                row["seen_alone"] = bool(row["child_seen"]) and rng.random() < 0.7
        if kind == CaseType.EARLY_HELP and number % 2 == 0:
            # Stepped down: a referral closed with no further action, then early help (no draw from `rng`, so
            # the rest of the register is the same as before this was added).
            referral = max(born, start - timedelta(days=number % 15 + 1))
            row["referral_date"] = referral
            lists["List 3"] = {"start": referral.isoformat(), "end": referral.isoformat()}
        if kind in VISIT_STANDARD:
            standard, overdue = VISIT_STANDARD[kind]
            gap = rng.randint(standard + 1, standard * 4) if rng.random() < overdue else rng.randint(0, standard)
            visit = _days_ago(as_of, gap)
            row["last_statutory_visit"] = visit if visit >= start else (start if rng.random() < 0.9 else None)
            row["last_seen_date"] = row["last_statutory_visit"]
        if kind == CaseType.CP:
            row["category_of_abuse"] = _weighted(rng, ABUSE)
            row["latest_review"] = max(start, _days_ago(as_of, rng.randint(0, 200)))
            if rng.random() < 0.4:
                lists["List 6"] = {
                    "start": row["referral_date"].isoformat(),
                    "end": None if not end else end.isoformat(),
                }
        if kind in (CaseType.CLA, CaseType.ADOPTION):
            row["legal_status"] = _weighted(rng, LEGAL_STATUSES) if kind == CaseType.CLA else "E1"
            row["primary_need"] = _weighted(rng, NEEDS)
            row["latest_review"] = max(start, _days_ago(as_of, rng.randint(0, 200)))
            row["last_iro_contact"] = max(start, _days_ago(as_of, rng.randint(0, 150)))
            check_gap = 183 if age < 5 else 365
            row["last_health_check"] = max(
                start, _days_ago(as_of, rng.randint(0, check_gap if rng.random() < 0.88 else check_gap * 2))
            )
            row["last_dental_check"] = max(start, _days_ago(as_of, rng.randint(0, 365 if rng.random() < 0.85 else 700)))
            row["permanence_plan"] = "Adoption" if kind == CaseType.ADOPTION else _weighted(rng, PERMANENCE)
            row["placements_12m"] = rng.choices((1, 2, 3, 4), (70, 20, 7, 3))[0]
            missing = rng.choices((0, 1, 2, 3, 5, 8), (80, 8, 5, 3, 2, 2))[0] if age >= 10 else 0
            row["missing_12m"] = missing
            row["absent_12m"] = rng.choices((0, 1, 2, 4), (88, 6, 4, 2))[0] if age >= 10 else 0
            if missing:
                row["return_interview_offered"] = rng.random() < 0.85
                row["return_interview_accepted"] = bool(row["return_interview_offered"]) and rng.random() < 0.6
        if kind == CaseType.CARE_LEAVER:
            row["last_health_check"] = _days_ago(as_of, rng.randint(0, 500))
            row["permanence_plan"] = "Pathway plan"
        row["source_lists"] = sorted(lists)
        row["involvements"] = dict(sorted(lists.items()))
        row["facts_hash"] = hashlib.blake2b(repr(sorted(row.items())).encode(), digest_size=32).hexdigest()
        row.update(created_at=now, updated_at=now, version=1, last_import_id=None)
        yield row


def demo_cases_load(session: Session, *, n: int, today: date, seed: int = 2026) -> int:
    """Insert `n` synthetic cases into an empty register (child IDs are DEMO + 7 digits). The caller commits."""
    if n <= 0:
        return 0
    if n > 10**7:
        raise ValueError("at most 10,000,000 demo cases (child IDs have 7 digits)")
    teams = _team_ids(session)
    session.flush()
    chunk: list[dict[str, Any]] = []
    loaded = 0
    for row in demo_case_rows(n=n, today=today, teams=teams, seed=seed):
        chunk.append(row)
        if len(chunk) >= CHUNK_SIZE:
            bulk_insert(session.connection(), Case.__table__, chunk)
            loaded += len(chunk)
            chunk = []
    if chunk:
        bulk_insert(session.connection(), Case.__table__, chunk)
        loaded += len(chunk)
    refresh_statistics(session.connection(), Case.__table__)
    links_from_names(session)  # each demo worker mapped to the one practitioner of that name in their team
    return loaded
