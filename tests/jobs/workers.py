"""`caseaudit worker` processes for tests that need the PostgreSQL job queue to run: real workers on a test's
database, stopped (SIGTERM, then SIGKILL) when done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_SECRET_KEY

STALLED_AFTER = 3  # seconds: JOB_STALLED_AFTER_SECONDS for these workers


def worker_start(url: str, log_dir: Path, name: str, **env: str) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "ENVIRONMENT": "test",
        "JOB_STALLED_AFTER_SECONDS": str(STALLED_AFTER),
        "AUDIT_TRAIL_CHECKPOINT_DIR": str(log_dir / "checkpoints"),
        **env,
    }
    log = (log_dir / f"worker-{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "worker", "--name", name],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def workers_stop(*workers: subprocess.Popen[bytes]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
