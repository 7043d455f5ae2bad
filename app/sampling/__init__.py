"""Audit programme, sampling and allocation (issue 5)."""
