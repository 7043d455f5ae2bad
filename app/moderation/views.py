"""moderation (HTML) routes."""

from fastapi import APIRouter

router = APIRouter(tags=["moderation (HTML)"])
