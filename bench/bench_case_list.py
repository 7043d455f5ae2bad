"""Case list page response time beside the same SQL run directly, on SQLite and PostgreSQL.

For each database: build the schema with the migrations, load BENCH_LIST_CASES synthetic cases
(default 1,000,000) with the demo loader (Core bulk inserts), sign in as a QA lead (who sees every
case) through the real login form, then time GET /cases (first page: open cases by child ID) and a
filtered page (open child protection cases of one team): the median of BENCH_LIST_RUNS requests
(default 7) after a warm-up. The baseline runs the equivalent SQL (the count and the first page of 50)
straight through the driver, timed the same way. The query plans are printed, to show which
indexes serve each query.

Aim (issue 3): each page under 100 ms at 1,000,000 cases.
"""

from __future__ import annotations

from datetime import date

from common import (
    Database,
    bench_settings,
    create_demo_teams,
    env_int,
    median_ms,
    prepare_schema,
    run_on_each_database,
    say,
    table,
    timed,
)
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts import service as account_service
from app.accounts.roles import Role
from app.accounts.schemas import UserCreate
from app.demo.cases import demo_cases_load
from app.main import create_app
from app.web.csrf import CSRF_COOKIE, csrf_token_for

CASES = env_int("BENCH_LIST_CASES", 1_000_000)
RUNS = env_int("BENCH_LIST_RUNS", 7)
AIM_MS = 100.0
PAGE_SIZE = 50  # app.cases.views.PAGE_SIZE
USERNAME, PASSWORD = "bench.qa", "bench-password-long-enough"
FILTER_TEAM = "Safeguarding Team 1"  # works CIN and CP cases in the demo register


def _queries(team_id: int) -> dict[str, tuple[str, list[str]]]:
    """Page name -> (URL, [count SQL, page SQL]) as cases_page builds them for a QA lead."""
    filtered = f"status = 'open' AND case_type = 'cp' AND team_id = {team_id}"
    return {
        "first page": (
            "/cases",
            [
                "SELECT count(*) FROM child_case WHERE status = 'open'",
                f"SELECT * FROM child_case WHERE status = 'open' ORDER BY child_id, id LIMIT {PAGE_SIZE}",
            ],
        ),
        "filtered page": (
            f"/cases?case_type=cp&team_id={team_id}&status=open",
            [
                f"SELECT count(*) FROM child_case WHERE {filtered}",
                f"SELECT * FROM child_case WHERE {filtered} ORDER BY child_id, id LIMIT {PAGE_SIZE}",
            ],
        ),
    }


def _load(database: Database) -> int:
    engine_settings = bench_settings(database.url)
    from app.db import make_engine

    engine = make_engine(engine_settings.database_url)
    try:
        with Session(engine) as session:
            teams = create_demo_teams(session)
            account_service.user_create(
                session,
                data=UserCreate(username=USERNAME, password=PASSWORD, full_name="Bench QA Lead", roles=[Role.QA_LEAD]),
                actor=None,
            )
            seconds, loaded = timed(lambda: demo_cases_load(session, n=CASES, today=date.today()))
            session.commit()
        say(f"  loaded {loaded:,} cases in {seconds:.1f} s ({loaded / seconds:,.0f} rows/s)")
        if database.name == "postgresql":
            # What autovacuum does soon after a bulk load (PostgreSQL 13+): statistics, and the visibility
            # map that lets a count be an index-only scan.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE child_case")
        return teams[FILTER_TEAM][0]
    finally:
        engine.dispose()


def _sign_in(client: TestClient) -> None:
    client.get("/login")
    nonce = client.cookies.get(CSRF_COOKIE)
    token = csrf_token_for(nonce, client.app.state.settings.secret_key)
    response = client.post(
        "/login",
        data={"username": USERNAME, "password": PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), (response.status_code, response.text[:300])


def _explain(cursor, database: Database, sql: str) -> list[str]:
    if database.name == "sqlite":
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return [row[-1] for row in cursor.fetchall()]
    cursor.execute(f"EXPLAIN {sql}")
    return [row[0] for row in cursor.fetchall()]


def bench(database: Database) -> list[list[object]]:
    prepare_schema(database)
    team_id = _load(database)
    settings = bench_settings(database.url)
    app = create_app(settings)
    rows: list[list[object]] = []
    try:
        with TestClient(app, base_url="http://testserver") as client:
            _sign_in(client)
            raw = app.state.engine.raw_connection()
            try:
                cursor = raw.driver_connection.cursor()
                for name, (url, sqls) in _queries(team_id).items():
                    response = client.get(url)
                    assert response.status_code == 200, (url, response.status_code)
                    page_ms = median_ms(lambda url=url: client.get(url), runs=RUNS)

                    def run_sql(sqls: list[str] = sqls) -> None:
                        for sql in sqls:
                            cursor.execute(sql)
                            cursor.fetchall()
                        raw.driver_connection.commit()

                    raw_ms = median_ms(run_sql, runs=RUNS)
                    cursor.execute(sqls[0])
                    total = cursor.fetchone()[0]
                    raw.driver_connection.commit()
                    say(f"  {name} {url}: {total:,} matching cases")
                    for sql in sqls:
                        say(f"    {sql}")
                        for line in _explain(cursor, database, sql):
                            say(f"      {line}")
                    raw.driver_connection.commit()
                    rows.append(
                        [
                            database.name,
                            f"{CASES:,}",
                            name,
                            f"{total:,}",
                            f"{page_ms:.1f}",
                            f"{raw_ms:.1f}",
                            f"{page_ms / raw_ms:.1f}x",
                        ]
                    )
            finally:
                raw.close()
    finally:
        app.state.engine.dispose()
    return rows


def main() -> None:
    say(
        f"Case list benchmark: {CASES:,} cases (BENCH_LIST_CASES), median of {RUNS} runs (BENCH_LIST_RUNS)"
        " after a warm-up, signed in as a QA lead"
    )
    results = run_on_each_database("list", bench)
    if not results:
        return
    say("\nCase list (page: GET through the app, HTML rendered; raw: the count and page SQL through the driver)")
    say(table(["database", "cases", "page", "matching", "page ms", "raw ms", "page/raw"], results))
    worst = max(float(r[4]) for r in results)
    say(f"Aim: every page under {AIM_MS:.0f} ms: {'met' if worst < AIM_MS else 'NOT met'} (slowest {worst:.1f} ms).")


if __name__ == "__main__":
    main()
