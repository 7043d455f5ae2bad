"""The head of service dashboard's figures beside hand-written aggregate SQL for the same figures.

For each database: build the schema with the migrations, load BENCH_DASHBOARD_ROWS recommendations (default
1,000,000) across 10 service areas of 5 teams each (a tenth in the viewer's area), raised over the last three
years, with the older ones mostly closed (so about a sixth are outstanding), priorities, due dates, owners, and
one or two learning themes on four in ten; then time

- the app: `dashboard_figures` for the viewer's area (outstanding by team and status, the ageing buckets, the
  ten oldest overdue and the ten longest awaiting verification with names and escalation levels, raised and
  closed in the last 3 and 12 months, the median days to close), a new session per run;
- the baseline: the same figures as plain SQL text run through the driver (one grouped query for outstanding
  by team, status and bucket joined to the team names, the two short lists joined to the owner and team, one
  pass for raised and closed in both windows, one grouped query for the days-to-close histogram);

each the median of BENCH_DASHBOARD_RUNS runs (default 7) after a warm-up, the two taken in turns so that whatever
else the machine is doing weighs on both alike. Both must give the same figures; the baseline's query plans are
printed. The load drops the table's indexes (and on PostgreSQL its foreign keys) and makes them again after, as a
restore does; on PostgreSQL it is followed by `VACUUM ANALYZE`, as autovacuum would do soon after a bulk load.

Aim (issue 7): under 200 ms and within 2x of the baseline, at 1,000,000 recommendations.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from common import (
    Database,
    bench_settings,
    env_int,
    prepare_schema,
    run_on_each_database,
    say,
    table,
    timed,
)
from sqlalchemy import select
from sqlalchemy.schema import AddConstraint, DropConstraint
from sqlmodel import Session

from app.accounts import service as account_service
from app.accounts.models import Team, User
from app.accounts.schemas import TeamCreate
from app.db import bulk_insert, make_engine
from app.recommendations import rules
from app.recommendations.dashboard.service import Dashboard, dashboard_figures, window_start
from app.recommendations.models import Recommendation, RecommendationTheme, Theme
from app.recommendations.selectors import ListFilter
from app.recommendations.service import thresholds as thresholds_for

ROWS = env_int("BENCH_DASHBOARD_ROWS", 1_000_000)
RUNS = env_int("BENCH_DASHBOARD_RUNS", 7)
AREAS, TEAMS_PER_AREA, OWNERS_PER_TEAM, AUDITORS = 10, 5, 4, 20
CHUNK = 50_000
AIM_MS, AIM_RATIO = 200.0, 2.0


# --- Loading ---------------------------------------------------------------------------------------


def _people(session: Session) -> tuple[list[tuple[int, int, list[int]]], list[int], list[int]]:
    """Teams as (team id, area id, owner ids), auditor ids and theme ids. The caller commits."""
    teams = [
        account_service.team_create(
            session, data=TeamCreate(name=f"Area {a} Team {t}", service_area=f"Area {a}"), actor=None
        )
        for a in range(1, AREAS + 1)
        for t in range(1, TEAMS_PER_AREA + 1)
    ]
    now = datetime.now(UTC)

    def user(username: str, team: Team | None) -> dict[str, Any]:
        return {
            "username": username,
            "full_name": username.replace(".", " ").title(),
            "password_hash": "-",
            "team_id": team.id if team else None,
            "active": True,
            "version": 1,
            "created_at": now,
        }

    users = [user(f"owner.{team.id}.{n}", team) for team in teams for n in range(OWNERS_PER_TEAM)]
    users += [user(f"auditor.{n}", None) for n in range(AUDITORS)]
    bulk_insert(session.connection(), User.__table__, users)
    ids = dict(session.execute(select(User.username, User.id)).all())
    shaped = [
        (team.id, team.service_area_id, [ids[f"owner.{team.id}.{n}"] for n in range(OWNERS_PER_TEAM)]) for team in teams
    ]
    auditors = [ids[f"auditor.{n}"] for n in range(AUDITORS)]
    themes = list(session.execute(select(Theme.id)).scalars())
    return shaped, auditors, themes


def _recommendations(
    rng: random.Random, teams: list[tuple[int, int, list[int]]], auditors: list[int], themes: list[int], today: date
) -> Iterator[tuple[dict[str, Any], list[int]]]:
    """ROWS recommendations, areas taking turns (a tenth each), with their theme ids."""
    noon = datetime.combine(today, time(12), tzinfo=UTC)
    by_area: dict[int, list[tuple[int, list[int]]]] = {}
    for team_id, area_id, owners in teams:
        by_area.setdefault(area_id, []).append((team_id, owners))
    areas = sorted(by_area)
    due_days = {"urgent": 7, "high": 28, "normal": 56}
    draw = rng.random
    for n in range(ROWS):
        area = areas[n % len(areas)]
        team_id, owners = rng.choice(by_area[area])
        chance = draw()
        priority = "urgent" if chance < 0.15 else "high" if chance < 0.5 else "normal"
        age = int(draw() * 3 * 365)
        raised_at = noon - timedelta(days=age, minutes=int(draw() * 600))
        due = raised_at.date() + timedelta(days=due_days[priority] + rng.choice((0, 0, 0, 14, 28)))
        row: dict[str, Any] = {
            "id": n + 1,
            "text": f"Recommendation {n + 1}",
            "owner_id": rng.choice(owners),
            "team_id": team_id,
            "service_area_id": area,
            "priority": priority,
            "due_date": due,
            "raised_by_id": rng.choice(auditors),
            "raised_at": raised_at,
            "evidence": "",
            "completed_at": None,
            "closed_at": None,
            "days_to_close": None,
            "status": rules.CLOSED,
            "version": 1,
        }
        if draw() < 1 - math.exp(-age / 180):  # the older, the likelier closed (about five in six overall)
            took = 1 + int(draw() * max(1, min(age, 240)))
            row.update(
                closed_at=raised_at + timedelta(days=took),
                days_to_close=took,
                completed_at=raised_at + timedelta(days=max(0, took - 3)),
                evidence="Done",
            )
        else:
            chance = draw()
            row["status"] = rules.OPEN if chance < 0.4 else rules.IN_PROGRESS if chance < 0.8 else rules.COMPLETED
            if row["status"] == rules.COMPLETED:
                row.update(completed_at=raised_at + timedelta(days=int(draw() * (age + 1))), evidence="Done")
        tagged = rng.sample(themes, 1 if draw() < 0.5 else 2) if draw() < 0.4 else []
        yield row, tagged


def _load(database: Database, today: date) -> int:
    """Load the rows; the viewer's service area id. As a restore does, the table's indexes (and on PostgreSQL its
    foreign keys) are dropped for the load and made again afterwards, far quicker than keeping them up to date row
    by row; the schema ends as the migrations made it."""
    engine = make_engine(bench_settings(database.url).database_url)
    indexes = list(Recommendation.__table__.indexes)
    keys = (
        [
            fk
            for table in (Recommendation.__table__, RecommendationTheme.__table__)
            for fk in table.foreign_key_constraints
        ]
        if database.name == "postgresql"
        else []
    )
    try:
        with Session(engine) as session:
            teams, auditors, themes = _people(session)
            session.commit()
            rng = random.Random(2026)

            def load() -> None:
                connection = session.connection()
                if database.name == "sqlite":  # room to sort while the indexes are built: a faster load only
                    connection.exec_driver_sql("PRAGMA cache_size = -500000")
                for index in indexes:
                    index.drop(connection)
                for key in keys:
                    connection.execute(DropConstraint(key))
                rows, links = [], []
                for row, tagged in _recommendations(rng, teams, auditors, themes, today):
                    rows.append(row)
                    links += [{"recommendation_id": row["id"], "theme_id": t} for t in tagged]
                    if len(rows) == CHUNK:
                        bulk_insert(connection, Recommendation.__table__, rows)
                        bulk_insert(connection, RecommendationTheme.__table__, links)
                        rows, links = [], []
                bulk_insert(connection, Recommendation.__table__, rows)
                bulk_insert(connection, RecommendationTheme.__table__, links)
                for index in indexes:
                    index.create(connection)
                for key in keys:
                    connection.execute(AddConstraint(key))
                session.commit()

            seconds, _ = timed(load)
        say(f"  loaded {ROWS:,} recommendations in {seconds:.1f} s ({ROWS / seconds:,.0f} rows/s)")
        if database.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql(
                    "SELECT setval('recommendation_id_seq', (SELECT max(id) FROM recommendation))"
                )
                connection.exec_driver_sql("VACUUM ANALYZE recommendation")
                connection.exec_driver_sql("VACUUM ANALYZE recommendation_theme_link")
        return teams[0][1]
    finally:
        engine.dispose()


# --- The baseline ----------------------------------------------------------------------------------


def _baseline_sql(database: Database, area: int, today: date, zone: str) -> dict[str, str]:
    """The dashboard's figures for one area as plain SQL (trusted values written in)."""

    def day(d: date) -> str:
        return f"'{d.isoformat()}'"

    def moment(dt: datetime) -> str:
        utc = dt.astimezone(UTC)
        return f"'{utc:%Y-%m-%d %H:%M:%S.%f}'" if database.name == "sqlite" else f"'{utc.isoformat()}'"

    ago = {n: day(today - timedelta(days=n)) for n in (30, 60, 90)}
    outstanding = f"r.service_area_id = {area} AND r.status IN ('open', 'in_progress', 'completed')"
    s3, s12 = (moment(window_start(today, m, zone)) for m in rules.WINDOWS)
    short_list = (
        "SELECT r.id, r.priority, r.due_date, r.completed_at, u.full_name, t.name FROM recommendation r"
        " JOIN app_user u ON u.id = r.owner_id LEFT JOIN team t ON t.id = r.team_id"
    )
    return {
        "by team, status and bucket": f"SELECT r.team_id, t.name, r.status, CASE WHEN r.due_date >= {day(today)} THEN 'not_due'"
        f" WHEN r.due_date >= {ago[30]} THEN '0-30' WHEN r.due_date >= {ago[60]} THEN '31-60'"
        f" WHEN r.due_date >= {ago[90]} THEN '61-90' ELSE '90+' END AS bucket, count(*)"
        f" FROM recommendation r LEFT JOIN team t ON t.id = r.team_id WHERE {outstanding}"
        " GROUP BY r.team_id, t.name, r.status, bucket",
        "oldest overdue": f"{short_list} WHERE {outstanding} AND r.due_date < {day(today)}"
        " ORDER BY r.due_date, r.id LIMIT 10",
        "longest awaiting": f"{short_list} WHERE r.service_area_id = {area} AND r.status = 'completed'"
        " ORDER BY r.completed_at, r.id LIMIT 10",
        "raised": f"SELECT sum(CASE WHEN raised_at >= {s3} THEN 1 ELSE 0 END), count(*),"
        f" sum(CASE WHEN raised_at >= {s3} AND status = 'closed' THEN 1 ELSE 0 END),"
        " sum(CASE WHEN status = 'closed' THEN 1 ELSE 0 END)"
        f" FROM recommendation WHERE service_area_id = {area} AND raised_at >= {s12}",
        "days to close": f"SELECT days_to_close, sum(CASE WHEN closed_at >= {s3} THEN 1 ELSE 0 END), count(*)"
        f" FROM recommendation WHERE service_area_id = {area} AND status = 'closed'"
        f" AND closed_at >= {s12} GROUP BY days_to_close",
    }


def _check(dash: Dashboard, results: dict[str, list[tuple[Any, ...]]]) -> None:
    """The baseline and the app give the same figures (else the comparison means nothing)."""
    grouped = results["by team, status and bucket"]
    assert dash.outstanding == sum(r[4] for r in grouped)
    assert {b.key: b.count for b in dash.buckets if b.count} == _sum_by(grouped, 3)
    assert [r.item.id for r in dash.oldest_overdue] == [r[0] for r in results["oldest overdue"]]
    assert [r.item.id for r in dash.oldest_awaiting] == [r[0] for r in results["longest awaiting"]]
    raised3, raised12, closed3, closed12 = results["raised"][0]
    three, twelve = dash.closure
    assert (three.raised, twelve.raised, three.closed, twelve.closed) == (raised3, raised12, closed3, closed12)
    histogram = results["days to close"]
    assert three.median_days == rules.median({d: n for d, n, _ in histogram if n})
    assert twelve.median_days == rules.median({d: n for d, _, n in histogram})


def _sum_by(rows: list[tuple[Any, ...]], column: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for row in rows:
        found[row[column]] = found.get(row[column], 0) + row[4]
    return found


def _explain(cursor: Any, database: Database, sql: str) -> list[str]:
    if database.name == "sqlite":
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return [row[-1] for row in cursor.fetchall()]
    cursor.execute(f"EXPLAIN {sql}")
    return [row[0] for row in cursor.fetchall()]


# --- The run ---------------------------------------------------------------------------------------


def bench(database: Database) -> list[list[object]]:
    prepare_schema(database)
    today = bench_settings(database.url).today()
    area = _load(database, today)
    return [_measure(database, area, today)]


def _measure(database: Database, area: int, today: date) -> list[object]:
    """Time the app and the baseline, in turns, so whatever else the machine is doing weighs on both alike."""
    settings = bench_settings(database.url)
    engine = make_engine(settings.database_url)
    thresholds = thresholds_for(settings)
    sqls = _baseline_sql(database, area, today, settings.timezone)

    def figures() -> Dashboard:
        with Session(engine) as session:
            return dashboard_figures(
                session,
                service_area_id=area,
                flt=ListFilter(),
                today=today,
                zone=settings.timezone,
                thresholds=thresholds,
            )

    try:
        raw = engine.raw_connection()
        try:
            cursor = raw.driver_connection.cursor()

            def run_sql() -> dict[str, list[tuple[Any, ...]]]:
                results = {}
                for name, sql in sqls.items():
                    cursor.execute(sql)
                    results[name] = [tuple(row) for row in cursor.fetchall()]
                raw.driver_connection.commit()
                return results

            dash = figures()  # the warm-ups, and the figures both must agree on
            _check(dash, run_sql())
            app_s, raw_s = [], []
            for _ in range(RUNS):
                app_s.append(timed(figures)[0])
                raw_s.append(timed(run_sql)[0])
            say("  the baseline's plans")
            for name, sql in sqls.items():
                say(f"    {name}: {sql}")
                for line in _explain(cursor, database, sql):
                    say(f"      {line}")
            raw.driver_connection.commit()
        finally:
            raw.close()
    finally:
        engine.dispose()
    app_ms, raw_ms = statistics.median(app_s) * 1000, statistics.median(raw_s) * 1000
    say(
        f"  viewer's area {dash.outstanding:,} outstanding, {dash.overdue:,} overdue, {dash.awaiting:,} "
        f"awaiting verification; dashboard {app_ms:.1f} ms, raw SQL {raw_ms:.1f} ms"
    )
    return [
        database.name,
        f"{ROWS:,}",
        f"{dash.outstanding:,}",
        f"{app_ms:.1f}",
        f"{raw_ms:.1f}",
        f"{app_ms / raw_ms:.1f}x",
    ]


def main() -> None:
    say(
        f"Recommendations dashboard benchmark: {ROWS:,} recommendations (BENCH_DASHBOARD_ROWS) in {AREAS} service "
        f"areas, median of {RUNS} runs (BENCH_DASHBOARD_RUNS) after a warm-up, for one area"
    )
    results = run_on_each_database("dashboard", bench)
    if not results:
        return
    say("\nDashboard figures for one area (app: dashboard_figures; raw: the same figures as SQL through the driver)")
    say(table(["database", "recommendations", "outstanding", "app ms", "raw ms", "app/raw"], results))
    worst_ms = max(float(str(r[3])) for r in results)
    worst_ratio = max(float(str(r[5]).rstrip("x")) for r in results)
    met = worst_ms < AIM_MS and worst_ratio <= AIM_RATIO
    say(
        f"Aim: under {AIM_MS:.0f} ms and within {AIM_RATIO:.0f}x of the raw SQL: "
        f"{'met' if met else 'NOT met'} (slowest {worst_ms:.1f} ms, worst {worst_ratio:.1f}x)."
    )


if __name__ == "__main__":
    main()
