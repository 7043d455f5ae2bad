"""Retention: the schedule of how long each kind of record is kept, legal holds, and the run that removes or
anonymises what is due."""
