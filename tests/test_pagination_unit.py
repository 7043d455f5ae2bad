"""app.pagination: page bounds and the "Showing 26 to 30 of 30" numbers."""

from __future__ import annotations

import pytest

from app.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, Page, clamp_page


@pytest.mark.parametrize(
    ("page", "page_size", "expected"),
    [
        (None, None, (1, DEFAULT_PAGE_SIZE)),
        (0, 0, (1, DEFAULT_PAGE_SIZE)),
        (-5, -1, (1, 1)),
        (3, 25, (3, 25)),
        (1, MAX_PAGE_SIZE + 1, (1, MAX_PAGE_SIZE)),
        (1, 10**9, (1, MAX_PAGE_SIZE)),
        (7, 1, (7, 1)),
        (10**20, 25, (MAX_PAGE, 25)),  # a huge page number must not overflow the database's OFFSET
    ],
)
def test_clamp_page_keeps_page_and_size_in_bounds(page, page_size, expected):
    assert clamp_page(page, page_size) == expected


def test_default_and_maximum_sizes_are_sensible():
    assert 1 <= DEFAULT_PAGE_SIZE <= MAX_PAGE_SIZE
    assert MAX_PAGE * MAX_PAGE_SIZE < 2**63, "the largest OFFSET fits a 64-bit integer"


@pytest.mark.parametrize(
    ("total", "page_size", "pages"),
    [(0, 25, 1), (1, 25, 1), (25, 25, 1), (26, 25, 2), (30, 25, 2), (50, 25, 2), (51, 25, 3)],
)
def test_pages_rounds_up_and_is_never_zero(total, page_size, pages):
    assert Page(items=[], total=total, page=1, page_size=page_size).pages == pages


def test_first_and_last_index_on_a_full_first_page():
    page = Page(items=list(range(25)), total=30, page=1, page_size=25)
    assert (page.first_index, page.last_index) == (1, 25)


def test_first_and_last_index_on_a_partial_last_page():
    page = Page(items=list(range(5)), total=30, page=2, page_size=25)
    assert (page.first_index, page.last_index) == (26, 30)


def test_empty_result_shows_zero_to_zero():
    page = Page(items=[], total=0, page=1, page_size=25)
    assert (page.first_index, page.last_index) == (0, 0)
