"""The audit programme, cycles, statistically sound samples and allocation (issue 5)."""
