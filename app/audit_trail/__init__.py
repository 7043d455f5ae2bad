"""The append-only, hash-chained record of who did what and when."""
