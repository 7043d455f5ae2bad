"""Engine, sessions, naming convention and column types shared by every area."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from fastapi import Path as PathParam
from sqlalchemy import JSON, Connection, CursorResult, DateTime, Engine, Table, create_engine, event, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel

from app.errors import Conflict
from app.numbers import MAX_ROW_ID  # re-exported: row ids are 32-bit in PostgreSQL

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

JSONType = JSON().with_variant(JSONB(), "postgresql")


# A row id in an API path: out of range is a 422 naming the parameter.
RowId = Annotated[int, PathParam(ge=1, le=MAX_ROW_ID)]


def valid_row_id(value: int | None) -> bool:
    return value is not None and 1 <= value <= MAX_ROW_ID


# Versions are 32-bit integer columns; a number beyond them matches no row (and PostgreSQL would refuse to compare).
MAX_VERSION = 2**31 - 1


def claim_version(session: Session, row: Any, version: int | None, *, stale: str, **values: Any) -> None:
    """Optimistic locking, the one way every versioned table does it: move `row` to its next version, with `values`
    written in the same statement, only if it is still at the `version` the form or request was read at
    (UPDATE ... SET version = version + 1 WHERE id = :id AND version = :read). Two concurrent edits read at the
    same version cannot both pass, on SQLite or PostgreSQL: the second matches no row and gets Conflict(stale),
    having changed nothing. `row` is refreshed to what was stored."""
    model = type(row)
    if version is None or row.id is None or not 0 <= version <= MAX_VERSION:
        raise Conflict(stale)
    result = session.execute(
        update(model)
        .where(model.id == row.id, model.version == version)
        .values(version=model.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if cast("CursorResult[Any]", result).rowcount != 1:
        raise Conflict(stale)
    session.refresh(row)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def bulk_insert(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows (all with the same keys) by the driver's fastest path, in the caller's transaction.

    PostgreSQL gets `COPY ... FROM STDIN`; SQLite one `executemany`. Each value still goes through its
    column type's own bind processing, so rows are stored exactly as an ORM insert would store them;
    only SQLAlchemy's per-row statement machinery is skipped (for big imports it cost more than the write).
    """
    if not rows:
        return
    dialect = connection.dialect
    names = list(rows[0])
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    converted = (
        tuple(
            value if process is None or value is None else process(value)
            for process, value in zip(processors, (row[name] for name in names), strict=True)
        )
        for row in rows
    )
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    if dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
            for values in converted:
                copy.write_row(values)
    else:
        marks = ", ".join("?" for _ in names)
        connection.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})", list(converted))


def refresh_statistics(connection: Connection, table: Table) -> None:
    """After a bulk load, let PostgreSQL's planner see the new rows now rather than when autovacuum gets to it.

    Without this, lookups on a freshly loaded table can fall back to a plan that scans the whole table for
    every batch (measured: 0.5 s per 1,000-ID lookup at 20,000 rows). SQLite's planner does not need it.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ANALYZE {connection.dialect.identifier_preparer.quote(table.name)}")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock at the start: a request that reads and then writes
        # (an audit-trail append, say) can never fail on a stale snapshot.
        # Pure reads (the health check) may opt out with sqlite_begin="DEFERRED".
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {'DEFERRED' if mode == 'DEFERRED' else 'IMMEDIATE'}")


def make_engine(database_url: str) -> Engine:
    """An engine for the URL, with SQLite made safe for a threaded web server.

    Bound values never appear in errors or logs (hide_parameters): they include password hashes, child IDs and
    names, and a database error is logged with its statement.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, committed once after the view returns; rolled back on error. The commit is the app's
    `state.commit_session`, which create_app sets to the audit trail's `commit_and_link`: audit-trail events the
    request recorded are then linked into the chain in a short transaction of their own, so no request holds the
    chain for its whole length (the trail builds on this module, so it is handed in rather than imported)."""
    with Session(request.app.state.engine) as session:
        yield session
        request.app.state.commit_session(session)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]

SessionMaker = Callable[[], Session]


def get_session_maker(request: Request) -> SessionMaker:
    """New sessions for work that outlives the request (a background import), each its own transaction."""
    engine = request.app.state.engine
    return lambda: Session(engine, expire_on_commit=False)


SessionMakerDep = Annotated[SessionMaker, Depends(get_session_maker)]
