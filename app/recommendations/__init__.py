"""Recommendations tracked until closed, and the head of service's view (issue 7)."""
