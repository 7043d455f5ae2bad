"""The synthetic case register: the mix, consistency of dates and status, and a bulk load that counts right."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from app.accounts.models import Team
from app.cases.facts import CaseType
from app.cases.models import Case
from app.cases.selectors import age_on
from app.demo.cases import CASE_TYPE_MIX, TEAMS_FOR_TYPE, demo_case_rows, demo_cases_load
from app.demo.generator import DEMO_TEAMS

TODAY = date(2026, 11, 26)
TEAMS = {name: (i + 1, i // 2 + 1) for i, name in enumerate(n for names in DEMO_TEAMS.values() for n in names)}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return list(demo_case_rows(n=5000, today=TODAY, teams=TEAMS, seed=7))


def test_case_type_mix_is_roughly_the_target(rows):
    counts = Counter(r["case_type"] for r in rows)
    for kind, share in CASE_TYPE_MIX.items():
        assert abs(counts[kind.value] / len(rows) - share) < 0.03, kind
    closed = sum(r["status"] == "closed" for r in rows) / len(rows)
    assert 0.07 < closed < 0.13


def test_each_case_is_consistent(rows):
    ids = [r["child_id"] for r in rows]
    assert len(set(ids)) == len(ids) and all(i.startswith("DEMO") and len(i) == 11 for i in ids)
    for r in rows:
        kind = CaseType(r["case_type"])
        assert (r["status"] == "closed") == (r["end_date"] is not None)
        assert r["start_date"] <= (r["end_date"] or TODAY) <= TODAY
        assert r["start_date"] >= date(r["birth_year"], r["birth_month"], 1)
        assert TEAMS_FOR_TYPE[kind] and r["team_id"] in {TEAMS[t][0] for t in TEAMS_FOR_TYPE[kind]}
        age = age_on(r["birth_year"], r["birth_month"], TODAY)
        assert age == r["age_at_extract"]
        if kind == CaseType.CARE_LEAVER:
            assert 18 <= age <= 21
        else:
            assert 0 <= age <= 17
        if r["last_statutory_visit"] is not None:
            assert r["start_date"] <= r["last_statutory_visit"] <= (r["end_date"] or TODAY)
        if r["missing_12m"]:
            assert kind in (CaseType.CLA, CaseType.ADOPTION)
        assert r["source_lists"] == sorted(r["involvements"])


def test_some_visits_are_overdue_and_some_children_went_missing(rows):
    cp = [r for r in rows if r["case_type"] == "cp" and r["status"] == "open" and r["last_statutory_visit"]]
    overdue = sum((TODAY - r["last_statutory_visit"]).days > 14 for r in cp) / len(cp)
    assert 0.05 < overdue < 0.3
    cla = [r for r in rows if r["case_type"] == "cla"]
    assert 0.03 < sum(bool(r["missing_12m"]) for r in cla) / len(cla) < 0.3


def test_same_seed_same_register():
    first = [r["child_id"] for r in demo_case_rows(n=50, today=TODAY, teams=TEAMS, seed=3)]
    again = [r["child_id"] for r in demo_case_rows(n=50, today=TODAY, teams=TEAMS, seed=3)]
    assert first == again


def test_bulk_load_inserts_every_case_into_the_demo_teams(db):
    assert demo_cases_load(db, n=20_000, today=TODAY) == 20_000
    assert db.execute(select(func.count()).select_from(Case)).scalar_one() == 20_000
    teams = {t.id: t for t in db.execute(select(Team)).unique().scalars()}
    assert {t.name for t in teams.values()} == {n for names in DEMO_TEAMS.values() for n in names}
    mismatched = db.execute(
        select(func.count())
        .select_from(Case)
        .join(Team, Team.id == Case.team_id)
        .where(Team.service_area_id != Case.service_area_id)
    ).scalar_one()
    assert mismatched == 0
    assert demo_cases_load(db, n=0, today=TODAY) == 0


# The CLI's own fixtures: an empty database of its own, reached through the environment.
from tests.test_cli import cli_db, ok, upgraded  # noqa: E402,F401


def _cases_in(url: str) -> int:
    from sqlmodel import Session

    from app.db import make_engine

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return session.execute(select(func.count()).select_from(Case)).scalar_one()
    finally:
        engine.dispose()


def test_demo_data_command_loads_300_cases_by_default(upgraded):
    output = ok("demo-data")
    assert "Loaded 300 demo cases and" in output
    assert _cases_in(upgraded) == 300


def test_demo_data_command_takes_the_number_of_cases(upgraded):
    output = ok("demo-data", "--cases", "1234")
    assert "Loaded 1,234 demo cases and" in output
    assert _cases_in(upgraded) == 1234
