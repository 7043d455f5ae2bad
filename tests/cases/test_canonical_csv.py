"""The canonical CSV reader: good rows become facts; every class of error is located and worded for people."""

from __future__ import annotations

from datetime import date

from app.cases.facts import CaseType
from app.cases.readers import UploadedFile
from app.cases.readers.canonical_csv import read

TODAY = date(2025, 6, 15)
HEADER = "child_id,case_type,status,start_date,end_date,birth_year,birth_month,team,last_statutory_visit,child_seen,missing_12m"


def _read(*lines: str, header: str = HEADER, name: str = "register.csv"):
    content = "\n".join([header, *lines]).encode()
    return read([UploadedFile(name, content)], today=TODAY)


def _errors(result):
    return [(p.row, p.column, p.value, p.message) for p in result.problems if p.severity == "error"]


def test_good_rows_become_facts_with_either_date_style():
    result = _read(
        "C1,cla,open,01/02/2024,,2015,3,North  Team,2025-05-01,Yes,2",
        "C1,cp,closed,2023-01-01,31/01/2024,2015,3,,,,",
    )
    assert _errors(result) == []
    assert result.rows_read == 2
    first, second = result.rows
    assert (first.child_id, first.case_type, first.start_date, first.end_date) == (
        "C1",
        CaseType.CLA,
        date(2024, 2, 1),
        None,
    )
    assert first.team_name == "North Team"
    assert first.facts["last_statutory_visit"] == date(2025, 5, 1)
    assert first.facts["child_seen"] is True and first.facts["missing_12m"] == 2
    assert first.facts["age_at_extract"] == 10
    assert second.end_date == date(2024, 1, 31) and not second.open


def test_headers_match_whatever_the_case_and_spacing():
    result = _read("C9,Child in need", header=" Child ID , CASE TYPE ")
    assert _errors(result) == []
    assert result.rows[0].case_type == CaseType.CIN


def test_missing_child_id():
    assert _errors(_read(",cla,open,,,,,,,,")) == [(2, "child_id", None, "The child ID is missing")]


def test_unknown_case_type_names_the_choices():
    [(row, column, value, message)] = _errors(_read("C1,foster,open,,,,,,,,"))
    assert (row, column, value) == (2, "case_type", "foster")
    assert "not a case type" in message and "care_leaver" in message


def test_bad_date_and_impossible_date():
    errors = _errors(_read("C1,cla,open,2024/13/45,,,,,,,", "C2,cla,open,31/02/2024,,,,,,,"))
    assert errors[0][:3] == (2, "start_date", "2024/13/45") and "dd/mm/yyyy" in errors[0][3]
    assert errors[1][:3] == (3, "start_date", "31/02/2024") and "not a real date" in errors[1][3]


def test_duplicate_child_and_case_type_points_at_the_first_row():
    errors = _errors(_read("C1,cla,open,,,,,,,,", "C2,cla,open,,,,,,,,", "C1,cla,open,,,,,,,,"))
    assert errors == [
        (4, "child_id", "C1", "Child C1 already has a cla row (row 2); give each child one row per case type")
    ]


def test_end_before_start():
    [(row, column, value, message)] = _errors(_read("C1,cla,closed,01/05/2024,01/04/2024,,,,,,"))
    assert (row, column, value) == (2, "end_date", "01/04/2024")
    assert "before the start date" in message


def test_future_birth():
    [(row, column, _, message)] = _errors(_read("C1,cla,open,,,2025,9,,,,"))
    assert (row, column, message) == (2, "birth_year", "The date of birth is in the future")


def test_status_and_dates_must_agree():
    errors = _errors(_read("C1,cla,open,,01/01/2024,,,,,,", "C2,cla,closed,,,,,,,,", "C3,cla,pending,,,,,,,,"))
    assert [(e[0], e[1]) for e in errors] == [(2, "status"), (3, "end_date"), (4, "status")]


def test_bad_yes_no_and_count():
    errors = _errors(_read("C1,cla,open,,,,,,,maybe,lots"))
    assert [(e[1], e[2]) for e in errors] == [("child_seen", "maybe"), ("missing_12m", "lots")]


def test_a_too_long_value_is_an_error_not_a_database_failure():
    errors = _errors(_read("C" + "1" * 50 + ",cla,open,,,,,,,,"))
    assert errors[0][1] == "child_id" and "longer than 40" in errors[0][3]


def test_missing_required_column_stops_the_file():
    result = _read("C1,open", header="child_id,status")
    assert result.rows == []
    assert _errors(result) == [(1, "case_type", None, "The column case_type is missing. The header row must name it.")]


def test_a_file_that_is_not_csv():
    result = read([UploadedFile("Annex_A.xlsx", b"PK\x03\x04" + bytes(range(256)))], today=TODAY)
    assert result.rows == []
    [problem] = result.problems
    assert problem.sheet == "Annex_A.xlsx" and "not a CSV file" in problem.message


def test_unused_columns_and_spreadsheet_debris_are_warnings():
    result = _read("C1,cla,open,,,#N/A,,,,,", header=HEADER.replace(",missing_12m", ",postcode"))
    assert _errors(result) == []
    warnings = [(p.column, p.message) for p in result.problems if p.severity == "warning"]
    assert ("postcode", "The column postcode is not used") in warnings
    assert any(column == "birth_year" and "treated as blank" in message for column, message in warnings)
    assert len(result.rows) == 1


def test_a_team_that_starts_with_an_equals_sign_is_kept_as_text_not_blanked():
    # In a CSV file "=..." is what someone typed, not a formula: blanking it would leave the case without a team
    # and so without a service area. Exports neutralise it, so it never runs as a formula in a spreadsheet.
    result = _read("C2,cla,open,01/02/2024,,2015,3,=Team North,,,")
    assert _errors(result) == []
    assert [p for p in result.problems if p.column == "team"] == []
    assert result.rows[0].team_name == "=Team North"
