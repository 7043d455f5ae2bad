"""Load benchmark: requests that write to the audit trail, side by side with how the trail used to be written.

Every page that shows personal data now records a read in the audit trail, so every request writes an event. Each
simulated request opens a transaction, records an event, does BENCH_TRAIL_WORK_MS of other work (reading and
rendering a page), commits, and then links its event into the chain, as `get_session` does. BENCH_TRAIL_CLIENTS
threads send BENCH_TRAIL_REQUESTS requests each. The baseline is the earlier design, measured in the same run:
the chain head locked when the event is recorded and held until the request commits, so requests that write to
the trail ran one at a time. Reported: requests per second and the median and 95th-percentile request time of
both, and the ratio. (SQLite runs one writing transaction at a time whatever the trail does; the figure that
matters is PostgreSQL's.)
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable

from common import Database, env_int, prepare_schema, run_on_each_database, say, table
from sqlalchemy import update
from sqlmodel import Session

from app.audit_trail.models import AuditChainHead
from app.audit_trail.service import audit_chain_link, audit_chain_verify, audit_record, commit_and_link
from app.db import make_engine

CLIENTS = env_int("BENCH_TRAIL_CLIENTS", 8)
REQUESTS = env_int("BENCH_TRAIL_REQUESTS", 25)
WORK_MS = env_int("BENCH_TRAIL_WORK_MS", 20)


def _now_design(session: Session) -> None:
    audit_record(session, actor=None, action="bench.read", summary="Viewed a page")
    time.sleep(WORK_MS / 1000)  # the rest of the request, after the event is recorded
    commit_and_link(session)  # as get_session does


def _earlier_design(session: Session) -> None:
    # As audit_record did before: take the chain head first (its row lock lasts until the commit).
    session.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(last_seq=AuditChainHead.last_seq))
    audit_record(session, actor=None, action="bench.read", summary="Viewed a page")
    time.sleep(WORK_MS / 1000)
    audit_chain_link(session)
    session.commit()


def _load(engine, request: Callable[[Session], None]) -> tuple[float, list[float]]:
    times: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(REQUESTS):
            started = time.perf_counter()
            with Session(engine) as session:
                request(session)
            with lock:
                times.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, times


def bench(database: Database) -> list[list[object]]:
    prepare_schema(database)
    engine = make_engine(database.url)
    rows = []
    try:
        results = {}
        for name, design in (
            ("earlier: head held to commit", _earlier_design),
            ("now: linked after commit", _now_design),
        ):
            _load(engine, design)  # warm-up
            took, times = _load(engine, design)
            results[name] = (took, times)
        with Session(engine) as session:
            assert audit_chain_verify(session).ok, "the chain must be intact after the load"
        baseline = results["earlier: head held to commit"][0]
        for name, (took, times) in results.items():
            ordered = sorted(times)
            rows.append(
                [
                    database.name,
                    name,
                    f"{len(times) / took:.0f}/s",
                    f"{statistics.median(ordered) * 1000:.0f} ms",
                    f"{ordered[int(len(ordered) * 0.95) - 1] * 1000:.0f} ms",
                    f"{baseline / took:.1f}x",
                ]
            )
    finally:
        engine.dispose()
    return rows


def main() -> None:
    say(f"Audit trail under load: {CLIENTS} clients x {REQUESTS} requests, {WORK_MS} ms of other work each")
    rows = run_on_each_database("trail", bench)
    if rows:
        say("\n" + table(["database", "design", "throughput", "median", "p95", "speed-up"], rows))


if __name__ == "__main__":
    main()
