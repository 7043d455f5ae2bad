"""Browser fixtures: one live server on a demo-data database and one headless Chromium per session.

The server is the real app under uvicorn in a background thread, on a database
built by `alembic upgrade head` (SQLite, or a fresh PostgreSQL schema with
`--postgres`) and filled with the demo department, its case register and
recommendations, and a year of completed audits for the reports. Each test gets
a new browser context, so cookies never leak between tests.

Chromium is Debian's (/usr/bin/chromium); Playwright never downloads one. Where
it is missing the browser tests are skipped with a message, except in CI
(CI=true), where they fail.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Response, WebError, expect, sync_playwright
from sqlmodel import Session

from app.accounts.roles import Role
from app.audit_templates.service import templates_publish
from app.cli import alembic_upgrade
from app.config import Settings
from app.db import make_engine
from app.demo.cases import demo_cases_load
from app.demo.completed import demo_completed_audits
from app.demo.generator import demo_data_load
from app.demo.recommendations import demo_recommendations_load
from app.main import create_app
from tests.conftest import IN_CI, fresh_database_url, using_postgres
from tests.factories import PASSWORD, make_user
from tests.jobs.workers import worker_start, workers_stop
from tests.test_mail import SmtpServer, serve_smtp

CHROMIUM_PATH = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# For actions and expect() alike: long enough for a slow CI machine, short enough that a wrong
# selector fails quickly.
ACTION_TIMEOUT_MS = 10_000
expect.set_options(timeout=ACTION_TIMEOUT_MS)


@dataclass(frozen=True)
class AccountHolder:
    """A user the password-change journey may change without disturbing the demo logins."""

    username: str
    full_name: str
    password: str


NewContext = Callable[..., BrowserContext]
ACCOUNT_HOLDER = AccountHolder("casey.morgan", "Casey Morgan", PASSWORD)


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings

    def today(self) -> date:
        """Today where the service is (what it compares training dates with)."""
        return self.settings.today()


def _wait_until_healthy(base_url: str, thread: threading.Thread, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the live server thread stopped while starting; see the log above")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError as exc:  # refused while binding, or 503 while the database warms up
            last_error = exc
        time.sleep(0.05)
    raise RuntimeError(f"the live server did not answer {base_url}/healthz within {timeout:.0f}s: {last_error}")


@pytest.fixture(scope="session")
def mail_server() -> Iterator[SmtpServer]:
    """The live server's mail server: a real SMTP server on 127.0.0.1 whose inbox the journeys read."""
    yield from serve_smtp()


@pytest.fixture(scope="session")
def live_server(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory, mail_server: SmtpServer
) -> Iterator[LiveServer]:
    """The app, serving the demo department (plus ACCOUNT_HOLDER) over real HTTP."""
    url = fresh_database_url(pytestconfig, tmp_path_factory.mktemp("browser"), "browser")
    alembic_upgrade(url)
    # Jobs run as in production: SQLite's job thread in the app, or a real `caseaudit worker` on PostgreSQL; email
    # goes to `mail_server`.
    settings = mail_server.settings(url, jobs_in_process=True)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            today = settings.today()
            demo_data_load(session, today=today)
            demo_cases_load(session, n=300, today=today)
            demo_recommendations_load(session, today=today)
            templates_publish(session)
            # A year of completed audits for the reports (needs the published templates), as `caseaudit demo-data`.
            history = demo_completed_audits(session, today=today)
            assert history.audits, "the demo made no completed audits"
            make_user(
                session,
                username=ACCOUNT_HOLDER.username,
                full_name=ACCOUNT_HOLDER.full_name,
                roles=(Role.VIEWER,),
                password=ACCOUNT_HOLDER.password,
            )
            session.commit()
    finally:
        engine.dispose()

    mail_env = {"SMTP_HOST": mail_server.host, "SMTP_PORT": str(mail_server.port), "SMTP_STARTTLS": "false"}
    worker = (
        worker_start(url, tmp_path_factory.mktemp("worker"), "browser", **mail_env)
        if using_postgres(pytestconfig)
        else None
    )
    app = create_app(settings)
    # Bind first and hand uvicorn the socket: no window in which another process can take the port.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base_url, thread)
        yield LiveServer(base_url, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        app.state.engine.dispose()
        if worker is not None:
            workers_stop(worker)
        assert not thread.is_alive(), "the live server did not shut down within 15 seconds"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    if not CHROMIUM_PATH.exists():
        message = (
            f"Chromium not found at {CHROMIUM_PATH}; install Debian's chromium to run browser tests (mandatory in CI)"
        )
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM_PATH), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


def _screenshot_pages(contexts: list[BrowserContext], directory: Path) -> None:
    """Full-page screenshots of every page still open, to see what the failing test saw."""
    for c, context in enumerate(contexts):
        for p, open_page in enumerate(context.pages):
            target = directory / f"context{c}-page{p}.png"
            try:
                open_page.screenshot(path=str(target), full_page=True)
                print(f"\nScreenshot of {open_page.url}: {target}")
            except Exception as exc:  # a courtesy: never hide the real failure
                print(f"\nCould not take a screenshot of {open_page.url}: {exc}")


@pytest.fixture
def new_context(
    browser: Browser,
    live_server: LiveServer,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[NewContext]:
    """Open fresh browser contexts (no cookies) on the live server; all are closed after the test.

    The app's Content-Security-Policy forbids inline scripts, which is how
    Playwright injects axe-core, so contexts bypass it unless asked not to
    (test_pages_work_under_the_content_security_policy checks the real policy).

    Whatever the test asserts, it also fails on an uncaught JavaScript error, a
    5xx response (such as an htmx request the user never sees fail) or a missing
    stylesheet, script, font or image. A failed test leaves screenshots of its
    open pages.
    """
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def _on_response(response: Response) -> None:
        path = urlsplit(response.url).path
        if response.status >= 500 or (response.status >= 400 and path.startswith(("/static/", "/assets/"))):
            problems.append(f"{response.status} from {response.request.method} {response.url}")

    def _on_web_error(error: WebError) -> None:
        problems.append(f"JavaScript error on {error.page.url if error.page else 'a page'}: {error.error}")

    def _open(*, bypass_csp: bool = True) -> BrowserContext:
        context = browser.new_context(base_url=live_server.url, bypass_csp=bypass_csp)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.on("response", _on_response)
        context.on("weberror", _on_web_error)
        contexts.append(context)
        return context

    yield _open
    try:
        if request.node.stash.get(_CALL_FAILED, False):
            _screenshot_pages(contexts, tmp_path_factory.mktemp("browser-failure"))
    finally:
        for context in contexts:
            context.close()
    assert not problems, "The browser met errors the test did not check for:\n" + "\n".join(problems)


@pytest.fixture
def page(new_context: NewContext) -> Page:
    """A page in a fresh browser context."""
    return new_context().new_page()
