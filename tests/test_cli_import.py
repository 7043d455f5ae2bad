"""`caseaudit cases import`: the same import service as the web upload, run from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from app.cases.models import Case, CaseImport
from tests.conftest import SHARED_DATA
from tests.test_cli import cli_db, engine, failed, ok, plain, run, upgraded  # noqa: F401  (fixtures and helpers)

SSDA903_DIR = SHARED_DATA / "ssda903-fake"
SSDA903_FILES = [str(SSDA903_DIR / name) for name in ("header.csv", "episodes.csv", "reviews.csv", "missing.csv")]
HEADER = "child_id,case_type,status,start_date,team,worker_name"


def _counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        cases = session.execute(select(func.count()).select_from(Case)).scalar_one()
        imports = session.execute(select(func.count()).select_from(CaseImport)).scalar_one()
    return cases, imports


def _csv(tmp_path: Path, *lines: str, name: str = "register.csv") -> str:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return str(path)


@pytest.mark.skipif(not SSDA903_DIR.is_dir(), reason="the SSDA903 sample is not available")
def test_ssda903_sample_imports_and_a_second_import_changes_nothing(upgraded, engine):
    first = ok("cases", "import", *SSDA903_FILES, "--format", "ssda903")
    assert "0 rejected" in first and "0 updated" in first
    created = int(first.split(" created")[0].rsplit(" ", 1)[1])
    assert created > 1000
    assert _counts(engine) == (created, 1)

    again = ok("cases", "import", *SSDA903_FILES, "--format", "ssda903", "--no-close-absent")
    assert "0 created, 0 updated" in again
    assert f"{created} unchanged" in again
    assert _counts(engine) == (created, 2)


def test_a_valid_csv_imports_and_lists_new_teams(upgraded, engine, tmp_path):
    path = _csv(tmp_path, "C1,cla,open,01/02/2024,North Team,Ann Worker", "C2,cin,open,2024-03-01,North Team,")
    output = ok("cases", "import", path, "--format", "csv")
    assert "2 rows read, 2 created, 0 updated, 0 unchanged, 0 closed, 0 rejected." in output
    assert "New teams" in output and "North Team" in output
    assert _counts(engine) == (2, 1)


def test_a_broken_csv_is_refused_listing_each_error_and_writes_nothing(upgraded, engine, tmp_path):
    ok("cases", "import", _csv(tmp_path, "KEEP1,cla,open,01/02/2024,,", name="first.csv"), "--format", "csv")
    assert _counts(engine) == (1, 1)

    path = _csv(
        tmp_path,
        "C1,cla,open,01/02/2024,,",
        "C2,foster,open,01/02/2024,,",
        "C3,cla,open,31/02/2024,,",
        name="broken.csv",
    )
    output = failed("cases", "import", path, "--format", "csv")
    assert "broken.csv 3 case_type 'foster': " in output and "not a case type" in output
    assert "broken.csv 4 start_date '31/02/2024': " in output and "not a real date" in output
    assert "nothing was imported" in output
    # All or nothing: no cases, not even an import record.
    assert _counts(engine) == (1, 1)


def _open(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.execute(select(Case.child_id).where(Case.status == "open")).scalars())


def test_absent_cases_are_closed_only_with_close_absent_and_only_of_the_kinds_covered(upgraded, engine, tmp_path):
    ok("cases", "import", _csv(tmp_path, "C1,cla,open,,,", "C2,cla,open,,,", "P1,cp,open,,,"), "--format", "csv")
    only_c1 = _csv(tmp_path, "C1,cla,open,,,", name="c1.csv")
    output = ok("cases", "import", only_c1, "--format", "csv")
    assert "0 closed" in output and _open(engine) == {"C1", "C2", "P1"}  # off unless asked
    output = ok("cases", "import", only_c1, "--format", "csv", "--close-absent")
    assert "1 closed" in output
    assert "Closed 1 open case(s) of the kinds this extract covers (Child looked after) missing from it: C2." in output
    assert _open(engine) == {"C1", "P1"}  # the cp case is not a kind a cla-only file covers


def test_skip_invalid_imports_the_good_rows_and_lists_the_rest(upgraded, engine, tmp_path):
    path = _csv(tmp_path, "C1,cla,open,01/02/2024,,", "C2,foster,open,01/02/2024,,")
    output = ok("cases", "import", path, "--format", "csv", "--mode", "skip_invalid")
    assert "1 created" in output and "1 rejected" in output
    assert "register.csv 3 case_type 'foster'" in output
    assert _counts(engine) == (1, 1)


def test_many_errors_are_cut_short(upgraded, engine, tmp_path):
    path = _csv(tmp_path, *(f"C{n},foster,open,,," for n in range(60)))
    output = failed("cases", "import", path, "--format", "csv")
    assert "register.csv 61 case_type" not in output  # the 60th error is not printed...
    assert "... and 10 more" in output  # ...but counted
    assert _counts(engine) == (0, 0)


@pytest.mark.parametrize("missing_name", ["nope.csv", "a-much-longer-file-name-" * 4 + ".csv"])
def test_bad_choices_and_missing_files_fail_cleanly(upgraded, tmp_path, missing_name):
    path = _csv(tmp_path, "C1,cla,open,,,")
    assert "Select the format of the extract" in failed("cases", "import", path, "--format", "xls")
    assert "Select what to do with invalid rows" in failed("cases", "import", path, "--format", "csv", "--mode", "x")

    missing = run("cases", "import", str(tmp_path / missing_name), "--format", "csv")
    assert missing.exit_code == 2 and "does not exist" in plain(missing.output)
