"""Background work on a job queue: Procrastinate on PostgreSQL, a thread in the app process on SQLite; the same
job functions (`registry.JOBS`) either way."""
