"""Logging set-up: one line per event, no personal data (see the access log in main.py)."""

from __future__ import annotations

import logging
import os


def configure_logging() -> None:
    """One line per event on stderr at LOG_LEVEL; does nothing where logging is already set up (tests, a host app)."""
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
