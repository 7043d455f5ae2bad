"""Corrections of the register's facts by the QA lead, with the reason, kept in the case's history and pinned across
imports while the case system still has the value wrong."""
