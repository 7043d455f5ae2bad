"""The pure rules of correcting the register's facts: which facts, how a value is read and checked (naming the fact),
the reason, how values are kept and shown, and whether a correction holds against an import's value."""

from __future__ import annotations

from datetime import date

import pytest

from app.cases.corrections.rules import (
    CORRECTABLE,
    SCOPE_FACTS,
    TEXT_LIMITS,
    Pin,
    check_field,
    correction_holds,
    corrections_pin,
    fact_value,
    from_json,
    reason_text,
    shown,
    to_json,
)
from app.cases.facts import FACT_FIELDS, FACT_LABELS
from app.errors import ValidationFailed

TODAY = date(2026, 11, 26)


def _refusal(call) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        call()
    return caught.value.errors


# --- Which facts -----------------------------------------------------------------------------------------------------


def test_every_fact_but_the_people_on_the_case_may_be_corrected():
    assert set(CORRECTABLE) == set(FACT_FIELDS) - {"worker_name", "worker_id", "manager_name"}
    assert set(FACT_FIELDS) >= SCOPE_FACTS
    # Every fact has a label for the form and the history (one list of labels, shared with the audit form).
    assert set(FACT_LABELS) == set(FACT_FIELDS)


def test_every_text_fact_is_held_to_its_columns_width():
    assert set(TEXT_LIMITS) == {name for name, kind in CORRECTABLE.items() if kind is str}
    assert TEXT_LIMITS["legal_status"] == 10 and TEXT_LIMITS["permanence_plan"] == 120


@pytest.mark.parametrize("name", ["worker_name", "manager_name", "worker_id"])
def test_a_fact_that_decides_who_sees_the_case_is_refused_naming_it(name):
    errors = _refusal(lambda: check_field(name))
    assert list(errors) == ["field"] and "case system only" in errors["field"]


@pytest.mark.parametrize("name", ["", None, "child_id", "team_id", "status", "case_type", "service_area_id", "x"])
def test_anything_else_not_on_the_list_is_refused(name):
    assert list(_refusal(lambda: check_field(name))) == ["field"]


# --- Values by the fact's type --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("last_statutory_visit", "3/2/2026", date(2026, 2, 3)),
        ("last_statutory_visit", "2026-02-03", date(2026, 2, 3)),
        ("last_statutory_visit", " 03/02/2026 ", date(2026, 2, 3)),
        ("last_statutory_visit", TODAY.isoformat(), TODAY),
        ("disability", "Yes", True),
        ("disability", "n", False),
        ("disability", True, True),
        ("seen_alone", False, False),
        ("missing_12m", "4", 4),
        ("missing_12m", 0, 0),
        ("birth_year", "2014", 2014),
        ("birth_month", 12, 12),
        ("legal_status", "E1: Placement order", "E1"),
        ("primary_need", "N1 - Abuse or neglect", "N1"),
        ("gender", "a) Female", "Female"),
        ("permanence_plan", "  Adoption   by  carers ", "Adoption by carers"),
    ],
)
def test_a_value_is_read_by_the_facts_type_as_an_extract_cell_is(name, raw, expected):
    assert fact_value(name, raw, today=TODAY) == expected


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("last_statutory_visit", "31/2/2026", "Last statutory visit must be a date, like 27/3/2026"),
        ("last_statutory_visit", "next week", "Last statutory visit must be a date, like 27/3/2026"),
        ("last_statutory_visit", 46000, "Last statutory visit must be a date, like 27/3/2026"),  # never a serial
        ("last_statutory_visit", "27/11/2026", "Last statutory visit cannot be in the future"),
        ("disability", "maybe", "Disability must be Yes or No"),
        ("disability", 1, "Disability must be Yes or No"),
        ("missing_12m", "-1", "Missing episodes in the last 12 months must be a whole number, 0 or more"),
        ("missing_12m", "2.5", "Missing episodes in the last 12 months must be a whole number, 0 or more"),
        ("missing_12m", True, "Missing episodes in the last 12 months must be a whole number, 0 or more"),
        ("missing_12m", "#N/A", "Enter the correct value of missing episodes in the last 12 months"),
        ("missing_12m", 2**31, "Missing episodes in the last 12 months must be a whole number from 0 to 2,147,483,647"),
        ("placements_12m", "9" * 30, "Placements in the last 12 months must be a whole number from 0 to 2,147,483,647"),
        ("birth_month", "13", "Month of birth must be a month from 1 to 12"),
        ("birth_year", "1850", "Year of birth must be a year from 1900 to 2100"),
        ("birth_year", "2027", "Year of birth cannot make the date of birth in the future"),
        ("legal_status", "A much longer legal status", "Legal status must be 10 characters or fewer"),
        ("gender", 3, "Gender must be text"),
        ("gender", "", "Enter the correct value of gender"),
        ("gender", "#N/A", "Enter the correct value of gender"),
        ("latest_review", None, "Enter the correct value of latest review"),
    ],
)
def test_a_value_that_is_not_one_of_the_facts_type_is_refused_naming_the_fact(name, raw, message):
    assert _refusal(lambda: fact_value(name, raw, today=TODAY)) == {"value": message}


def test_month_and_year_of_birth_are_checked_together():
    facts = {"birth_year": 2026, "birth_month": None}
    assert fact_value("birth_month", "11", today=TODAY, facts=facts) == 11
    errors = _refusal(lambda: fact_value("birth_month", "12", today=TODAY, facts=facts))
    assert errors == {"value": "Month of birth cannot make the date of birth in the future"}
    assert _refusal(lambda: fact_value("birth_year", "2026", today=TODAY, facts={"birth_month": 12}))


def test_the_reason_is_required_and_says_enough():
    assert _refusal(lambda: reason_text("")) == {"reason": "Give the reason for the correction"}
    assert _refusal(lambda: reason_text("   ")) == {"reason": "Give the reason for the correction"}
    assert "10 characters or more" in _refusal(lambda: reason_text("wrong"))["reason"]
    assert "2,000 characters or fewer" in _refusal(lambda: reason_text("x" * 2001))["reason"]
    assert reason_text("  Placement order  on file\n dated 3/2/2026 ") == "Placement order on file dated 3/2/2026"


def test_values_are_kept_as_json_and_shown_as_people_read_them():
    assert to_json(date(2026, 2, 3)) == "2026-02-03" and from_json("latest_review", "2026-02-03") == date(2026, 2, 3)
    assert to_json(True) is True and from_json("disability", True) is True
    assert from_json("legal_status", "E1") == "E1" and from_json("missing_12m", 3) == 3
    assert shown("latest_review", "2026-02-03") == "3 February 2026"
    assert (shown("disability", True), shown("disability", False)) == ("Yes", "No")
    assert shown("missing_12m", 0) == "0" and shown("legal_status", None) == "Not recorded"


# --- Pinning against imports ----------------------------------------------------------------------------------------


def _pin(field: str, source, new, id: int = 1) -> Pin:
    return Pin(id=id, field=field, source_value=to_json(source), new_value=to_json(new))


@pytest.mark.parametrize(
    ("field", "wrong", "right"),
    [
        ("legal_status", "C2", "E1"),
        ("latest_review", date(2026, 1, 5), date(2026, 5, 1)),
        ("disability", False, True),
        ("missing_12m", 0, 3),
        ("primary_need", None, "N1"),  # the case system had nothing
    ],
)
def test_an_import_still_bringing_the_wrong_value_keeps_the_correction(field, wrong, right):
    outcome = corrections_pin({field: wrong, "gender": "Female"}, [_pin(field, wrong, right)])
    assert outcome.keep == {field: right} and outcome.superseded == []


@pytest.mark.parametrize(
    ("field", "wrong", "right", "imported"),
    [
        ("legal_status", "C2", "E1", "E1"),  # the case system was put right
        ("legal_status", "C2", "E1", "V2"),  # or moved on
        ("latest_review", date(2026, 1, 5), date(2026, 5, 1), date(2026, 8, 1)),
        ("disability", False, True, True),
        ("missing_12m", 0, 3, 4),
        ("legal_status", "C2", "E1", None),  # the extract no longer has it: its value (none) is taken too
    ],
)
def test_an_import_bringing_another_value_supersedes_the_correction(field, wrong, right, imported):
    pin = _pin(field, wrong, right)
    outcome = corrections_pin({field: imported}, [pin])
    assert outcome.keep == {} and outcome.superseded == [pin]


def test_a_fact_the_import_does_not_bring_is_none():
    pin = _pin("legal_status", "C2", "E1")
    assert corrections_pin({}, [pin]).superseded == [pin]
    kept = _pin("legal_status", None, "E1")
    assert corrections_pin({}, [kept]).keep == {"legal_status": "E1"}


def test_each_correction_of_a_case_is_weighed_on_its_own():
    holds, goes = _pin("legal_status", "C2", "E1", id=1), _pin("missing_12m", 0, 3, id=2)
    outcome = corrections_pin({"legal_status": "C2", "missing_12m": 5}, [holds, goes])
    assert outcome.keep == {"legal_status": "E1"} and outcome.superseded == [goes]


def test_a_value_of_another_type_is_another_value():
    # True == 1 in Python; a correction is weighed on the value and its type.
    assert not correction_holds(1, _pin("disability", True, False))
    assert correction_holds(date(2026, 1, 5), _pin("latest_review", date(2026, 1, 5), date(2026, 2, 1)))
