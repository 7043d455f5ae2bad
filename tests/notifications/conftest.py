"""Fixtures for the email outbox and the jobs that fill and empty it: a real SMTP server on 127.0.0.1
(`tests.test_mail`'s); the sessions a job opens are tests.conftest's `job_sessions`."""

from __future__ import annotations

from tests.test_mail import smtp_server  # noqa: F401  (the fixture: a real SMTP server for the test)
