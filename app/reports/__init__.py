"""Reports for the boards: grades, compliance with intervals, trends and impact (issue 8)."""
