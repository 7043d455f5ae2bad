"""The case register: child-level extracts (Annex A, SSDA903, canonical CSV) imported as the sampling frame (issue 3)."""
