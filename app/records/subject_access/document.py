"""A child's records as one ZIP: `records.json` (the collected structure as it is), `records.pdf` (the same structure
rendered by `templates/records/subject_access/records.html` through WeasyPrint, standalone: the print stylesheet and
its own styles, nothing fetched) and `README.txt` (what is in it, when it was produced, by whom, which variant)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.audit_templates.prefill import fact_label
from app.config import Settings
from app.dates import long_date
from app.web.documents import documents_environment
from app.web.pdf import STATIC, pdf_of

TEMPLATE = "records/subject_access/records.html"
PRINT_CSS = STATIC / "print.css"
JSON_NAME, PDF_NAME, README_NAME = "records.json", "records.pdf", "README.txt"
MEDIA_TYPE = "application/zip"
VARIANT_NAMES = {"full": "Full", "redacted": "Redacted"}


@dataclass(frozen=True)
class RecordsFile:
    filename: str
    content: bytes
    sha256: str


def _when(value: str | None, tz: ZoneInfo, fmt: str = "%-d %B %Y, %H:%M") -> str:
    """An ISO timestamp or date from the structure as people read it, in the service's time zone."""
    if not value:
        return ""
    if len(value) == 10:
        return long_date(date.fromisoformat(value))
    return datetime.fromisoformat(value).astimezone(tz).strftime(fmt)


def _environment(settings: Settings) -> Any:
    env = documents_environment(settings)
    tz = settings.tz
    env.filters.update(
        when=lambda value, fmt="%-d %B %Y, %H:%M": _when(value, tz, fmt),
        field_label=fact_label,
        plain=lambda value: _plain_value(value, tz),
    )
    return env


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}.*[+-]\d{2}:\d{2}")


def _plain_value(value: Any, tz: ZoneInfo) -> str:
    """A raw value (register fact, correction) as text: Yes/No, lists joined, dates and times written out."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and (ISO_DAY.fullmatch(value) or ISO_TIME.fullmatch(value)):
        return _when(value, tz)
    if isinstance(value, list):
        return ", ".join(_plain_value(v, tz) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain_value(v, tz)}" for k, v in value.items())
    return str(value)


def records_json(records: dict[str, Any]) -> bytes:
    return (json.dumps(records, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def records_pdf(records: dict[str, Any], *, settings: Settings) -> bytes:
    html = _environment(settings).get_template(TEMPLATE).render(r=records, variant_names=VARIANT_NAMES)
    return pdf_of(html, PRINT_CSS)


def records_readme(records: dict[str, Any], *, settings: Settings) -> str:
    about = records["about"]
    variant = about["variant"]
    produced_by = (about.get("produced_by") or {}).get("name") or "not recorded"
    lines = [
        f"Records held about child {about['child_id']}",
        "",
        f"Produced by {about['service']} on {_when(about['produced_at'], settings.tz)} ({settings.timezone}),",
        f"by {produced_by}, in answer to a request for the child's records.",
        "",
        f"Variant: {VARIANT_NAMES.get(variant, variant).lower()}.",
        (
            about.get("redaction", "")
            if variant == "redacted"
            else "Everything, with the names of the staff involved. Check it before it leaves the council: "
            "the redacted variant replaces staff names with labels."
        ),
        "",
        "What is in this file:",
        f"- {PDF_NAME}: the records as a document to read and print.",
        f"- {JSON_NAME}: the same records, machine-readable (UTF-8 JSON, format {about['format']}, "
        f"version {about['schema_version']}).",
        "  Both are made from one collection of the records, so they hold the same information.",
        f"- {README_NAME}: this note.",
        "",
        "The records: the case register's facts about the child and the imports they came from, the audit samples",
        "the case was drawn in, every audit of the case (answers, grades, due date changes, moderation, replies,",
        "section partners, the panel meeting), recommendations and their history, safeguarding escalations and",
        "their chase steps, and who viewed, exported or changed these records and when (from the audit trail).",
        "",
        "Not included:",
        *(f"- {item['what']}: {item['why']}" for item in about.get("not_included", [])),
        "",
        "Confidential: personal data about a child. Keep it secure and share it only as the request allows.",
        "",
    ]
    return "\n".join(lines)


def _zip(files: list[tuple[str, bytes]], when: datetime) -> bytes:
    buffer = io.BytesIO()
    stamp = when.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def records_filename(child_id: str, variant: str, day: date) -> str:
    """`records-C0001234-redacted-2026-11-26.zip`: the child's pseudonymous ID, the variant and the day."""
    child = re.sub(r"[^A-Za-z0-9_-]+", "-", child_id).strip("-")[:40] or "unknown"
    return f"records-{child}-{variant}-{day.isoformat()}.zip"


def records_document(records: dict[str, Any], *, settings: Settings) -> RecordsFile:
    """The ZIP of one collected structure (full or redacted), named for the child, the variant and the day."""
    about = records["about"]
    produced_at = datetime.fromisoformat(about["produced_at"]).astimezone(settings.tz)
    content = _zip(
        [
            (README_NAME, records_readme(records, settings=settings).encode("utf-8")),
            (JSON_NAME, records_json(records)),
            (PDF_NAME, records_pdf(records, settings=settings)),
        ],
        produced_at,
    )
    return RecordsFile(
        filename=records_filename(about["child_id"], about["variant"], produced_at.date()),
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
    )
