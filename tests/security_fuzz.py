"""`make security`: fuzz every operation of the API and the HTML forms with schemathesis, on PostgreSQL.

The app runs here under uvicorn on a fresh PostgreSQL schema with the demo department; schemathesis reads
`/openapi.json` and sends generated requests to every operation (coverage, fuzzing and stateful phases) for
SECURITY_SECONDS, signed in both ways at once: a bearer token for the API, and a session cookie with its CSRF token
for the forms. Every response the app sends is counted here, by status; the run fails if any is a 5xx.

Not collected by pytest (no test_ prefix): run `make security`, or `python -m tests.security_fuzz`.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECRET = "security-fuzzing-secret-not-for-production"
USERNAME, PASSWORD = "qa.lead", "demo-password"


class StatusCounter:
    """ASGI wrapper: counts every response by status (what the app really answered, whatever the fuzzer says)."""

    def __init__(self, app: Any) -> None:
        self.app, self.statuses = app, Counter[int]()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def counting_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.statuses[message["status"]] += 1
            await send(message)

        await self.app(scope, receive, counting_send)


def _schema_url(base: str, schema: str) -> str:
    return make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)


def _prepare(url: str) -> None:
    from app import clock
    from app.audit_templates.service import templates_publish
    from app.cli import alembic_upgrade
    from app.db import make_engine
    from app.demo.cases import demo_cases_load
    from app.demo.generator import demo_data_load
    from app.demo.recommendations import demo_recommendations_load

    alembic_upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        today = clock.today(ZoneInfo("Europe/London"))
        demo_data_load(session, today=today)
        demo_cases_load(session, n=200, today=today)
        templates_publish(session)
        demo_recommendations_load(session, today=today)
        session.commit()
    engine.dispose()


def _post(url: str, data: bytes, headers: dict[str, str]) -> tuple[list[str], bytes]:
    """POST without following a redirect; the Set-Cookie headers and the body."""
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(request, timeout=30) as response:
        return response.headers.get_all("Set-Cookie") or [], response.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None

    def http_error_303(self, req: Any, fp: Any, code: int, msg: str, headers: Any) -> Any:
        return fp


def _cookie(set_cookies: list[str], name: str) -> str | None:
    for value in set_cookies:
        if value.startswith(f"{name}="):
            return value.split(";", 1)[0].split("=", 1)[1]
    return None


def _sign_in(base: str) -> dict[str, str]:
    """Headers that sign every request in: a bearer token (API) and a session cookie with its CSRF token (forms)."""
    from app.web.auth import SESSION_COOKIE
    from app.web.csrf import CSRF_COOKIE, csrf_token_for

    body = json.dumps({"username": USERNAME, "password": PASSWORD}).encode()
    _, raw = _post(f"{base}/api/v1/tokens", body, {"Content-Type": "application/json"})
    token = json.loads(raw)["access_token"]
    with urllib.request.urlopen(f"{base}/login", timeout=30) as response:
        nonce = _cookie(response.headers.get_all("Set-Cookie") or [], CSRF_COOKIE) or ""
    form = f"username={USERNAME}&password={PASSWORD}&csrf_token={csrf_token_for(nonce, SECRET)}".encode()
    answer, _ = _post(
        f"{base}/login", form, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"{CSRF_COOKIE}={nonce}"}
    )
    session = _cookie(answer, SESSION_COOKIE)
    nonce = _cookie(answer, CSRF_COOKIE) or nonce  # a new nonce comes with the new session
    assert session, "signing in through the form did not give a session"
    return {
        "Authorization": f"Bearer {token}",
        "Cookie": f"{SESSION_COOKIE}={session}; {CSRF_COOKIE}={nonce}",
        "X-CSRF-Token": csrf_token_for(nonce, SECRET, session),
    }


def main() -> int:
    from app.config import Settings
    from app.main import create_app

    seconds = int(os.environ.get("SECURITY_SECONDS", "120"))
    base_url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("TEST_POSTGRES_URL") or DEFAULT_URL
    schema = f"security_{os.getpid()}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _schema_url(base_url, schema)
    try:
        _prepare(url)
        settings = Settings(
            environment="test",
            database_url=url,
            secret_key=SECRET,
            password_time_cost=1,
            password_memory_kib=8,
            password_parallelism=1,
            audit_trail_checkpoint_dir=Path(f"/tmp/{schema}-checkpoints"),
        )
        counter = StatusCounter(create_app(settings))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(counter, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        headers = _sign_in(base)
        signed_in = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
        # The API: no 5xx, and only the statuses its OpenAPI entry lists (app.web.openapi_responses); two thirds
        # of the time. The HTML pages and forms: no 5xx; the rest. Signing out, changing the password and revoking
        # the token are left out: they would end the fuzzer's own sign-in.
        runs = [
            (
                ["--include-path-regex", "^/api/", "--exclude-path-regex", "^/api/v1/tokens/current$"],
                "not_a_server_error,status_code_conformance",
                seconds * 2 // 3,
            ),
            (
                ["--exclude-path-regex", "^/(api/|logout$|account/password$)"],
                "not_a_server_error",
                seconds - seconds * 2 // 3,
            ),
        ]
        started = time.monotonic()
        results = []
        for selection, checks, budget in runs:
            command = [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                f"{base}/openapi.json",
                "--checks",
                checks,
                "--max-time",
                str(max(1, budget)),
                "--workers",
                "2",
                "--suppress-health-check",
                "all",
                "--warnings",
                "off",
                *selection,
                *signed_in,
            ]
            results.append(subprocess.run(command, capture_output=True, text=True))
        took = time.monotonic() - started
        server.should_exit = True
        thread.join(timeout=15)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    statuses = counter.statuses
    total, server_errors = sum(statuses.values()), sum(n for code, n in statuses.items() if code >= 500)
    failed = []
    for result, (_, checks, _) in zip(results, runs, strict=True):
        lines = [
            line.strip() for line in result.stdout.splitlines() if re.match(r"^\s*(Tested: \d+|\d+ generated)", line)
        ]
        print(f"{checks}: " + "; ".join(lines))
        if "Failures:" in result.stdout:
            failed.append(result)  # a check failed: a 5xx, or a status the OpenAPI document does not list
        elif result.returncode != 0:
            # schemathesis stopped on an error of its own (its generator or its reporting), not a finding about
            # the app: say so; the app's own count of 5xx below is what decides.
            print(f"schemathesis ended with an error of its own (exit {result.returncode}); its last lines:")
            print("\n".join(result.stdout.splitlines()[-8:])[-2000:])
    print(f"{total} requests in {took:.0f} s; responses by status: {dict(sorted(statuses.items()))}")
    print(f"{server_errors} responses 5xx")
    for result in failed:
        print(result.stdout[-6000:])
    if server_errors or failed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
