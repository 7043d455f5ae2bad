"""Audit templates: versioned definitions (YAML in `audit_templates/`), their rules and the audit form."""
