"""Test fixtures: a database built by `alembic upgrade head`, each test in a rolled-back transaction.

`pytest` runs on SQLite (a temporary file). `pytest --postgres` runs the same
suite on PostgreSQL at TEST_DATABASE_URL (default: TEST_POSTGRES_URL or the
local trust-auth server). Without CI=true an unreachable PostgreSQL skips that
run with a message; with CI=true it fails.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app import clock
from app.accounts.passwords import passwords_configure
from app.audit_trail.service import PENDING as AUDIT_PENDING
from app.audit_trail.service import audit_chain_link, audit_trail_configure
from app.cli import alembic_upgrade
from app.config import Settings
from app.db import SessionMaker, get_session, get_session_maker, make_engine
from app.main import create_app
from app.web.jobs import get_run_later, get_run_now

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# The suite's "now": every test starts with the app's clock here (running), whatever the machine's date.
# A test that needs another day sets it with the `set_clock` fixture.
TEST_NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

# The shared sample data sits beside the checkout (../shared/data).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

TEST_SECRET_KEY = "test-secret-key-not-for-production"

# Cheap argon2 in tests, for this process and every process it starts (the CLI, the browser tests' server);
# tests/accounts/test_passwords.py checks the production parameters.
CHEAP_PASSWORD_COST = {"PASSWORD_TIME_COST": "1", "PASSWORD_MEMORY_KIB": "8", "PASSWORD_PARALLELISM": "1"}
for _name, _value in CHEAP_PASSWORD_COST.items():
    os.environ.setdefault(_name, _value)

# The settings every test starts from (make_test_settings adds a database): passwords and the audit trail's seal.
_TEST_SEAL_SETTINGS = Settings(environment="test", secret_key=TEST_SECRET_KEY)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--postgres", action="store_true", help="run the suite on PostgreSQL instead of SQLite")


def _postgres_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def pytest_configure(config: pytest.Config) -> None:
    clock.clock_set(TEST_NOW)
    passwords_configure(_TEST_SEAL_SETTINGS)
    audit_trail_configure(_TEST_SEAL_SETTINGS)
    if not config.getoption("--postgres"):
        return
    url = _postgres_url()
    safe = make_url(url).render_as_string(hide_password=True)
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # unreachable server, wrong credentials, missing driver
        if IN_CI:
            pytest.exit(f"PostgreSQL at {safe} is required in CI but unreachable: {exc}", returncode=1)
        pytest.exit(f"PostgreSQL at {safe} is not reachable; skipping the PostgreSQL run.", returncode=0)


# The browser journeys in two groups (pytest-xdist --dist loadgroup): each group runs in one worker, which builds
# one live server and its demo database. Roughly equal halves; they are collected first, so they start at once
# and the rest of the suite fills in around them.
BROWSER_GROUP_1 = {
    "test_audit_journey.py",
    "test_moderation_journey.py",
    "test_programme_journey.py",
    "test_import_journey.py",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    browser, rest = [], []
    for item in items:
        if item.get_closest_marker("browser") is not None:
            group = "browser-1" if item.path.name in BROWSER_GROUP_1 else "browser-2"
            item.add_marker(pytest.mark.xdist_group(group))
            browser.append(item)
        else:
            rest.append(item)
    items[:] = browser + rest


def using_postgres(config: pytest.Config) -> bool:
    return bool(config.getoption("--postgres"))


_created_schemas: list[str] = []


def _run_schemas(statements: list[str]) -> None:
    engine = create_engine(_postgres_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def fresh_database_url(config: pytest.Config, tmp_dir: Path, name: str) -> str:
    """An empty database for one purpose: a new SQLite file, or a new PostgreSQL schema.

    PostgreSQL schemas are named per process, so two runs at once never share tables,
    and are dropped when the run ends.
    """
    if not using_postgres(config):
        path = tmp_dir / f"{name}.db"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    schema = f"t_{name}_{os.getpid()}"
    _run_schemas([f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', f'CREATE SCHEMA "{schema}"'])
    if schema not in _created_schemas:
        _created_schemas.append(schema)
    url = make_url(_postgres_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _created_schemas:
        _run_schemas([f'DROP SCHEMA IF EXISTS "{schema}" CASCADE' for schema in _created_schemas])


def make_test_settings(database_url: str, **overrides: object) -> Settings:
    # Checkpoints of this test database's audit trail only: never the developer's var/ directory.
    overrides.setdefault("audit_trail_checkpoint_dir", Path(tempfile.mkdtemp(prefix="caseaudit-checkpoints-")))
    overrides.setdefault("jobs_in_process", False)  # tests run the jobs they queue themselves
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key=TEST_SECRET_KEY,
        **overrides,
    )


@pytest.fixture(autouse=True)
def _clock_back_to_test_now() -> Iterator[None]:
    """Every test starts at TEST_NOW, whatever the test before it did to the clock, and seals the audit trail with
    the test settings' key, whatever the CLI tests' settings did to it."""
    clock.clock_set(TEST_NOW)
    yield
    clock.clock_set(TEST_NOW)
    audit_trail_configure(_TEST_SEAL_SETTINGS)


@pytest.fixture
def set_clock() -> Callable[..., None]:
    """Set the app's clock for this test: set_clock(datetime(..., tzinfo=UTC), running=False)."""
    return clock.clock_set


@pytest.fixture(scope="session")
def database_url(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = fresh_database_url(pytestconfig, tmp_path_factory.mktemp("db"), "main")
    alembic_upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_test_settings(database_url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings):
    return create_app(settings)


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test; app commits become savepoints."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def job_sessions(db: Session) -> SessionMaker:
    """The sessions a job function is given (`job(new_session, settings, ...)`), on the test's connection: each a
    savepoint, so what the job commits is rolled back with the test."""
    connection = db.connection()
    return lambda: Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def client(app, db: Session) -> Iterator[TestClient]:
    """An HTTP client whose requests share the test's session (so the test sees what they wrote)."""

    def _session() -> Iterator[Session]:
        # Each request in a savepoint of its own: like a real request, nothing it did survives an error.
        request_savepoint = db.begin_nested()
        db.info.pop(AUDIT_PENDING, None)  # link only what this request records, as a request's own session does
        db.expire_all()  # like a new request's session: nothing read earlier (by the test or the last request) is trusted
        try:
            yield db
        except Exception:
            request_savepoint.rollback()
            raise
        request_savepoint.commit()
        if db.info.pop(AUDIT_PENDING, False):  # as get_session does after its commit
            audit_chain_link(db)

    def _session_maker() -> SessionMaker:
        # Background work (a confirmed import) gets sessions on the test's connection too: savepoints.
        connection = db.connection()
        return lambda: Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)

    app.dependency_overrides[get_session] = _session
    app.dependency_overrides[get_session_maker] = _session_maker
    app.dependency_overrides[get_run_later] = get_run_now
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client
    app.dependency_overrides.pop(get_session, None)
    app.dependency_overrides.pop(get_session_maker, None)
    app.dependency_overrides.pop(get_run_later, None)
