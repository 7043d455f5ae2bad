"""Case register routes (api); filled in by the case register work (issue 3)."""

from fastapi import APIRouter

router = APIRouter(tags=["cases"])
