"""Records that read across areas: the printable audit (case facts, answers, grades, moderation, escalations,
replies) for the case file and for inspectors."""
