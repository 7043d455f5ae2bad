"""Moderation of a share of audits, and agreement between auditors and moderators (issue 6)."""
