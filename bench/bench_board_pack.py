"""Board pack: issuing is quick because the PDF is made on the job queue (issue 22).

For each database: the demo department with a year of completed audits (as `caseaudit demo-data`), the QA lead signed
in through the real form, then, each the median of BENCH_PACK_RUNS runs (default 5) after a warm-up:

- issue: POST /reports/packs/{id}/issue for a prepared pack with its commentary (queues the job and answers);
- the baseline, in the same run: GET /reports/board-pack.pdf for the same month, the PDF made inside the request
  (how the pack was produced before it was a record);
- the job itself, `board_pack_generate`, run as the worker runs it: its time is what the pack stores
  (`generation_seconds`), reported here.

Aim: issuing answers in under 300 ms, whatever the PDF takes.
"""

from __future__ import annotations

from common import Database, bench_settings, env_int, prepare_schema, run_on_each_database, say, table, timed
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit_templates.service import templates_publish
from app.db import make_engine
from app.demo.cases import demo_cases_load
from app.demo.completed import demo_completed_audits
from app.demo.generator import DEMO_PASSWORD, demo_data_load
from app.main import create_app
from app.reports.board_pack import default_period
from app.reports.packs.jobs import pack_generate_job
from app.reports.packs.models import BoardPackRecord
from app.web.auth import SESSION_COOKIE
from app.web.csrf import CSRF_COOKIE, csrf_token_for

RUNS = env_int("BENCH_PACK_RUNS", 5)
CASES = env_int("BENCH_PACK_CASES", 1000)


def _load(database: Database) -> None:
    settings = bench_settings(database.url)
    engine = make_engine(database.url)
    try:
        with Session(engine) as session:
            today = settings.today()
            demo_data_load(session, today=today)
            demo_cases_load(session, n=CASES, today=today)
            templates_publish(session)
            demo_completed_audits(session, today=today)
            session.commit()
    finally:
        engine.dispose()


def _token(client: TestClient) -> str:
    return csrf_token_for(
        client.cookies.get(CSRF_COOKIE), client.app.state.settings.secret_key, client.cookies.get(SESSION_COOKIE)
    )


def bench(database: Database) -> list[list[object]]:
    prepare_schema(database)
    _load(database)
    settings = bench_settings(database.url)
    app = create_app(settings)
    period = default_period("month", settings.today())
    pdf_url = f"/reports/board-pack.pdf?period=month&month={period.value}"
    with TestClient(app, base_url="http://testserver") as client:
        client.get("/login")
        signed_in = client.post(
            "/login",
            data={"username": "qa.lead", "password": DEMO_PASSWORD, "csrf_token": _token(client), "next": "/"},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text[:300]

        def issue() -> tuple[int, float]:
            made = client.post(
                "/reports/packs/new",
                data={"period": "month", "month": period.value, "csrf_token": _token(client)},
                follow_redirects=False,
            )
            pack_url = made.headers["location"]
            saved = client.post(
                pack_url,
                data={
                    "commentary": "Bench.",
                    "recipients": "board@example.org",
                    "version": "1",
                    "csrf_token": _token(client),
                },
                follow_redirects=False,
            )
            assert saved.status_code == 303, saved.text[:300]
            seconds, response = timed(
                lambda: client.post(
                    f"{pack_url}/issue", data={"version": "2", "csrf_token": _token(client)}, follow_redirects=False
                )
            )
            assert response.status_code == 303, response.text[:300]
            return int(pack_url.rsplit("/", 1)[1]), seconds

        issue()  # warm-up
        client.get(pdf_url)
        issued: list[tuple[int, float]] = []
        inline: list[float] = []
        for _ in range(RUNS):  # in turns, so the machine's other work weighs on both alike
            pack_id, seconds = issue()
            issued.append((pack_id, seconds))
            inline.append(timed(lambda: client.get(pdf_url))[0])
        engine = app.state.engine
        pack_id = issued[-1][0]
        pack_generate_job(lambda: Session(engine, expire_on_commit=False), settings, pack_id=pack_id)
        with Session(engine) as session:
            made = session.exec(select(BoardPackRecord).where(BoardPackRecord.id == pack_id)).one()
            assert made.status == "issued" and made.pdf, made.status
    issue_ms = sorted(s for _, s in issued)[len(issued) // 2] * 1000
    inline_ms = sorted(inline)[len(inline) // 2] * 1000
    verdict = "ok" if issue_ms < 300 else "SLOW"
    return [
        [
            database.name,
            f"{issue_ms:.0f} ms",
            f"{inline_ms:.0f} ms",
            f"{issue_ms / inline_ms:.3f}x",
            f"{made.generation_seconds:.2f} s",
            f"{(made.size or 0) // 1024} KB",
            verdict,
        ]
    ]


def main() -> None:
    say(f"Board pack: issuing (the PDF made by the job queue) against making the PDF in the request; {RUNS} runs")
    rows = run_on_each_database("board_pack", bench)
    if rows:
        say(
            "\n" + table(["database", "issue", "PDF in request", "ratio", "job: PDF made in", "size", "< 300 ms"], rows)
        )


if __name__ == "__main__":
    main()
