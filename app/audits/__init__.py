"""Audit forms, answers and the audit workflow (issue 6)."""
