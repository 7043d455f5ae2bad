"""practitioner replies (HTML) routes."""

from fastapi import APIRouter

router = APIRouter(tags=["practitioner replies (HTML)"])
