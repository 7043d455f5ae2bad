"""moderation routes."""

from fastapi import APIRouter

router = APIRouter(tags=["moderation"])
