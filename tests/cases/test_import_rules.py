"""The pure rules of import previews: the kinds an extract covers, what changed since a preview, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.cases.facts import CaseType
from app.cases.imports.rules import (
    PreviewFigures,
    covers_text,
    digest,
    extract_covers,
    preview_changes,
    preview_expired,
)

DIGESTS = {"created": "c", "updated": "u", "closed": "x", "rejected": "r"}


def figures(**changes) -> PreviewFigures:
    values = {"created": 43, "updated": 0, "unchanged": 0, "closed": 0, "rejected": 0, "digests": DIGESTS, **changes}
    return PreviewFigures(**values)


def test_an_ssda903_return_covers_children_looked_after_only():
    assert extract_covers("ssda903", {CaseType.CLA}) == ["cla"]
    assert extract_covers("ssda903", set()) == ["cla"]
    assert extract_covers("ssda903", {CaseType.CIN, CaseType.CLA}) == ["cla"]


def test_annex_a_and_csv_cover_the_kinds_they_read_most_intensive_first():
    read = {CaseType.ADOPTION, CaseType.CIN, CaseType.CLA, CaseType.EARLY_HELP}
    assert extract_covers("annex_a", read) == ["cla", "cin", "early_help", "adoption"]
    assert extract_covers("csv", {CaseType.CP}) == ["cp"]
    assert extract_covers("csv", set()) == []


def test_covers_text_names_the_kinds():
    assert covers_text(["cla"]) == "Child looked after"
    assert covers_text(["cin", "cp", "cla"]) == "Child in need, Child protection and Child looked after"
    assert covers_text([]) == "no kind of case"


def test_digest_depends_on_the_items_and_their_order():
    assert digest(["A1", "A2"]) == digest(["A1", "A2"])
    assert digest(["A1", "A2"]) != digest(["A2", "A1"])
    assert digest([]) != digest([""])


def test_nothing_changed_means_no_changes():
    assert preview_changes(figures(), figures()) == []


def test_changed_counts_are_named_with_both_figures():
    now = figures(created=0, unchanged=43, closed=269, digests={**DIGESTS, "created": "c2", "closed": "x2"})
    assert preview_changes(figures(), now) == [
        "Cases to create: 43 in the preview, 0 now",
        "Cases unchanged: 0 in the preview, 43 now",
        "Open cases to close: 0 in the preview, 269 now",
    ]


def test_same_counts_but_other_cases_or_rows_are_changes_too():
    now = figures(digests={"created": "c", "updated": "u2", "closed": "x2", "rejected": "r2"})
    assert preview_changes(figures(), now) == [
        "Different cases would be updated (still 0)",
        "Different cases would be closed (still 0)",
        "Different rows have problems (still 0 rejected)",
    ]


def test_new_teams_that_now_exist_are_a_change():
    assert preview_changes(figures(new_teams=("East",)), figures()) == ["New teams: East in the preview, none now"]


def test_a_preview_without_fingerprints_is_never_trusted():
    assert preview_changes(figures(digests={}), figures()) == [
        "Which cases this preview would change was not recorded with it"
    ]


def test_a_preview_expires_at_its_time_and_only_while_waiting():
    at = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert not preview_expired("previewed", at, at - timedelta(seconds=1))
    assert preview_expired("previewed", at, at)
    assert not preview_expired("committed", at, at + timedelta(days=1))
    assert not preview_expired("previewed", None, at)


def test_a_fact_longer_than_its_column_is_a_problem_naming_the_row_not_a_database_error():
    """Every text column's width is known (SQLModel's AutoString included), so an Annex A or SSDA903 value too long
    for the register is reported on its row instead of failing the write (PostgreSQL refuses over-long text)."""
    from app.cases.facts import CaseFacts, RowFacts
    from app.cases.service import _length_problems

    row = RowFacts(child_id="C1", list_key="List 6", case_type="cin", sheet="List 6", row=7)
    case = CaseFacts(
        child_id="C1",
        case_type="cin",
        status="open",
        start_date=None,
        end_date=None,
        team_name=None,
        source_lists=["List 6"],
        involvements={},
        facts={"worker_name": "W" * 121, "gender": "Female", "missing_12m": 10**12, "placements_12m": 3},
    )
    long, huge = _length_problems(case, [row])
    assert (long.sheet, long.row, long.column) == ("List 6", 7, "worker_name")
    assert long.message == "This is longer than 120 characters"
    assert (huge.column, huge.value, huge.message) == ("missing_12m", str(10**12), "This number is too large")
