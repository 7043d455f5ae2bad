"""audit workflow (HTML) routes."""

from fastapi import APIRouter

router = APIRouter(tags=["audit workflow (HTML)"])
