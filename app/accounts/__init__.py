"""People, teams, service areas, roles, training records, sign-in and tokens."""
