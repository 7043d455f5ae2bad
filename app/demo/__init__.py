"""Synthetic demonstration data: never real people or children."""
