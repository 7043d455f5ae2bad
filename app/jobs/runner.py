"""Running one attempt of a job, the same on either queue: the job, then its audit-trail events linked into the
chain, and a failure recorded (with its error's kind and safe message, never personal data) for the QA lead."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from sqlmodel import Session

from app.audit_trail.service import audit_chain_link
from app.config import Settings
from app.db import SessionMaker
from app.errors import DomainError
from app.jobs.models import JobFailure
from app.jobs.registry import JobSpec
from app.mail import MailError

log = logging.getLogger("caseaudit.jobs")

SAFE_MESSAGES = (DomainError, MailError)  # errors whose messages are written for people and name no one


def error_text(exc: BaseException) -> str:
    """What a failure page may show of an error: its kind, and its message only where that is known to be safe."""
    kind = type(exc).__name__
    if isinstance(exc, SAFE_MESSAGES):
        return f"{kind}: {exc}"[:1000]
    return kind


def job_attempt(
    spec: JobSpec,
    settings: Settings,
    new_session: SessionMaker,
    kwargs: dict[str, Any],
    *,
    attempt: int,
    job_id: str | None = None,
) -> None:
    """Run the job once; on failure record it and raise again (the queue decides whether to try again)."""
    function = spec.function()
    if attempt > 1 and "attempt" in inspect.signature(function).parameters:
        kwargs = {**kwargs, "attempt": attempt}  # a job that resumes differently when run again is told
    try:
        function(new_session, settings, **kwargs)
    except Exception as exc:
        final = attempt >= spec.max_attempts
        log.error("job %s (attempt %s of %s) failed: %s", spec.name, attempt, spec.max_attempts, type(exc).__name__)
        with new_session() as session:
            failure = JobFailure(job_name=spec.name, job_id=job_id, attempt=attempt, error=error_text(exc), final=final)
            session.add(failure)
            session.commit()
        raise
    finally:
        with new_session() as session:  # the job's audit-trail events, into the chain
            audit_chain_link(session)
            session.commit()


def sessions(engine: Any) -> SessionMaker:
    return lambda: Session(engine, expire_on_commit=False)
