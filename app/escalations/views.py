"""safeguarding escalations (HTML) routes."""

from fastapi import APIRouter

router = APIRouter(tags=["safeguarding escalations (HTML)"])
