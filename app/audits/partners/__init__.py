"""Multi-agency audits: each agency's section assigned to a partner representative, and the panel meeting record."""
