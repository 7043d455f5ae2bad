"""Logging set-up: one line per event, no personal data (see the access log in main.py).

Exception messages can quote data: a database error's DETAIL names the duplicate value, a validation error the
input. So no handler ever prints one: `NoExceptionText` replaces a record's exception with its type and where it
was raised (file and line of each frame), which is enough to find the bug and carries nothing from the request.
"""

from __future__ import annotations

import logging
import os
import traceback


class NoExceptionText(logging.Filter):
    """Keep the type and the frames of a logged exception; drop its message (and its causes' messages)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            frames = traceback.extract_tb(exc.__traceback__)
            shown = frames if len(frames) <= 8 else [*frames[:4], *frames[-4:]]  # where it entered, where it broke
            where = " > ".join(f"{os.path.basename(f.filename)}:{f.lineno}" for f in shown)
            record.msg = f"{record.getMessage()} [{type(exc).__module__}.{type(exc).__name__} at {where}]"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


def configure_logging() -> None:
    """One line per event on stderr at LOG_LEVEL; does nothing where logging is already set up (tests, a host app),
    except that every root handler is made to drop exception messages."""
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, NoExceptionText) for f in handler.filters):
            handler.addFilter(NoExceptionText())
