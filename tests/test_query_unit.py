"""app.web.query and the list pages' filters: reading query parameters, writing them back into links, and which
htmx requests get only a list's results."""

from __future__ import annotations

from datetime import date

import pytest
from starlette.datastructures import QueryParams
from starlette.requests import Request

from app.accounts.filters import UserListFilter
from app.audit_trail.filters import TrailFilter
from app.cases.filters import CaseListFilter
from app.moderation.filters import QueueFilter
from app.web.query import DATE_MESSAGE, QueryReader, StatusFilter, query_builder, query_string
from app.web.templating import wants_results


def params(text: str) -> QueryParams:
    return QueryParams(text)


# --- QueryReader -------------------------------------------------------------------------------------------


def test_text_is_trimmed_and_absent_is_the_default():
    read = QueryReader(params("q=%20abc%00%20&blank="))
    assert read.text("q") == "abc"
    assert read.text("blank", default="active") == ""
    assert read.text("missing") == "" and read.text("missing", default="active") == "active"


def test_choice_names_a_bad_value_only_when_given_a_message():
    read = QueryReader(params("a=x&b=y&c=ok"))
    assert read.choice("a", ("ok",), "A must be ok") is None
    assert read.choice("b", ("ok",)) is None
    assert read.choice("c", ("ok",), "C must be ok") == "ok"
    assert read.errors == {"a": "A must be ok"}


def test_choices_keeps_known_values_of_a_repeated_parameter_once_in_order():
    read = QueryReader(params("flag=b&flag=zzz&flag=a&flag=b&flag="))
    assert read.choices("flag", {"a": 1, "b": 2}) == ["b", "a"]
    assert QueryReader({"flag": "a"}).choices("flag", ("a",)) == ["a"]  # a plain mapping: one value
    assert read.errors == {}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("42", 42), (" 7 ", 7), ("0", 0), ("123456789012", 123456789012), ("1234567890123", None), ("-1", None)],
)
def test_number_is_ascii_digits_up_to_a_length(raw, expected):
    assert QueryReader({"n": raw}).number("n") == expected


def test_number_refuses_other_scripts_digits_and_names_them_when_asked():
    read = QueryReader({"n": "¹", "m": "٣"})
    assert read.number("n") is None and read.number("m", "M must be a number") is None
    assert read.errors == {"m": "M must be a number"}


def test_row_id_is_a_number_in_the_database_range_or_me():
    read = QueryReader({"a": "12", "b": "0", "c": "99999999999", "d": "me", "e": "x"})
    assert read.row_id("a", "bad a") == 12
    assert read.row_id("b", "bad b") is None
    assert read.row_id("c", "bad c") is None
    assert read.row_id("d", "bad d", me=5) == 5
    assert read.row_id("e", "bad e") is None
    assert read.errors == {"b": "bad b", "c": "bad c", "e": "bad e"}


def test_day_is_yyyy_mm_dd_in_range_with_its_own_message():
    read = QueryReader({"a": "2026-06-30", "b": "20260630", "c": "0001-01-01", "d": "2026-02-30"})
    assert read.day("a") == date(2026, 6, 30)
    assert read.day("b") is None
    assert read.day("c", "Use a real date") is None
    assert read.day("d") is None
    assert read.errors == {"b": DATE_MESSAGE, "c": "Use a real date", "d": DATE_MESSAGE}


# --- Links ---------------------------------------------------------------------------------------------------


def test_query_string_applies_changes_and_drops_none_but_keeps_blanks():
    base = {"q": "", "status": "active", "page": 3}
    assert query_string(base) == "q=&status=active&page=3"
    assert query_string(base, page=4) == "q=&status=active&page=4"
    assert query_string(base, page=None, sort="due") == "q=&status=active&sort=due"


def test_query_string_repeats_lists_and_escapes():
    assert query_string({"flag": ["a", "b"], "q": "x&y"}) == "flag=a&flag=b&q=x%26y"
    assert query_string({"flag": []}) == ""


def test_query_builder_is_what_templates_call_query():
    query = query_builder({"status": "open", "page": 1})
    assert query(page=2) == "status=open&page=2"
    assert query() == "status=open&page=1"


# --- The filters ---------------------------------------------------------------------------------------------


def test_status_filter():
    statuses = {"open": "Open", "done": "Done"}
    assert StatusFilter.from_params(params("status=done"), statuses=statuses) == (StatusFilter("done"), {})
    flt, errors = StatusFilter.from_params(params("status=nonsense"), statuses=statuses)
    assert flt.status is None and flt.query() == {} and errors == {}


def test_case_list_filter_reads_defaults_and_drops_what_makes_no_sense():
    flt, errors = CaseListFilter.from_params(params(""))
    assert errors == {}
    assert flt.query() == {"status": "open", "sort": "child_id", "order": "asc"}
    flt, _ = CaseListFilter.from_params(
        params(
            "q=+AB1+&status=closed&case_type=cla&team_id=3&service_area_id=x&age_band=0-4"
            "&flag=no_visit&flag=nope&flag=missing&sort=worker&order=desc&worker=+Jo+Bloggs+"
        )
    )
    assert flt.values() == {
        "q": "AB1",
        "status": "closed",
        "case_type": "cla",
        "service_area_id": "",
        "team_id": "3",
        "worker": "Jo Bloggs",
        "age_band": "0-4",
        "flag": ["no_visit", "missing"],
        "sort": "worker",
        "order": "desc",
    }
    assert query_builder(flt.query())(page=2).endswith("flag=no_visit&flag=missing&sort=worker&order=desc&page=2")
    bad, _ = CaseListFilter.from_params(params("status=weird&case_type=x&age_band=99&sort=x&order=sideways"))
    assert (bad.status, bad.case_type, bad.age_band, bad.sort, bad.order) == ("open", None, None, "child_id", "asc")


def test_queue_filter_takes_only_a_cycle_with_moderation():
    flt, errors = QueueFilter.from_params(params("status=unallocated&cycle=7"), cycle_ids=[7, 8])
    assert (flt.status, flt.cycle_id, errors) == ("unallocated", 7, {})
    assert flt.query() == {"status": "unallocated", "cycle": "7"}
    other, _ = QueueFilter.from_params(params("status=nonsense&cycle=9"), cycle_ids=[7, 8])
    assert other == QueueFilter() and other.query() == {}


def test_user_list_filter_is_active_users_unless_asked():
    flt, _ = UserListFilter.from_params(params("role=moderator"))
    assert flt.active is True
    assert query_builder(flt.query())(page=2) == "q=&role=moderator&team_id=&status=active&page=2"
    everyone, _ = UserListFilter.from_params(params("status=&team_id=%C2%B9"))
    assert everyone.active is None and everyone.team_id is None and everyone.query()["status"] == ""
    assert UserListFilter.from_params(params("status=deactivated"))[0].active is False


def test_trail_filter_names_a_bad_date_and_keeps_it_as_typed():
    flt, errors = TrailFilter.from_params(params("action=case.view&date_from=2026-13-01&date_to=2026-06-30"))
    assert errors == {"date_from": "Enter a real date in the format YYYY-MM-DD"}
    assert (flt.date_from, flt.date_to) == (None, date(2026, 6, 30))
    assert flt.query()["date_from"] == "2026-13-01" and flt.query()["action"] == "case.view"


# --- Full page or results ------------------------------------------------------------------------------------


def request_with(headers: dict[str, str]) -> Request:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/cases", "headers": raw, "query_string": b""})


@pytest.mark.parametrize(
    ("headers", "results_only"),
    [
        ({}, False),
        ({"HX-Request": "true"}, True),
        ({"HX-Request": "true", "HX-Target": "results"}, True),
        ({"HX-Request": "true", "HX-Target": "main-content"}, False),
        ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False),
        ({"HX-Target": "results"}, False),
    ],
)
def test_only_htmx_requests_for_the_results_get_the_results_block(headers, results_only):
    assert wants_results(request_with(headers)) is results_only
