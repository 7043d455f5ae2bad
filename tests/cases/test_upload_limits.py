"""Uploads the server must not swallow whole: bodies over MAX_UPLOAD_MB and workbooks that unpack to gigabytes."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from fastapi.testclient import TestClient

from app.cases.readers import UploadedFile
from app.cases.readers.annex_a import read, workbook_safety_problem
from app.main import create_app
from tests.conftest import SHARED_DATA, make_test_settings

MB = 1024 * 1024


@pytest.fixture(scope="module")
def small_limit_client(database_url):
    app = create_app(make_test_settings(database_url, max_upload_mb=1))
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def test_an_api_upload_over_the_limit_is_refused_before_it_is_read(small_limit_client):
    response = small_limit_client.post(
        "/api/v1/imports", files={"file": ("big.csv", b"x" * (2 * MB), "text/csv")}, data={"format": "csv"}
    )
    assert response.status_code == 413
    assert "larger than 1 MB" in response.json()["detail"] and "MAX_UPLOAD_MB" in response.json()["detail"]


def test_a_page_upload_over_the_limit_gets_a_page_saying_so(small_limit_client):
    response = small_limit_client.post("/imports/new", files={"file": ("big.csv", b"x" * (2 * MB), "text/csv")})
    assert response.status_code == 413
    assert "The file is too large" in response.text and "larger than 1 MB" in response.text
    assert response.headers["cache-control"] == "no-store"


def test_a_chunked_upload_that_does_not_say_its_size_is_cut_off_at_the_limit(small_limit_client):
    def chunks():
        for _ in range(40):
            yield b"y" * (64 * 1024)  # 2.5 MB in all, with no Content-Length

    response = small_limit_client.post(
        "/login", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413 and "larger than 1 MB" in response.text


def test_an_upload_under_the_limit_goes_through_to_the_route(small_limit_client):
    response = small_limit_client.post("/api/v1/imports", files={"file": ("small.csv", b"child_id\n", "text/csv")})
    assert response.status_code == 401  # reached the route's sign-in check: only the size was in question


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_workbook_that_unpacks_to_far_more_than_it_weighs_is_not_opened():
    bomb = _zip({"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b"0" * (40 * MB)})
    assert len(bomb) < MB // 4
    assert "unpacks to far more data" in workbook_safety_problem(bomb)
    result = read([UploadedFile("Annex_A.xlsx", bomb)], today=date(2026, 11, 26))
    assert result.rows == [] and "unpacks to far more data" in result.problems[0].message
    assert result.problems[0].sheet == "Annex_A.xlsx"


def test_huge_shared_strings_are_refused_even_when_they_compress_modestly(monkeypatch):
    import os

    from app.cases.readers import annex_a

    monkeypatch.setattr(annex_a, "MAX_SHARED_STRINGS_BYTES", MB)  # the same rule at a size a test can afford
    noise = os.urandom(MB).hex().encode()  # 2 MB that barely compresses
    assert workbook_safety_problem(_zip({"xl/sharedStrings.xml": noise})) is not None
    assert workbook_safety_problem(_zip({"xl/worksheets/sheet1.xml": noise})) is None


def test_the_real_sample_workbook_passes_the_check():
    assert workbook_safety_problem((SHARED_DATA / "annex-a-sample" / "Annex_A.xlsx").read_bytes()) is None
    assert workbook_safety_problem(b"not a zip at all") is None  # openpyxl reports that one
