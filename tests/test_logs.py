"""Logs never carry personal data or secrets: no bound values from the database, in errors or in statement logs."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.accounts.passwords import password_hash
from app.db import make_engine

CHILD_ID = "DEMO6900650"
NAME = "Dustin Hazlett"


def test_a_database_error_names_the_statement_but_never_the_values(engine, caplog):
    """Bound values are hidden from SQLAlchemy's statement log and error text (hide_parameters), and the log
    handlers drop exception messages, which PostgreSQL fills with the duplicate value (DETAIL: Key ... exists)."""
    import io

    from app.log_config import NoExceptionText

    secret_hash = password_hash("correct horse battery")
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.addFilter(NoExceptionText())
    logging.getLogger().addHandler(handler)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # what an operator turns on to debug
    try:
        with engine.connect() as connection:
            insert = text(
                "INSERT INTO app_user (username, full_name, password_hash, active, version, created_at) "
                "VALUES (:username, :name, :hash, true, 1, CURRENT_TIMESTAMP)"
            )
            values = {"username": CHILD_ID, "name": NAME, "hash": secret_hash}
            with connection.begin():
                connection.execute(insert, values)
                try:
                    connection.execute(insert, values)  # the same username again
                except IntegrityError:
                    # What uvicorn does with an exception that escapes the app (its loggers propagate to the root).
                    logging.getLogger("caseaudit.errors").exception("Exception in ASGI application")
                connection.rollback()
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
        logging.getLogger().removeHandler(handler)
    logged = written.getvalue()
    assert "INSERT INTO app_user" in logged  # the statement is there to debug with
    assert "sqlalchemy.exc.IntegrityError at test_logs.py:" in logged  # the error's type and where it came from
    for value in (secret_hash, CHILD_ID, NAME):
        assert value not in logged


def test_every_engine_the_app_makes_hides_parameters(tmp_path):
    for url in (f"sqlite:///{tmp_path / 'x.db'}", "postgresql+psycopg://nobody@127.0.0.1:1/none"):
        assert make_engine(url).hide_parameters is True


def test_every_worker_process_logs_its_requests(tmp_path):
    """`caseaudit serve --workers 2`: each worker is a process of its own and must set up logging itself."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "SECRET_KEY": "x" * 40,
        "LOG_LEVEL": "INFO",
    }
    subprocess.run([bin_dir / "caseaudit", "db", "upgrade"], env=env, check=True, capture_output=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log_file = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(
        [bin_dir / "caseaudit", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log_file,
        stderr=log_file,
    )
    try:
        deadline = time.monotonic() + 60
        answered = 0
        while time.monotonic() < deadline and answered < 20:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    answered += response.status == 200
            except OSError:
                time.sleep(0.2)
        assert answered == 20, "the server did not answer"
        time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)
    log_file.seek(0)
    lines = [line for line in log_file.read().splitlines() if "caseaudit.access" in line and "/healthz" in line]
    assert len(lines) >= 20, f"only {len(lines)} of 20 requests were logged"
