"""Shared helpers for the benchmarks: throwaway databases, settings, timing and a plain-text table.

Each benchmark runs on SQLite (a temporary file) and on PostgreSQL (a fresh schema in
BENCH_POSTGRES_URL, else TEST_POSTGRES_URL, else the local trust-auth server), and removes
what it made. An unreachable PostgreSQL is skipped with a message. BENCH_DATABASES
("sqlite,postgresql" by default) picks which to run.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.config import Settings  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECRET_KEY = "bench-secret-key-not-for-production"


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").replace("_", "").strip()
    return int(raw) if raw else default


def postgres_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def wanted_databases() -> list[str]:
    names = os.environ.get("BENCH_DATABASES", "sqlite,postgresql")
    return [n.strip() for n in names.split(",") if n.strip()]


@dataclass(frozen=True)
class Database:
    name: str  # "sqlite" or "postgresql"
    url: str  # for make_engine / alembic_upgrade
    where: str  # for people: the file, or server and schema


@contextmanager
def _sqlite(label: str) -> Iterator[Database]:
    with tempfile.TemporaryDirectory(prefix=f"bench_{label}_") as tmp:
        path = Path(tmp) / "bench.db"
        yield Database("sqlite", f"sqlite:///{path}", f"SQLite file {path}")


def _postgres_admin(statements: list[str]) -> None:
    engine = create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


@contextmanager
def _postgres(label: str) -> Iterator[Database | None]:
    safe = make_url(postgres_url()).render_as_string(hide_password=True)
    schema = f"bench_{label}_{os.getpid()}"
    try:
        _postgres_admin([f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', f'CREATE SCHEMA "{schema}"'])
    except Exception as exc:  # unreachable server, wrong credentials, missing driver
        print(f"PostgreSQL at {safe} is not reachable; skipping it ({type(exc).__name__}).", flush=True)
        yield None
        return
    url = make_url(postgres_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield Database("postgresql", url.render_as_string(hide_password=False), f"PostgreSQL {safe}, schema {schema}")
    finally:
        _postgres_admin([f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'])


def databases(label: str) -> Iterator[tuple[str, Callable[[], Any]]]:
    """(name, context manager factory) for each wanted database; the context yields a Database or None."""
    makers = {"sqlite": _sqlite, "postgresql": _postgres}
    for name in wanted_databases():
        if name not in makers:
            print(f"Unknown database {name!r} in BENCH_DATABASES; use sqlite and/or postgresql.")
            continue
        yield name, (lambda maker=makers[name]: maker(label))


def run_on_each_database(label: str, bench: Callable[[Database], list[Any]]) -> list[Any]:
    """Run `bench` on each wanted database that answers; its result rows, concatenated (none: says so)."""
    results: list[Any] = []
    for name, context in databases(label):
        with context() as database:
            if database is None:
                continue
            say(f"\n{name}: {database.where}")
            results.extend(bench(database))
    if not results:
        say("No database to run on.")
    return results


def bench_settings(database_url: str) -> Settings:
    return Settings(environment="test", database_url=database_url, secret_key=SECRET_KEY)


def prepare_schema(database: Database) -> None:
    from app.cli import alembic_upgrade

    alembic_upgrade(database.url)


def create_demo_teams(session: Session) -> dict[str, tuple[int, int]]:
    """The demo department's teams: name -> (team id, service area id). The caller commits."""
    from app.accounts import selectors as account_selectors
    from app.accounts import service as account_service
    from app.accounts.schemas import TeamCreate
    from app.demo.generator import DEMO_TEAMS

    teams: dict[str, tuple[int, int]] = {}
    for area, names in DEMO_TEAMS.items():
        for name in names:
            team = account_selectors.team_by_name(session, name=name) or account_service.team_create(
                session, data=TeamCreate(name=name, service_area=area), actor=None
            )
            teams[name] = (team.id, team.service_area_id)
    return teams


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def median_ms(action: Callable[[], Any], *, runs: int, warmups: int = 1) -> float:
    for _ in range(warmups):
        action()
    return statistics.median(timed(action)[0] for _ in range(runs)) * 1000


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def say(message: str) -> None:
    print(message, flush=True)
