"""The import service: create, no-op re-import, updates, closing absent cases, all-or-nothing, skip-invalid, teams."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.accounts.models import Team
from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.cases import service
from app.cases.models import Case, CaseImport, CaseImportFile
from app.cases.readers import UploadedFile
from app.errors import ValidationFailed
from tests.factories import make_team, make_user

TODAY = date(2025, 6, 1)

HEADER = "child_id,case_type,status,start_date,end_date,birth_year,birth_month,team,worker_name,last_statutory_visit"


def csv_file(*lines: str, name: str = "register.csv") -> list[UploadedFile]:
    return [UploadedFile(name, "\n".join([HEADER, *lines]).encode())]


GOOD = (
    "A1,cla,open,01/02/2024,,2015,3,North Team,Sam Worker,01/05/2025",
    "A2,cp,open,2024-03-01,,2018,7,North Team,Sam Worker,",
    "A3,cin,open,01/01/2025,,2012,1,North Team,Kim Worker,",
)


@pytest.fixture
def lead(db):
    make_team(db, name="North Team", service_area="Children in care")
    return make_user(db, username="qa", roles=(Role.QA_LEAD,))


def run(db, files, actor, **kwargs):
    return service.import_run(db, files=files, format="csv", actor=actor, today=TODAY, **kwargs)


def cases(db) -> dict[str, Case]:
    db.expire_all()
    return {c.child_id: c for c in db.execute(select(Case)).scalars()}


def count(db, model) -> int:
    return db.execute(select(func.count()).select_from(model)).scalar_one()


def test_import_creates_one_case_per_child_with_team_and_service_area(db, lead):
    result = run(db, csv_file(*GOOD), lead)
    assert (result.status, result.rows_read, result.created, result.updated, result.closed) == ("committed", 3, 3, 0, 0)
    register = cases(db)
    assert set(register) == {"A1", "A2", "A3"}
    team = db.execute(select(Team).where(Team.name == "North Team")).scalar_one()
    a1 = register["A1"]
    assert (a1.case_type, a1.status, a1.team_id, a1.service_area_id) == ("cla", "open", team.id, team.service_area_id)
    assert a1.last_statutory_visit == date(2025, 5, 1) and a1.worker_name == "Sam Worker"
    assert a1.last_import_id == result.id and a1.version == 1 and a1.source == "csv"


def test_reimporting_the_same_file_changes_nothing(db, lead):
    run(db, csv_file(*GOOD), lead)
    before = {k: (c.version, c.updated_at, c.last_import_id) for k, c in cases(db).items()}
    again = run(db, csv_file(*GOOD), lead)
    assert (again.created, again.updated, again.closed, again.unchanged) == (0, 0, 0, 3)
    assert {k: (c.version, c.updated_at, c.last_import_id) for k, c in cases(db).items()} == before


def test_changed_facts_update_the_case_and_bump_its_version(db, lead):
    run(db, csv_file(*GOOD), lead)
    changed = GOOD[0].replace("01/05/2025", "20/05/2025")
    result = run(db, csv_file(changed, *GOOD[1:]), lead)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    register = cases(db)
    assert register["A1"].last_statutory_visit == date(2025, 5, 20)
    assert register["A1"].version == 2 and register["A1"].last_import_id == result.id
    assert register["A2"].version == 1


A4_CIN = "A4,cin,open,01/01/2025,,2013,1,North Team,,"


def test_a_full_import_closes_absent_open_cases_and_never_deletes(db, lead):
    run(db, csv_file(*GOOD), lead)
    result = run(db, csv_file(*GOOD[:2], A4_CIN), lead, full=True)  # cla, cp and cin rows: it covers those kinds
    assert (result.closed, result.unchanged, result.created) == (1, 2, 1)
    assert result.closing == [{"id": cases(db)["A3"].id, "child_id": "A3", "case_type": "cin"}]
    a3 = cases(db)["A3"]
    assert (a3.status, a3.end_date, a3.version) == ("closed", date(2025, 6, 1), 2)
    # Closed stays closed (and is not counted again); a later extract listing the child reopens it.
    assert run(db, csv_file(*GOOD[:2], A4_CIN), lead, full=True).closed == 0
    back = run(db, csv_file(*GOOD, A4_CIN), lead, full=True)
    assert back.updated == 1 and cases(db)["A3"].status == "open"
    assert count(db, Case) == 4


def test_a_partial_import_leaves_absent_cases_open(db, lead):
    run(db, csv_file(*GOOD), lead)
    result = run(db, csv_file(GOOD[0]), lead, full=False)
    assert result.closed == 0
    assert {c.status for c in cases(db).values()} == {"open"}


def test_an_import_is_not_full_unless_asked(db, lead):
    run(db, csv_file(*GOOD), lead)
    result = run(db, csv_file("A9,cla,open,01/01/2025,,2013,1,North Team,,"), lead)
    assert (result.full, result.closed) == (False, 0)
    assert {c.status for c in cases(db).values()} == {"open"}


def test_the_preview_lists_the_cases_of_its_kinds_that_will_close(db, lead):
    run(db, csv_file(*GOOD, "A0,cla,open,01/01/2025,,2013,1,North Team,,"), lead)
    preview = service.import_prepare(db, files=csv_file(GOOD[0]), format="csv", full=True, actor=lead, today=TODAY)
    # A cla-only file covers children looked after: the cp and cin cases it does not list are not its business.
    assert (preview.status, preview.unchanged, preview.closed, preview.covers) == ("previewed", 1, 1, ["cla"])
    assert [(c["child_id"], c["case_type"]) for c in preview.closing] == [("A0", "cla")]
    assert {c.status for c in cases(db).values()} == {"open"}  # nothing written yet


def test_nothing_closes_while_rows_are_rejected(db, lead):
    run(db, csv_file(*GOOD), lead)
    # A3's row is unreadable: A3 is in the extract, so closing it as "missing" would be wrong.
    bad_a3 = "A3,cin,open,32/01/2025,,2012,1,North Team,,"
    result = run(db, csv_file(GOOD[0], GOOD[1], bad_a3), lead, full=True, mode="skip_invalid")
    assert (result.status, result.rejected, result.closed) == ("committed", 1, 0)
    assert cases(db)["A3"].status == "open"


def test_all_or_nothing_with_one_bad_row_writes_nothing(db, lead):
    run(db, csv_file(*GOOD), lead)
    before = {k: (c.version, c.status, c.last_statutory_visit) for k, c in cases(db).items()}
    events = count(db, AuditEvent)
    bad = "A4,cla,open,32/01/2024,,2016,1,North Team,,"
    result = run(db, csv_file(GOOD[0].replace("01/05/2025", "02/05/2025"), bad, "A5,cin,open,,,,,,,"), lead)
    assert result.status == "rejected" and result.rejected == 1
    assert result.errors == [
        {
            "sheet": "register.csv",
            "row": 3,
            "column": "start_date",
            "value": "32/01/2024",
            "message": "'32/01/2024' is not a real date",
            "severity": "error",
        }
    ]
    assert {k: (c.version, c.status, c.last_statutory_visit) for k, c in cases(db).items()} == before
    assert count(db, Case) == 3 and count(db, AuditEvent) == events


def test_skip_invalid_imports_the_good_rows_and_lists_the_bad(db, lead):
    result = run(db, csv_file(GOOD[0], ",cla,open,,,,,,,", "A9,wizard,open,,,,,,,"), lead, mode="skip_invalid")
    assert (result.status, result.created, result.rejected) == ("committed", 1, 2)
    assert [(e["row"], e["column"]) for e in result.errors] == [(3, "child_id"), (4, "case_type")]
    assert set(cases(db)) == {"A1"}


def test_unknown_team_is_listed_in_the_preview_and_created_under_unassigned(db, lead):
    row = "B1,cin,open,01/01/2025,,2012,1,  east   locality  ,,"
    same_team = "B2,cin,open,01/01/2025,,2013,1,East Locality,,"
    known_team = "B3,cin,open,01/01/2025,,2013,1,north team,,"
    preview = service.import_prepare(
        db, files=csv_file(row, same_team, known_team), format="csv", actor=lead, today=TODAY
    )
    assert preview.new_teams == ["east locality"]
    assert db.execute(select(Team).where(func.lower(Team.name) == "east locality")).scalar_one_or_none() is None
    result = service.import_commit(db, case_import=preview, actor=lead, today=TODAY)
    team = db.execute(select(Team).where(Team.name == "east locality")).scalar_one()
    assert team.service_area.name == "Unassigned"
    register = cases(db)
    assert register["B1"].team_id == register["B2"].team_id == team.id
    north = db.execute(select(Team).where(Team.name == "North Team")).scalar_one()
    assert register["B3"].team_id == north.id
    assert result.new_teams == ["east locality"]


def test_one_audit_event_per_import_with_the_counts(db, lead):
    before = db.execute(select(func.coalesce(func.max(AuditEvent.id), 0))).scalar_one()
    result = run(db, csv_file(*GOOD), lead)
    events = list(db.execute(select(AuditEvent).where(AuditEvent.id > before)).scalars())
    imports = [e for e in events if e.action.startswith("case_import")]
    assert len(imports) == 1 and len(events) == 1
    assert imports[0].entity_id == str(result.id) and imports[0].actor_id == lead.id
    assert imports[0].after["created"] == 3 and imports[0].after["files"][0]["name"] == "register.csv"


def test_a_preview_is_confirmed_from_the_stored_files(db, lead):
    files = csv_file(*GOOD)
    preview = service.import_prepare(db, files=files, format="csv", actor=lead, today=TODAY)
    assert preview.file_hashes == [service.sha256_hex(files[0].content)]
    assert count(db, CaseImportFile) == 1 and count(db, Case) == 0
    db.expire_all()
    stored = db.get(CaseImport, preview.id)
    committed = service.import_commit(db, case_import=stored, actor=lead, today=TODAY)
    assert committed.status == "committed" and committed.created == 3 and count(db, Case) == 3
    assert count(db, CaseImportFile) == 0  # child-level files are not kept once imported


def test_a_rejected_or_already_made_import_cannot_be_committed(db, lead):
    rejected = service.import_prepare(db, files=csv_file(",cla,open,,,,,,,"), format="csv", actor=lead, today=TODAY)
    with pytest.raises(service.ImportRejected):
        service.import_commit(db, case_import=rejected, actor=lead, today=TODAY)
    preview = service.import_prepare(db, files=csv_file(*GOOD), format="csv", actor=lead, today=TODAY)
    service.import_commit(db, case_import=preview, actor=lead, today=TODAY)
    with pytest.raises(service.Conflict):
        service.import_commit(db, case_import=preview, actor=lead, today=TODAY)
    assert count(db, Case) == 3


def test_an_empty_extract_never_closes_the_register(db, lead):
    run(db, csv_file(*GOOD), lead)
    result = run(db, csv_file(), lead, mode="skip_invalid")
    assert result.status == "rejected" and "no cases" in result.errors[0]["message"]
    assert {c.status for c in cases(db).values()} == {"open"}


def test_bad_choices_name_the_field(db, lead):
    with pytest.raises(ValidationFailed) as caught:
        service.import_prepare(db, files=[], format="pdf", actor=lead, today=TODAY)
    assert set(caught.value.errors) == {"file", "format"}


def test_many_rows_are_written_in_chunks(db, lead, monkeypatch):
    monkeypatch.setattr(service, "WRITE_CHUNK", 7)
    monkeypatch.setattr(service, "READ_CHUNK", 5)
    rows = [f"C{i:03},cin,open,01/01/2025,,2012,1,North Team,," for i in range(40)]
    assert run(db, csv_file(*rows), lead).created == 40
    rows[10] = rows[10].replace("2012", "2011")
    again = run(db, csv_file(*rows[:30]), lead, full=True)
    assert (again.updated, again.unchanged, again.closed) == (1, 29, 10)
