"""Annex A reader: the real sample workbook, and a hand-made broken workbook for every problem class."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from app.cases.facts import CaseType, merge_rows
from app.cases.readers import READERS, ReadResult, UploadedFile, get_reader
from app.cases.readers.annex_a import list_number, read

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "annex-a-sample" / "Annex_A.xlsx"
TODAY = date(2021, 6, 1)

L8_HEADERS = [
    "Child Unique ID",
    "Gender",
    "Ethnicity",
    "Date of Birth",
    "Age",
    "Date Started to be Looked After",
    "Child's Legal Status",
    "Child's Category of Need",
    "Number of Placements in the Last 12 months",
    "Date Ceased to be Looked After",
    "Number of Episodes the Child has been \u2018Missing\u2019 from their Placement in the last 12 months",
    "Number of Episodes the Child has been \u2018Absent\u2019 from their Placement in the last 12 months",
    "Allocated Team",
    "Allocated Worker",
]


def _good_l8(child_id="100", **changes):
    row = {
        "Child Unique ID": child_id,
        "Gender": "a) Male",
        "Ethnicity": "a) WBRI",
        "Date of Birth": datetime(2010, 4, 5),
        "Age": 11.2,
        "Date Started to be Looked After": datetime(2019, 1, 2),
        "Child's Legal Status": "C2: FCO",
        "Child's Category of Need": "N1 - Abuse or Neglect",
        "Number of Placements in the Last 12 months": 2,
        "Date Ceased to be Looked After": None,
        L8_HEADERS[10]: 1,
        L8_HEADERS[11]: 0,
        "Allocated Team": "CiC Team",
        "Allocated Worker": "Ann Smith",
    }
    row.update(changes)
    return row


def workbook(sheets: dict[str, tuple[list[str], list[dict]]]) -> UploadedFile:
    """A workbook with one sheet per list: headers and rows given as dicts (missing keys blank)."""
    book = Workbook()
    book.remove(book.active)
    for title, (headers, rows) in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(headers)
        for row in rows:
            sheet.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    book.save(buffer)
    return UploadedFile("test.xlsx", buffer.getvalue())


def read_one(sheets) -> ReadResult:
    return read([workbook(sheets)], today=TODAY)


def errors(result: ReadResult):
    return [p for p in result.problems if p.severity == "error"]


def warnings(result: ReadResult):
    return [p for p in result.problems if p.severity == "warning"]


# ---------------------------------------------------------------- the real sample


@pytest.fixture(scope="module")
def sample() -> ReadResult:
    return read([UploadedFile("Annex_A.xlsx", SAMPLE.read_bytes())], today=TODAY)


def test_sample_reads_without_errors(sample):
    assert errors(sample) == []
    assert sample.rows_read == 49 == len(sample.rows)
    # '#N/A' in List 6 and formulas in List 10 are warnings naming sheet, row, column and value.
    na = [p for p in warnings(sample) if p.value == "#N/A"]
    assert {(p.sheet, p.column) for p in na} == {("List 6", "Allocated Team"), ("List 6", "Allocated Worker")}
    assert len(na) == 10
    formula = next(p for p in warnings(sample) if p.sheet == "List 10")
    assert formula.row == 2 and formula.value == "=H2+5" and "formula" in formula.message.lower()


def test_sample_child_ids_per_list(sample):
    by_list: dict[str, list[str]] = {}
    for row in sample.rows:
        by_list.setdefault(row.list_key, []).append(row.child_id)
    assert by_list == {
        "List 2": ["612306", "6890906", "8778646", "10600594", "16216178"],
        "List 3": ["6537810", "4653765", "997679", "14007367", "10897459", "11096583"],
        "List 4": ["10692868", "15221387", "12590177", "15765513", "12012513"],
        "List 5": ["11641472", "6537810", "10273003", "4073694", "11578763"],
        "List 6": ["12598894", "8140425", "10160219", "7657294", "6434087"],
        "List 7": ["10721552", "5358472", "14953858", "16036763", "9396243", "11811692", "6913085"],
        "List 8": ["1761444", "1373595", "14065184", "2529037", "3623204"],
        "List 9": ["7961370", "10414520", "13782635", "4939073", "6102196", "2295089"],
        "List 10": ["7961370", "10414520", "13782635", "4939073", "6102196"],
    }
    assert {row.case_type for row in sample.rows if row.list_key == "List 5"} == {CaseType.ASSESSMENT}


def test_sample_list_8_facts(sample):
    row = next(r for r in sample.rows if r.list_key == "List 8" and r.child_id == "1761444")
    assert row.case_type == CaseType.CLA and row.sheet == "List 8" and row.row == 2
    assert row.start_date == date(2009, 8, 6) and row.end_date is None
    assert row.team_name == "Children in Care Team 1"
    f = row.facts
    assert (f["birth_year"], f["birth_month"]) == (2002, 2)
    assert "age_at_extract" not in f  # only kept when there is no date of birth
    assert f["legal_status"] == "E1" and f["primary_need"] == "N1" and f["placements_12m"] == 1
    assert f["worker_name"] == "Eugene Swift" and f["gender"] == "Female" and f["ethnicity"] == "NOBT"
    assert f["latest_review"] == date(2021, 1, 12) and f["last_statutory_visit"] == date(2021, 1, 6)
    assert f["last_iro_contact"] == date(2021, 1, 12) and f["last_dental_check"] == date(2020, 1, 17)
    assert f["missing_12m"] == 0 and f["absent_12m"] == 0
    # no postcode, no full date of birth anywhere in the facts
    assert not any(isinstance(v, str) and "T28" in v for v in f.values())
    assert all(not isinstance(v, datetime) for v in f.values())
    ceased = next(r for r in sample.rows if r.child_id == "3623204")
    assert ceased.end_date == date(2020, 9, 22) and not ceased.open


def test_sample_other_lists(sample):
    rows = {(r.list_key, r.child_id): r for r in sample.rows}
    referral = rows["List 3", "6537810"]
    assert referral.facts["worker_name"] == "Dustin Hazlett"  # non-breaking space folded
    assert (
        referral.facts["referral_date"] == date(2020, 9, 16) and referral.team_name == "Multi Agency Safeguarding Hub"
    )
    assessment = rows["List 4", "10692868"]
    assert assessment.facts["child_seen"] is True and assessment.facts["disability"] is False
    assert assessment.end_date == assessment.facts["assessment_authorised"] == date(2021, 2, 8)
    cp = rows["List 7", "10721552"]
    assert cp.facts["category_of_abuse"] == "PHY" and cp.facts["seen_alone"] is True
    assert cp.facts["latest_review"] == date(2021, 2, 16) and cp.end_date == date(2021, 2, 16)
    cin = rows["List 6", "8140425"]
    assert cin.facts["primary_need"] == "N1" and cin.team_name is None and "worker_name" not in cin.facts
    assert rows["List 2", "6890906"].facts["gender"] == "Not stated/recorded"


def test_sample_primary_need_from_another_code_list_is_a_warning(sample):
    problem = next(p for p in sample.problems if p.column == "Primary Need Code")
    assert problem.severity == "warning" and problem.row == 2 and problem.value.startswith("PSRMEM")
    assert "primary_need" not in next(r for r in sample.rows if r.child_id == "12598894").facts


def test_child_in_cin_and_cla_lists_merges_to_one_cla_case():
    result = read_one(
        {
            "List 6": (
                ["Child Unique ID", "CIN Start Date", "Primary Need Code", "CIN Closure Date", "Allocated Team"],
                [
                    {
                        "Child Unique ID": "77",
                        "CIN Start Date": datetime(2018, 1, 1),
                        "Primary Need Code": "N2 - Child's disability",
                        "Allocated Team": "CIN Team",
                    }
                ],
            ),
            "List 8": (L8_HEADERS, [_good_l8("77")]),
        }
    )
    assert errors(result) == []
    case = merge_rows(r for r in result.rows if r.child_id == "77")
    assert case.case_type == CaseType.CLA and case.status == "open"
    assert case.source_lists == ["List 6", "List 8"]
    assert case.team_name == "CiC Team" and case.facts["primary_need"] == "N1"  # the most intensive list wins


# ---------------------------------------------------------------- sheets and headers


@pytest.mark.parametrize(
    ("title", "number"),
    [
        ("List 8", 8),
        ("L8", 8),
        ("List 8 - Children in care", 8),
        ("list8", 8),
        ("LIST 10", 10),
        ("Cover", None),
        ("Lookups", None),
    ],
)
def test_sheet_names_matched_tolerantly(title, number):
    assert list_number(title) == number


def test_sheet_named_l8_and_unknown_sheet_warned():
    result = read_one({"L8": (L8_HEADERS, [_good_l8()]), "Notes": (["x"], [])})
    assert [r.list_key for r in result.rows] == ["List 8"]
    assert any(p.sheet == "Notes" and p.severity == "warning" for p in result.problems)


def test_list_1_and_11_ignored():
    result = read_one(
        {
            "List 1": (["Child Unique ID", "Date of Contact"], [{"Child Unique ID": "1"}]),
            "List 11": (["Individual adopter identifier"], [{"Individual adopter identifier": "2"}]),
        }
    )
    assert result.rows == [] and result.problems == [] and result.rows_read == 0


def test_header_drift_curly_quotes_and_age_of_child():
    headers = [
        "Child ID ",
        "GENDER",
        "Ethnicity",
        "Age of Child (Years)",
        "Date Started to be Looked After",
        "Child's Legal Status",
        "Number of Episodes the Child has been \u2018Missing\u2019 from their Placement in the last 12 months",
        "Number of Episodes the Child has been \u2018Absent\u2019 from their Placement in the last 12 months",
        "Was the child offered a Return Interview after their last missing episode (Y/N)?",
        "Did the child accept a Return Interview after their last missing episode (Y/N)?",
    ]
    row = dict(
        zip(headers, ["9", "b) Female", "k) APKN", 14, "01/02/2020", "V2", 3, 1, "a) Yes", "b) No"], strict=False)
    )
    result = read_one({"List 8": (headers, [row])})
    assert errors(result) == []
    facts = result.rows[0].facts
    assert facts["age_at_extract"] == 14 and "birth_year" not in facts
    assert facts["missing_12m"] == 3 and facts["absent_12m"] == 1
    assert facts["return_interview_offered"] is True and facts["return_interview_accepted"] is False
    assert facts["gender"] == "Female" and facts["ethnicity"] == "APKN" and facts["legal_status"] == "V2"
    assert result.rows[0].start_date == date(2020, 2, 1)


def test_dates_as_excel_serials_and_text_and_non_breaking_spaces():
    rows = [
        _good_l8(
            "1",
            **{
                "Date Started to be Looked After": 43831,
                "Date of Birth": "05/04/2010",
                "Allocated Worker": "\u00a0Ann\u00a0\u00a0Smith\u00a0",
            },
        )
    ]
    result = read_one({"List 8": (L8_HEADERS, rows)})
    assert errors(result) == []
    row = result.rows[0]
    assert row.start_date == date(2020, 1, 1)
    assert (row.facts["birth_year"], row.facts["birth_month"]) == (2010, 4)
    assert row.facts["worker_name"] == "Ann Smith"


# ---------------------------------------------------------------- every error class


def _only_error(result: ReadResult):
    found = errors(result)
    assert len(found) == 1, found
    return found[0]


def test_missing_child_id():
    result = read_one({"List 8": (L8_HEADERS, [_good_l8("1"), _good_l8(None)])})
    problem = _only_error(result)
    assert (problem.sheet, problem.row, problem.column) == ("List 8", 3, "Child Unique ID")
    assert "child ID is missing" in problem.message
    assert [r.child_id for r in result.rows] == ["1"]


def test_duplicate_child_id_within_a_list():
    result = read_one({"List 8": (L8_HEADERS, [_good_l8("5"), _good_l8("6"), _good_l8("5")])})
    problem = _only_error(result)
    assert (problem.row, problem.value) == (4, "5") and "twice" in problem.message and "row 2" in problem.message
    assert [r.child_id for r in result.rows] == ["5", "6"]


def test_same_child_in_two_lists_is_not_a_duplicate():
    cp = (
        ["Child Unique ID", "Child Protection Plan Start Date"],
        [{"Child Unique ID": "5", "Child Protection Plan Start Date": datetime(2020, 1, 1)}],
    )
    result = read_one({"List 7": cp, "List 8": (L8_HEADERS, [_good_l8("5")])})
    assert errors(result) == [] and len(result.rows) == 2


def test_bad_date_text():
    result = read_one(
        {
            "List 8": (
                L8_HEADERS,
                [
                    _good_l8("1", **{"Date Started to be Looked After": "31/02/2020"}),
                    _good_l8("2", **{"Date Ceased to be Looked After": "next week"}),
                ],
            )
        }
    )
    found = errors(result)
    assert [(p.row, p.column, p.value) for p in found] == [
        (2, "Date Started to be Looked After", "31/02/2020"),
        (3, "Date Ceased to be Looked After", "next week"),
    ]
    assert "not a real date" in found[0].message and "dd/mm/yyyy" in found[1].message
    assert result.rows == []


def test_future_date_of_birth():
    problem = _only_error(
        read_one({"List 8": (L8_HEADERS, [_good_l8("1", **{"Date of Birth": datetime(2022, 1, 1)})])})
    )
    assert problem.column == "Date of Birth" and problem.value == "01/01/2022" and "future" in problem.message


def test_end_before_start():
    problem = _only_error(
        read_one(
            {"List 8": (L8_HEADERS, [_good_l8("1", **{"Date Ceased to be Looked After": datetime(2018, 12, 31)})])}
        )
    )
    assert problem.column == "Date Ceased to be Looked After" and "before the start date" in problem.message


def test_missing_required_column():
    headers = [h for h in L8_HEADERS if h != "Date Started to be Looked After"]
    result = read_one({"List 8": (headers, [_good_l8("1")])})
    problem = _only_error(result)
    assert problem.sheet == "List 8" and problem.row == 1 and problem.column == "Date Started to be Looked After"
    assert "List 8" in problem.message and result.rows == []


def test_a_list_with_its_headers_covers_its_kind_even_with_no_rows():
    """What a full import may close: an empty List 8 says there are no children looked after."""
    result = read_one({"List 8": (L8_HEADERS, []), "List 7": (["Child Unique ID", "Gender"], [])})
    assert result.rows == [] and result.kinds_found == {CaseType.CLA}  # List 7 lacks its required columns
    headers = [h for h in L8_HEADERS if h != "Date Started to be Looked After"]
    assert read_one({"List 8": (headers, [_good_l8("1")])}).kinds_found == set()


def test_sheet_without_child_id_column():
    result = read_one({"List 7": (["Name", "Child Protection Plan Start Date"], [{"Name": "x"}])})
    assert _only_error(result).column == "Child Unique ID"


@pytest.mark.parametrize(
    ("header", "value", "fragment"),
    [
        ("Child's Legal Status", "X9: Made up", "legal status code"),
        ("Child's Category of Need", "N12", "primary need code"),
    ],
)
def test_unknown_code_where_a_code_list_is_defined(header, value, fragment):
    problem = _only_error(read_one({"List 8": (L8_HEADERS, [_good_l8("1", **{header: value})])}))
    assert problem.column == header and problem.value == value and fragment in problem.message


def test_unknown_gender_and_ethnicity_kept_as_given():
    result = read_one({"List 8": (L8_HEADERS, [_good_l8("1", Gender="d) Non-binary", Ethnicity="ZZZZ")])})
    assert errors(result) == []
    assert result.rows[0].facts["gender"] == "Non-binary" and result.rows[0].facts["ethnicity"] == "ZZZZ"


def test_bad_yes_no_and_count():
    headers = [*L8_HEADERS, "Does the Child have a Disability"]
    result = read_one(
        {
            "List 8": (
                headers,
                [
                    _good_l8(
                        "1",
                        **{
                            "Does the Child have a Disability": "maybe",
                            "Number of Placements in the Last 12 months": "two",
                        },
                    )
                ],
            )
        }
    )
    assert {p.column for p in errors(result)} == {
        "Does the Child have a Disability",
        "Number of Placements in the Last 12 months",
    }


def test_na_blank_and_formula_cells_are_warnings_not_errors():
    rows = [
        _good_l8(
            "1",
            **{
                "Allocated Team": "#N/A",
                "Date Ceased to be Looked After": "=F2+5",
                "Child's Legal Status": "",
                "Date of Birth": None,
            },
        )
    ]
    result = read_one({"List 8": (L8_HEADERS, rows)})
    assert errors(result) == []
    assert {(p.row, p.column, p.value) for p in warnings(result)} == {
        (2, "Allocated Team", "#N/A"),
        (2, "Date Ceased to be Looked After", "=F2+5"),
    }
    row = result.rows[0]
    assert row.team_name is None and row.end_date is None and "legal_status" not in row.facts
    assert row.facts["age_at_extract"] == 11  # no date of birth: the age is kept instead


def test_blank_rows_skipped_and_not_counted():
    result = read_one({"List 8": (L8_HEADERS, [_good_l8("1"), {}, _good_l8("2")])})
    assert result.rows_read == 2 and [r.row for r in result.rows] == [2, 4]


def test_referral_nfa_closes_the_referral():
    headers = ["Child Unique ID", "Date of Referral", "Referral NFA?"]
    result = read_one(
        {
            "List 3": (
                headers,
                [{"Child Unique ID": "1", "Date of Referral": datetime(2020, 9, 1), "Referral NFA?": "Yes"}],
            )
        }
    )
    assert result.rows[0].end_date == date(2020, 9, 1)


def test_not_a_workbook():
    result = read([UploadedFile("notes.xlsx", b"not a zip")], today=TODAY)
    assert _only_error(result).sheet == "notes.xlsx"


def test_readers_registry():
    assert set(READERS) == {"annex_a", "ssda903", "csv"}
    assert get_reader("annex_a") is read
    with pytest.raises(ValueError):
        get_reader("xml")
    result = READERS["annex_a"]([UploadedFile("Annex_A.xlsx", SAMPLE.read_bytes())], today=TODAY)
    assert len(result.rows) == 49
