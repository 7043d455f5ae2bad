"""Printable documents as PDF (WeasyPrint): the shared paged-media stylesheet (`static/paged.css`: A4, the title
and page numbers) under the document's own."""

from __future__ import annotations

from pathlib import Path

from app.config import PROJECT_DIR

STATIC = PROJECT_DIR / "app" / "static"
PAGED_CSS = STATIC / "paged.css"


def pdf_of(html: str, stylesheet: Path) -> bytes:
    """`html` as PDF, with paged.css and then `stylesheet`. The HTML must reference nothing outside itself (charts
    inline), so WeasyPrint fetches nothing."""
    from weasyprint import CSS, HTML  # imported here: it loads Pango, which only the PDFs need

    sheets = [CSS(filename=str(PAGED_CSS)), CSS(filename=str(stylesheet))]
    return HTML(string=html, base_url=None).write_pdf(stylesheets=sheets)
