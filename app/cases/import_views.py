"""Case register routes (import_views); filled in by the case register work (issue 3)."""

from fastapi import APIRouter

router = APIRouter(tags=["cases"])
