"""Audit templates as versioned data, loaded from audit_templates/ (issue 4)."""
