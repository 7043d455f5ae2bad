"""Reading messy extract cells: the cases every real Annex A or 903 file throws at an importer."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.cases.cleaning import (
    CellProblem,
    clean_text,
    coded_value,
    match_headers,
    normalise_header,
    normalise_person_name,
    parse_count,
    parse_date,
    parse_yes_no,
    strip_list_prefix,
)


def test_headers_match_despite_case_spaces_quotes_and_drift():
    headers = [
        "Child Unique ID ",
        "AGE OF CHILD (YEARS)",
        "Number of Episodes the Child has been \u2018Missing\u2019 from their Placement",
    ]
    found = match_headers(
        headers,
        {
            "child_id": ("Child Unique ID",),
            "age": ("Age", "Age of Child (Years)"),
            "missing": (
                "Number of Episodes the Child has been 'Missing' from their Placement in the last 12 months",
                "Number of Episodes the Child has been 'Missing' from their Placement",
            ),
            "team": ("Allocated Team",),
        },
    )
    assert found == {"child_id": 0, "age": 1, "missing": 2}
    assert normalise_header("  Date of  Birth\u00a0") == "date of birth"


def test_short_aliases_do_not_match_longer_headers_by_prefix():
    assert match_headers(["Agency name"], {"age": ("Age",)}) == {}


def test_list_prefixes_and_codes():
    assert strip_list_prefix("a) Male") == "Male"
    assert strip_list_prefix("q) 6: Police") == "6: Police"
    assert coded_value("E1: Placement order") == "E1"
    assert coded_value("f) U6: Foster placement - not FFA") == "U6"
    assert coded_value("e) PR4 - Private provision") == "PR4"
    assert coded_value("N1 - Abuse or Neglect") == "N1"
    assert coded_value("C2") == "C2"
    assert coded_value("k) APKN") == "APKN"


def test_spreadsheet_debris_becomes_blank_with_a_note():
    assert clean_text("#N/A").value is None and "#N/A" in clean_text("#N/A").note
    formula = clean_text("=H2+5")
    assert formula.value is None and "formula" in formula.note
    # In a text file the same characters are text: kept, with no note (short values take the careful path).
    assert tuple(clean_text("=H2+5", formulas=False)) == ("=H2+5", None)
    assert clean_text("=X", formulas=False).value == "=X"
    assert clean_text("  Dustin\u00a0Hazlett ").value == "Dustin Hazlett"
    assert clean_text(None).value is None and clean_text(None).note is None
    assert clean_text(12.0).value == "12"
    assert normalise_person_name("Dustin\u00a0 Hazlett") == "Dustin Hazlett"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (datetime(2020, 9, 16, 0, 0), date(2020, 9, 16)),
        (date(2021, 1, 4), date(2021, 1, 4)),
        ("16/09/2020", date(2020, 9, 16)),
        ("6/9/2020", date(2020, 9, 6)),
        ("16-09-2020", date(2020, 9, 16)),
        ("2020-09-16", date(2020, 9, 16)),
        ("16/09/2020 00:00", date(2020, 9, 16)),
        (44090, date(2020, 9, 16)),
        ("", None),
        ("#N/A", None),
        (None, None),
    ],
)
def test_dates_in_every_shape_a_file_uses(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"), [("31/02/2020", "not a real date"), ("next week", "dd/mm/yyyy"), ("nope", "dd/mm/yyyy")]
)
def test_bad_dates_say_what_is_wrong(raw, message):
    with pytest.raises(CellProblem, match=message):
        parse_date(raw)


def test_yes_no_and_counts():
    assert parse_yes_no("a) Yes") is True
    assert parse_yes_no("b) No") is False
    assert parse_yes_no("Y") is True
    assert parse_yes_no("") is None
    with pytest.raises(CellProblem, match="not Yes or No"):
        parse_yes_no("Maybe")
    assert parse_count(3) == 3
    assert parse_count("2") == 2
    assert parse_count(1.0) == 1
    assert parse_count(None) is None
    for bad in ("two", 1.5, -1):
        with pytest.raises(CellProblem):
            parse_count(bad)
