"""printable audits (HTML, PDF) routes."""

from fastapi import APIRouter

router = APIRouter(tags=["printable audits (HTML, PDF)"])
