"""Audits: one auditor's completion of one template version for one case, answer by answer."""
