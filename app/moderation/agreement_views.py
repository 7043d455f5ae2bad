"""moderation agreement (HTML) routes."""

from fastapi import APIRouter

router = APIRouter(tags=["moderation agreement (HTML)"])
