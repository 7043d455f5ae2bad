"""SSDA903 reader: the real fake-data return, and hand-made broken CSVs for every problem class."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.cases.facts import CaseType
from app.cases.readers import READERS, ReadResult, UploadedFile
from app.cases.readers.ssda903 import read

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "ssda903-fake"
TODAY = date(2025, 1, 1)

HEADER = "CHILD,SEX,DOB,ETHNIC,UPN\n1,1,05/04/2010,WBRI,X1\n2,2,06/07/2012,a) APKN,X2\n"
EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,HOME_POST,PL_POST\n"
    "1,01/01/2016,S,V2,N1,U1,PR1,01/06/2017,X1,AB1 2CD,EF3 4GH\n"
    "1,01/06/2017,P,C2,N1,U4,PR1,01/03/2018,X1,,\n"
    "1,01/03/2018,L,E1,N2,U4,PR1,,,,\n"
    "2,01/02/2015,S,C1,N4,U1,PR1,01/03/2015,E3,,\n"
    "2,10/10/2017,S,V2,N5,K2,PR1,31/03/2018,E4,,\n"
)
REVIEWS = "CHILD,DOB,REVIEW,REVIEW_CODE\n1,05/04/2010,01/02/2018,PN1\n1,05/04/2010,01/08/2017,PN1\n"
MISSING = (
    "CHILD,DOB,MISSING,MIS_START,MIS_END\n1,05/04/2010,M,01/01/2018,02/01/2018\n"
    "1,05/04/2010,M,01/01/2016,02/01/2016\n1,05/04/2010,A,01/02/2018,01/02/2018\n"
)


def files(**tables: str) -> list[UploadedFile]:
    base = {"header": HEADER, "episodes": EPISODES, "reviews": REVIEWS, "missing": MISSING}
    base.update(tables)
    return [UploadedFile(f"{name}.csv", text.encode()) for name, text in base.items() if text is not None]


def read_set(**tables: str) -> ReadResult:
    return read(files(**tables), today=TODAY)


def errors(result):
    return [p for p in result.problems if p.severity == "error"]


def only_error(result):
    found = errors(result)
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------- the real fake return


@pytest.fixture(scope="module")
def real() -> ReadResult:
    uploads = [UploadedFile(p.name, p.read_bytes()) for p in sorted(DATA.glob("*.csv"))]
    return read(uploads, today=TODAY)


def test_real_return_reads_without_errors(real):
    assert errors(real) == []
    assert len(real.rows) == 2123 == len({r.child_id for r in real.rows})  # distinct children with episodes
    ignored = {p.sheet for p in real.problems if "ignored" in p.message and p.row is None and p.column is None}
    assert ignored == {"oc3.csv", "uasc.csv"}
    assert any(p.sheet == "header.csv" and "no episodes" in p.message for p in real.problems)


def test_real_return_child_facts(real):
    row = next(r for r in real.rows if r.child_id == "566910")
    assert row.case_type == CaseType.CLA and row.list_key == "episodes" and row.sheet == "episodes.csv"
    assert row.row == 3  # the latest of its 2 episodes
    assert row.start_date == date(2016, 2, 15) and row.end_date is None  # two episodes, one run of care
    f = row.facts
    assert f["legal_status"] == "C2" and f["primary_need"] == "N3"
    assert (f["birth_year"], f["birth_month"]) == (2008, 3) and f["gender"] == "Female" and f["ethnicity"] == "WROM"
    assert f["placements_12m"] == 1  # the episode of 14/08/2017 is inside the 12 months to 01/04/2018
    assert f["latest_review"] == date(2018, 10, 8)
    assert f["missing_12m"] == 0 and f["absent_12m"] == 0
    assert not any(isinstance(v, str) and ("EG19" in v or "D051" in v) for v in f.values())  # no postcode, no UPN
    absent = next(r for r in real.rows if r.child_id == "510000")
    assert absent.facts["absent_12m"] == 1 and absent.facts["missing_12m"] == 0
    assert next(r for r in real.rows if r.child_id == "92296").facts["missing_12m"] == 1


def test_registry_reads_903():
    result = READERS["ssda903"](files(), today=TODAY)
    assert {r.child_id for r in result.rows} == {"1", "2"}


# ---------------------------------------------------------------- rules


def test_period_of_care_legal_status_and_12_month_counts():
    result = read_set()
    assert errors(result) == []
    rows = {r.child_id: r for r in result.rows}
    one, two = rows["1"], rows["2"]
    # reference date = latest episode/missing date = 31/03/2018; window 01/04/2017 excluded .. 31/03/2018
    assert one.start_date == date(2016, 1, 1) and one.open and one.row == 4
    assert one.facts["legal_status"] == "E1" and one.facts["primary_need"] == "N2"
    assert one.facts["placements_12m"] == 1  # 01/06/2017 (P); 01/03/2018 is a legal status change only (L)
    assert one.facts["latest_review"] == date(2018, 2, 1)
    assert one.facts["missing_12m"] == 1 and one.facts["absent_12m"] == 1
    assert (one.facts["birth_year"], one.facts["birth_month"], one.facts["gender"]) == (2010, 4, "Male")
    # child 2: a new period of care after a gap, now ended
    assert two.start_date == date(2017, 10, 10) and two.end_date == date(2018, 3, 31) and not two.open
    assert two.facts["ethnicity"] == "APKN" and two.facts["gender"] == "Female"
    assert two.facts["missing_12m"] == 0 and "latest_review" not in two.facts


def test_files_identified_by_columns_not_name():
    uploads = [UploadedFile("export_a.csv", HEADER.encode()), UploadedFile("export_b.csv", EPISODES.encode())]
    result = read(uploads, today=TODAY)
    assert errors(result) == [] and len(result.rows) == 2
    assert "missing_12m" not in result.rows[0].facts  # no missing table uploaded: unknown, not 0


def test_bom_and_crlf():
    uploads = [
        UploadedFile("header.csv", b"\xef\xbb\xbf" + HEADER.replace("\n", "\r\n").encode()),
        UploadedFile("episodes.csv", EPISODES.encode()),
    ]
    assert errors(read(uploads, today=TODAY)) == []


def test_header_or_episodes_table_missing():
    result = read([UploadedFile("episodes.csv", EPISODES.encode())], today=TODAY)
    assert "header" in only_error(result).message and result.rows == []


# ---------------------------------------------------------------- every error class


def test_child_in_episodes_but_not_header():
    result = read_set(episodes=EPISODES + "3,01/01/2018,S,V2,N1,U1,PR1,,,,\n")
    problem = only_error(result)
    assert (problem.sheet, problem.row, problem.column, problem.value) == ("episodes.csv", 7, "CHILD", "3")


def test_child_only_in_header_is_a_warning():
    result = read_set(header=HEADER + "9,1,01/01/2010,WBRI,X9\n")
    assert errors(result) == []
    assert any(p.severity == "warning" and p.value == "9" for p in result.problems)


def test_missing_child_id():
    problem = only_error(read_set(episodes=EPISODES + ",01/01/2018,S,V2,N1,U1,PR1,,,,\n"))
    assert (problem.sheet, problem.row, problem.column) == ("episodes.csv", 7, "CHILD")


def test_duplicate_child_in_header():
    result = read_set(header=HEADER + "1,1,05/04/2010,WBRI,X1\n")
    problem = only_error(result)
    assert (problem.sheet, problem.row) == ("header.csv", 4) and "twice" in problem.message
    assert {r.child_id for r in result.rows} == {"2"}  # child 1 left out of a skip_invalid import


def test_duplicate_episode_start():
    problem = only_error(read_set(episodes=EPISODES + "2,10/10/2017,P,V2,N5,K2,PR1,,,,\n"))
    assert problem.column == "DECOM" and "two episodes" in problem.message


def test_bad_date():
    problem = only_error(read_set(episodes=EPISODES.replace("01/03/2018,L", "2018-13-45,L")))
    assert (problem.row, problem.column, problem.value) == (4, "DECOM", "2018-13-45")
    assert "date" in problem.message


def test_future_date_of_birth():
    problem = only_error(read_set(header=HEADER.replace("05/04/2010", "05/04/2030")))
    assert (problem.sheet, problem.row, problem.column) == ("header.csv", 2, "DOB") and "future" in problem.message


def test_end_before_start():
    problem = only_error(
        read_set(
            episodes=EPISODES.replace("01/02/2015,S,C1,N4,U1,PR1,01/03/2015", "01/02/2015,S,C1,N4,U1,PR1,01/01/2015")
        )
    )
    assert (problem.row, problem.column, problem.value) == (5, "DEC", "01/01/2015") and "before" in problem.message


def test_unknown_legal_status_and_primary_need():
    result = read_set(episodes=EPISODES.replace("S,V2,N1", "S,Z9,N1").replace("S,C1,N4", "S,C1,N11"))
    assert {(p.column, p.value) for p in errors(result)} == {("LS", "Z9"), ("CIN", "N11")}
    assert result.rows == []


def test_bad_missing_code():
    problem = only_error(read_set(missing=MISSING + "1,05/04/2010,X,01/02/2018,\n"))
    assert (problem.sheet, problem.row, problem.column, problem.value) == ("missing.csv", 5, "MISSING", "X")


def test_missing_required_column():
    problem = only_error(read_set(episodes=EPISODES.replace("DECOM", "START")))
    assert problem.sheet == "episodes.csv" and problem.row == 1 and problem.column == "DECOM"


def test_other_tables_ignored_with_a_warning():
    result = read([*files(), UploadedFile("ad1.csv", b"CHILD,DATE_INT\n1,01/01/2018\n")], today=TODAY)
    assert errors(result) == []
    assert any(p.sheet == "ad1.csv" and p.severity == "warning" for p in result.problems)
