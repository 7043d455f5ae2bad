"""Canonical-CSV import speed beside a raw baseline, on SQLite and PostgreSQL.

For each database: build the schema with the migrations, create the demo teams, make a canonical
CSV of BENCH_IMPORT_ROWS synthetic cases (default 100,000) in memory, then time

- the app: `import_run(format="csv", full=True)` into an empty register, committed;
- a re-import of the same file (everything unchanged: nothing but the import record is written);
- the baseline: the very rows the app wrote, read back, the table truncated, and written again with
  plain DB-API `executemany` (SQLite) or `COPY ... FROM STDIN` through psycopg's `cursor.copy`
  (PostgreSQL), in one transaction, into the same table with the same indexes.

Aim (issue 3): the app within 3x of the baseline.
"""

from __future__ import annotations

import csv
import io
from datetime import date

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
from sqlmodel import Session

from app.cases.facts import FACT_FIELDS
from app.cases.readers import UploadedFile
from app.cases.service import import_run
from app.db import make_engine
from app.demo.cases import demo_case_rows

ROWS = env_int("BENCH_IMPORT_ROWS", 100_000)
AIM_RATIO = 3.0
CSV_COLUMNS = ["child_id", "case_type", "status", "start_date", "end_date", "team", *FACT_FIELDS]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def canonical_csv(n: int, teams: dict[str, tuple[int, int]], today: date) -> bytes:
    """`n` synthetic cases (the demo generator's) as a canonical CSV file."""
    team_names = {team_id: name for name, (team_id, _area) in teams.items()}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in demo_case_rows(n=n, today=today, teams=teams):
        row = {**row, "team": team_names[row["team_id"]]}
        writer.writerow([_cell(row.get(name)) for name in CSV_COLUMNS])
    return out.getvalue().encode()


def _run_import(engine, content: bytes, today: date):
    with Session(engine, expire_on_commit=False) as session:
        result = import_run(
            session,
            files=[UploadedFile(name="bench.csv", content=content)],
            format="csv",
            full=True,
            actor=None,
            today=today,
        )
        session.commit()
        return result


def _baseline(engine, database: Database) -> tuple[float, int]:
    """Read back what the app wrote, empty the table, and time writing the same rows with the driver alone."""
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        cursor = connection.cursor()
        cursor.execute("SELECT * FROM child_case ORDER BY id")
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        names = ", ".join(columns)
        if database.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute("DELETE FROM child_case")
            cursor.execute("COMMIT")
            insert = f"INSERT INTO child_case ({names}) VALUES ({', '.join('?' * len(columns))})"

            def write() -> None:
                cursor.execute("BEGIN IMMEDIATE")
                cursor.executemany(insert, rows)
                cursor.execute("COMMIT")
        else:
            cursor.execute(
                "SELECT a.attname, a.atttypid::regtype::text FROM pg_attribute a "
                "WHERE a.attrelid = 'child_case'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
            )
            types = dict(cursor.fetchall())
            cursor.execute("TRUNCATE child_case CASCADE")  # audits and samples reference it (empty here)
            connection.commit()

            def write() -> None:
                with cursor.copy(f"COPY child_case ({names}) FROM STDIN") as copy:
                    copy.set_types([types[c] for c in columns])
                    for row in rows:
                        copy.write_row(row)
                connection.commit()

        seconds, _ = timed(write)
        cursor.execute("SELECT count(*) FROM child_case")
        written = cursor.fetchone()[0]
        connection.commit()
        return seconds, written
    finally:
        raw.close()


def bench(database: Database) -> list[object]:
    today = date.today()
    prepare_schema(database)
    engine = make_engine(bench_settings(database.url).database_url)
    try:
        with Session(engine) as session:
            teams = create_demo_teams(session)
            session.commit()
        seconds, content = timed(lambda: canonical_csv(ROWS, teams, today))
        say(f"  CSV: {ROWS:,} rows, {len(content) / 1e6:.1f} MB, made in {seconds:.1f} s")

        app_s, first = timed(lambda: _run_import(engine, content, today))
        say(f"  import: {first.status}, created {first.created:,}, rejected {first.rejected:,} in {app_s:.2f} s")
        assert first.status == "committed" and first.created == ROWS, (first.status, first.created, first.errors[:3])

        again_s, second = timed(lambda: _run_import(engine, content, today))
        say(
            f"  re-import: {second.status}, unchanged {second.unchanged:,}, written {second.rows_done:,}"
            f" in {again_s:.2f} s"
        )
        assert second.unchanged == ROWS and second.created == second.updated == second.closed == 0

        base_s, written = _baseline(engine, database)
        assert written == ROWS, written
        say(f"  baseline: {written:,} rows in {base_s:.2f} s")
    finally:
        engine.dispose()
    return [
        database.name,
        f"{ROWS:,}",
        f"{app_s:.2f}",
        f"{ROWS / app_s:,.0f}",
        f"{base_s:.2f}",
        f"{ROWS / base_s:,.0f}",
        f"{app_s / base_s:.1f}x",
        f"{again_s:.2f}",
        f"{ROWS / again_s:,.0f}",
    ]


def main() -> None:
    say(f"Case import benchmark: canonical CSV, {ROWS:,} cases (BENCH_IMPORT_ROWS), format csv, full=True")
    results = run_on_each_database("import", lambda database: [bench(database)])
    if not results:
        return
    say("\nCase import (app: import_run; baseline: executemany on SQLite, COPY on PostgreSQL)")
    say(
        table(
            [
                "database",
                "rows",
                "app s",
                "app rows/s",
                "baseline s",
                "baseline rows/s",
                "app/baseline",
                "re-import s",
                "re-import rows/s",
            ],
            results,
        )
    )
    worst = max(float(r[6].rstrip("x")) for r in results)
    say(
        f"Aim: app within {AIM_RATIO:.0f}x of the baseline: {'met' if worst <= AIM_RATIO else 'NOT met'}"
        f" (worst {worst:.1f}x)."
    )


if __name__ == "__main__":
    main()
