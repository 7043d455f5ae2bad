"""Drawing a stratified sample from a large register, beside `ORDER BY random() LIMIT 100` over the same frame.

For each database: build the schema, load BENCH_SAMPLE_CASES synthetic cases (default 1,000,000) with the demo
loader, publish the templates, create a cycle, put 1,000 cases in an earlier open sample and 10,000 in audits
over the last two years (so the exclusions have work to do), then time

- the app: `sample_create` (stratified by team, 100 cases, every exclusion on): the frame query, the exclusion
  counts, the seeded draw, the frame hash and storing the sample, committed; the median of BENCH_SAMPLE_RUNS;
- the baseline: the same frame (open cases, not recently audited, not in an open sample) drawn by the database
  with `SELECT id FROM child_case WHERE … ORDER BY random() LIMIT 100`, the median of as many runs.

Aim (issue 5): the app within 2x of the baseline and under 1 s.
"""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta

from common import (
    Database,
    bench_settings,
    create_demo_teams,
    env_int,
    prepare_schema,
    run_on_each_database,
    say,
    table,
    timed,
)
from sqlalchemy import select
from sqlmodel import Session

from app.accounts import service as account_service
from app.accounts.models import User
from app.accounts.roles import Role
from app.accounts.schemas import UserCreate
from app.audit_templates.models import TemplateVersion
from app.audit_templates.service import templates_publish
from app.audits.models import Audit
from app.cases.models import Case
from app.date_rules import DueDateRules
from app.db import bulk_insert, make_engine
from app.demo.cases import demo_cases_load
from app.sampling import service
from app.sampling.models import Cycle
from app.sampling.schemas import CycleCreate, SampleSpec

CASES = env_int("BENCH_SAMPLE_CASES", 1_000_000)
RUNS = env_int("BENCH_SAMPLE_RUNS", 5)
AUDITS = 10_000
SIZE = 100
AIM_RATIO, AIM_SECONDS = 2.0, 1.0

BASELINE_SQL = (
    "SELECT id FROM child_case WHERE status = 'open'"
    " AND id NOT IN (SELECT case_id FROM audit WHERE created_at >= :since)"
    " AND id NOT IN (SELECT sc.case_id FROM sample_case sc JOIN audit_sample s ON s.id = sc.sample_id"
    " JOIN audit_cycle c ON c.id = s.cycle_id WHERE c.status != 'closed')"
    " ORDER BY random() LIMIT 100"
)


def bench(database: Database) -> list[object]:
    prepare_schema(database)
    engine = make_engine(bench_settings(database.url).database_url)
    today = date.today()
    try:
        with Session(engine) as session:
            create_demo_teams(session)
            lead = account_service.user_create(
                session,
                data=UserCreate(
                    username="bench.lead",
                    password="bench-password-long-enough",
                    full_name="Bench Lead",
                    roles=[Role.QA_LEAD],
                ),
                actor=None,
            )
            seconds, loaded = timed(lambda: demo_cases_load(session, n=CASES, today=today))
            templates_publish(session)
            _earlier_audits(session, lead, today)
            cycle = service.cycle_create(
                session,
                data=CycleCreate(title="Bench", kind="dip_sample", template_key="dip_sample", due_date=today),
                actor=lead,
                dates=DueDateRules(today=today, horizon_years=3),
            )
            # An earlier open sample, so "already in an open sample" excludes something.
            service.sample_create(
                session, cycle=cycle, spec=SampleSpec(method="random", size=1000, seed=1), today=today, actor=lead
            )
            session.commit()
            lead_id, cycle_id = lead.id, cycle.id
        say(f"  loaded {loaded:,} cases in {seconds:.1f} s")
        if database.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")

        spec = SampleSpec(method="stratified", size=SIZE, strata_by="team", min_per_stratum=2, seed=2026)
        app_times, drawn = [], 0
        for _ in range(RUNS):
            with Session(engine) as session:
                actor, cycle = session.get(User, lead_id), session.get(Cycle, cycle_id)
                elapsed, sample = timed(lambda: _create(session, cycle, spec, today, actor))  # noqa: B023  (called at once)
                frame = sample.frame_size
                drawn = len(service.sample_case_ids(session, sample=sample))
                session.rollback()  # a stored sample would leave the next run a smaller frame
            app_times.append(elapsed)
        since = date.fromordinal(today.toordinal() - 365).isoformat()
        base_times = []
        raw = engine.raw_connection()
        try:
            cursor = raw.driver_connection.cursor()
            sql = BASELINE_SQL.replace(":since", "?" if database.name == "sqlite" else "%s")
            for _ in range(RUNS):
                elapsed, rows = timed(lambda: (cursor.execute(sql, (since,)), cursor.fetchall())[1])
                base_times.append(elapsed)
                assert len(rows) == SIZE
            raw.driver_connection.rollback()
        finally:
            raw.close()
    finally:
        engine.dispose()
    app_s, base_s = statistics.median(app_times), statistics.median(base_times)
    say(f"  app: frame {frame:,}, drew {drawn} in {app_s * 1000:.0f} ms; baseline {base_s * 1000:.0f} ms")
    return [
        database.name,
        f"{CASES:,}",
        f"{frame:,}",
        drawn,
        f"{app_s * 1000:.0f}",
        f"{base_s * 1000:.0f}",
        f"{app_s / base_s:.1f}x",
    ]


def _earlier_audits(session: Session, lead: User, today: date) -> None:
    """AUDITS audits spread over the last two years (about half recent enough to exclude a case)."""
    version = session.execute(select(TemplateVersion).where(TemplateVersion.key == "dip_sample")).scalars().first()
    case_ids = session.execute(select(Case.id).order_by(Case.id).limit(AUDITS * 50)).scalars().all()[::50]
    now = datetime.now(UTC)
    bulk_insert(
        session.connection(),
        Audit.__table__,
        [
            {
                "case_id": case_id,
                "template_version_id": version.id,
                "template_key": version.key,
                "template_version": version.version,
                "auditor_id": lead.id,
                "status": "completed",
                "created_at": now - timedelta(days=i % 730),
                "updated_at": now,
                "version": 1,
            }
            for i, case_id in enumerate(case_ids)
        ],
    )


def _create(session, cycle, spec, today, actor):
    sample = service.sample_create(session, cycle=cycle, spec=spec, today=today, actor=actor)
    session.flush()
    return sample


def main() -> None:
    say(
        f"Sampling benchmark: stratified by team, {SIZE} cases, exclusions on, from {CASES:,} cases "
        f"(BENCH_SAMPLE_CASES), median of {RUNS} runs (BENCH_SAMPLE_RUNS)"
    )
    results = run_on_each_database("sampling", lambda database: [bench(database)])
    if not results:
        return
    say("\nStratified sample of 100 (app: sample_create, stored, not committed; baseline: ORDER BY random() LIMIT 100)")
    say(table(["database", "cases", "frame", "drawn", "app ms", "baseline ms", "app/baseline"], results))
    worst_ratio = max(float(r[6].rstrip("x")) for r in results)
    worst_ms = max(float(r[4]) for r in results)
    met = worst_ratio <= AIM_RATIO and worst_ms <= AIM_SECONDS * 1000
    say(
        f"Aim: within {AIM_RATIO:.0f}x of the baseline and under {AIM_SECONDS:.0f} s: {'met' if met else 'NOT met'}"
        f" (worst {worst_ratio:.1f}x, {worst_ms:.0f} ms)."
    )


if __name__ == "__main__":
    main()
