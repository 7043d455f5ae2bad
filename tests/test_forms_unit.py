"""app.web.forms: validation wording people read, and GOV.UK date inputs."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import pytest
from pydantic import BaseModel, EmailStr, Field
from starlette.datastructures import FormData

from app.accounts.schemas import TeamCreate, TeamUpdate, TrainingCreate, UserCreate, UserUpdate
from app.web.forms import date_from_parts, error_summary, field_error, friendly_message, validate


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Example(BaseModel):
    name: str = Field(title="Team name", min_length=1, max_length=5)
    code: str = Field(default="abcd", title="code", min_length=3)
    email: EmailStr | None = Field(default=None, title="email address")
    colour: Colour = Field(default=Colour.RED, title="colour")
    tags: list[str] = Field(default_factory=lambda: ["x"], title="tags", min_length=1)
    when: date | None = Field(default=None, title="date completed")
    untitled_field: int = 0


def _errors(data: dict) -> dict[str, str]:
    model, errors = validate(Example, data)
    assert model is None
    return errors


def test_valid_data_returns_the_model_and_no_errors():
    model, errors = validate(Example, {"name": "Ab", "when": "2026-03-27"})
    assert errors == {}
    assert model is not None and model.name == "Ab" and model.when == date(2026, 3, 27)


def test_missing_field_says_enter_with_the_lower_case_title():
    assert _errors({}) == {"name": "Enter team name"}


def test_empty_string_for_a_required_text_field_says_enter():
    assert _errors({"name": ""})["name"] == "Enter team name"


def test_too_short_names_the_minimum_length():
    assert _errors({"name": "Ab", "code": "ab"})["code"] == "Code must be 3 characters or more"


def test_too_long_names_the_maximum_length():
    assert _errors({"name": "abcdef"})["name"] == "Team name must be 5 characters or fewer"


def test_invalid_email_gives_the_gov_uk_format_message():
    message = _errors({"name": "Ab", "email": "not-an-email"})["email"]
    assert message == "Enter an email address in the correct format, like name@example.org"


def test_value_outside_an_enum_says_select_from_the_list():
    assert _errors({"name": "Ab", "colour": "green"})["colour"] == "Select colour from the list"


def test_int_parsing_error_says_select_from_the_list():
    assert _errors({"name": "Ab", "untitled_field": "x"})["untitled_field"] == "Select untitled field from the list"


def test_empty_list_says_select_at_least_one():
    assert _errors({"name": "Ab", "tags": []})["tags"] == "Select at least one of the tags"


@pytest.mark.parametrize("value", ["31-2-2026", "2026-02-31", "yesterday", "-2-2026"])
def test_bad_date_says_it_must_be_a_real_date(value):
    assert _errors({"name": "Ab", "when": value})["when"] == "Date completed must be a real date"


def test_optional_text_fields_get_the_same_wording_as_required_ones():
    """`str | None` fields with lengths report generic too_short/too_long errors; people still read "Enter ..."."""
    _, errors = validate(UserUpdate, {"version": 1, "full_name": ""})
    assert errors == {"full_name": "Enter full name"}
    _, errors = validate(UserUpdate, {"version": 1, "full_name": "x" * 201})
    assert errors == {"full_name": "Full name must be 200 characters or fewer"}
    _, errors = validate(TeamUpdate, {"version": 1, "name": "   "})
    assert errors == {"name": "Enter team name"}


def test_empty_list_on_an_optional_list_field_still_says_select_at_least_one():
    _, errors = validate(UserUpdate, {"version": 1, "roles": []})
    assert errors == {"roles": "Select at least one of the roles"}


def test_blank_required_date_says_enter_not_real_date():
    _, errors = validate(TrainingCreate, {"kind": "auditor", "completed_on": None, "expires_on": None})
    assert errors == {"completed_on": "Enter date completed"}


def test_value_error_from_a_validator_is_shown_without_pydantic_prefix():
    _, errors = validate(TrainingCreate, {"kind": "auditor", "completed_on": "2026-03-01", "expires_on": "2026-02-01"})
    assert errors == {"expires_on": "Expiry date must be after the date completed"}


def test_first_error_per_field_wins_and_every_bad_field_is_named():
    _, errors = validate(UserCreate, {"password": "short", "full_name": "", "roles": []})
    assert errors["username"] == "Enter username"
    assert errors["password"] == "Password must be 10 characters or more"
    assert errors["full_name"] == "Enter full name"
    assert errors["roles"] == "Select at least one of the roles"


def test_unknown_error_kind_falls_back_to_label_and_pydantic_message():
    field, message = friendly_message(Example, {"loc": ("name",), "type": "something_new", "msg": "odd", "ctx": {}})
    assert (field, message) == ("name", "Team name: odd")


def test_error_without_location_is_attributed_to_the_form():
    field, message = friendly_message(TeamCreate, {"loc": (), "type": "missing", "msg": "Field required"})
    assert (field, message) == ("form", "Enter form")


def test_error_summary_links_each_message_to_its_field():
    assert error_summary({"name": "Enter team name"}) == [{"text": "Enter team name", "href": "#name"}]
    assert field_error({"name": "Enter team name"}, "name") == {"text": "Enter team name"}
    assert field_error({"name": "x"}, "other") is None
    assert field_error(None, "name") is None


def _date_form(day: str, month: str, year: str) -> FormData:
    return FormData([("completed_on-day", day), ("completed_on-month", month), ("completed_on-year", year)])


def test_date_from_parts_blank_is_none():
    assert date_from_parts(FormData([]), "completed_on") is None
    assert date_from_parts(_date_form("", " ", ""), "completed_on") is None


def test_date_from_parts_joins_a_real_date_as_iso():
    assert date_from_parts(_date_form("7", "3", "2026"), "completed_on") == "2026-03-07"
    assert date_from_parts(_date_form(" 27 ", "03", "2026"), "completed_on") == "2026-03-27"


@pytest.mark.parametrize(
    ("day", "month", "year"),
    [
        ("31", "2", "2026"),
        ("", "2", "2026"),
        ("1", "13", "2026"),
        ("x", "1", "2026"),
        # Typed in the wrong boxes: must not be read as 1 January 2026.
        ("2026", "01", "01"),
        ("2026", "01", "01T00:00"),
    ],
)
def test_date_from_parts_impossible_date_fails_validation(day, month, year):
    raw = date_from_parts(_date_form(day, month, year), "completed_on")
    assert raw is not None
    _, errors = validate(TrainingCreate, {"kind": "auditor", "completed_on": raw})
    assert errors == {"completed_on": "Date completed must be a real date"}


def test_error_summary_follows_page_order_and_link_targets():
    errors = {"password": "Enter password", "username": "Enter username", "when": "Enter when"}
    items = error_summary(errors, ["username", "password"], {"when": "when-day"})
    assert [i["text"] for i in items] == ["Enter username", "Enter password", "Enter when"]
    assert items[2]["href"] == "#when-day"


def test_a_posted_version_is_a_whole_number_or_none():
    from app.web.forms import STALE_VERSION, posted_version

    assert posted_version({"version": "7"}) == 7 and posted_version({"_version": " 12 "}, "_version") == 12
    for bad in ("", "x", "-1", "1.5", "1234567890", "٣"):
        assert posted_version({"version": bad}) is None, bad
    assert posted_version({}) is None and (posted_version({"version": "abc"}) or STALE_VERSION) == 0
