"""Paging of list queries, shared by HTML lists and the JSON API."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlmodel import Session

from app.numbers import digits

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.page_size + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.page_size)


class PageOut(BaseModel, Generic[T]):
    """The JSON shape of a page: `{"items": [...], "total": N, "page": P, "page_size": S}`."""

    items: list[T]
    total: int
    page: int
    page_size: int


def clamp_page(page: int | None, page_size: int | None) -> tuple[int, int]:
    """Page numbers start at 1; sizes are capped so a request cannot ask for everything."""
    page = min(MAX_PAGE, max(1, page or 1))
    page_size = min(MAX_PAGE_SIZE, max(1, page_size or DEFAULT_PAGE_SIZE))
    return page, page_size


def paginate(
    session: Session, stmt: Select[Any], *, page: int | None, page_size: int | None, clamp_to_last: bool = False
) -> Page[Any]:
    """Run `stmt` for one page and count the whole result.

    Pages show people the last page when asked for one past the end (`clamp_to_last`); the API
    returns an empty page instead, so a script that pages until `items` is empty stops.
    """
    page, page_size = clamp_page(page, page_size)
    total = session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    if clamp_to_last:
        page = min(page, max(1, math.ceil(total / page_size)))
    items = list(session.execute(stmt.limit(page_size).offset((page - 1) * page_size)).unique().scalars())
    return Page(items=items, total=total, page=page, page_size=page_size)


def page_number(raw: str | None) -> int:
    """The page a `?page=` asks for: its number, or 1 for anything that is not a sensible page number."""
    return int(raw) if raw and digits(raw) and len(raw) <= 7 else 1
