"""The form models of sign-in, your own password, the Workers page, the import upload, a case added by hand,
starting an audit, raising a recommendation and a new cycle: what a browser posts reads as the view read it by hand
before."""

from __future__ import annotations

from datetime import date

from starlette.datastructures import FormData

from app.accounts.passwords import MIN_PASSWORD_LENGTH
from app.accounts.schemas import LoginForm, PasswordChangeForm
from app.audits.schemas import AuditStartForm
from app.cases.imports.schemas import ImportUploadForm
from app.cases.schemas import WorkerMapForm, WorkerUnmapForm
from app.recommendations.schemas import MAX_TICKED_THEMES, RecommendationRaiseForm, RecommendationRaiseValues
from app.recommendations.service import TEXT_MAX_LENGTH
from app.sampling.schemas import CycleCreate, CycleForm, SampleCaseAddForm
from app.web.forms import date_from_parts, form_data, validate


def _read(model, pairs):
    return validate(model, form_data(FormData(pairs), model))


def test_sign_in_names_each_blank_field_in_its_own_words():
    data, errors = _read(LoginForm, [("username", "  "), ("password", "")])
    assert data is None
    assert errors == {"username": "Enter your username", "password": "Enter your password"}
    data, errors = _read(LoginForm, [("username", " Ann "), ("password", "x")])
    assert data is not None and data.username == " Ann " and data.next == ""  # sign-in tidies; "" means "/"


def test_a_new_password_is_checked_for_length_then_for_the_match():
    short = "a" * (MIN_PASSWORD_LENGTH - 1)
    _, errors = _read(PasswordChangeForm, [("new_password", short), ("confirm_password", "other")])
    assert errors == {"new_password": f"Your new password must be {MIN_PASSWORD_LENGTH} characters or more"}
    _, errors = _read(PasswordChangeForm, [("new_password", "a" * 201), ("confirm_password", "a" * 201)])
    assert errors == {"new_password": "Your new password must be 200 characters or fewer"}
    good = "a" * MIN_PASSWORD_LENGTH
    _, errors = _read(PasswordChangeForm, [("new_password", good), ("confirm_password", good + "b")])
    assert errors == {"confirm_password": "The two new passwords do not match"}
    data, errors = _read(PasswordChangeForm, [("new_password", good), ("confirm_password", good)])
    assert data is not None and errors == {} and data.current_password == ""


def test_the_workers_forms_never_refuse_and_read_a_bad_choice_as_none():
    for user_id in ("", "abc", "\u00b9", "1234567890", "-1"):
        data, errors = _read(WorkerMapForm, [("key", "k"), ("user_id", user_id)])
        assert errors == {} and data is not None and data.user_id is None
    data, _ = _read(WorkerMapForm, [("user_id", " 7 ")])
    assert data is not None and (data.key, data.state, data.user_id) == ("", "attention", 7)
    data, _ = _read(WorkerUnmapForm, [("key", "k"), ("state", "mapped")])
    assert data is not None and (data.key, data.state) == ("k", "mapped")


def test_the_upload_choices_default_to_never_closing_anything():
    data, _ = _read(ImportUploadForm, [])
    assert data is not None and data.model_dump() == {"format": "", "mode": "all_or_nothing", "full": False}
    data, _ = _read(ImportUploadForm, [("format", "csv"), ("mode", "skip_invalid"), ("full", "yes")])
    assert data is not None and data.model_dump() == {"format": "csv", "mode": "skip_invalid", "full": True}
    data, _ = _read(ImportUploadForm, [("full", "no")])
    assert data is not None and data.full is False


def test_a_case_added_by_hand_is_cut_to_length_for_the_service_to_name():
    data, errors = _read(SampleCaseAddForm, [("reason", "r" * 5000)])
    assert errors == {} and data is not None
    assert data.child_id == "" and len(data.reason) == 2000


def _read_dated(model, pairs, *dates):
    """As a view reads a form with GOV.UK date inputs: each date joined from its boxes."""
    form = FormData(pairs)
    return validate(model, {**form_data(form, model), **{name: date_from_parts(form, name) for name in dates}})


def test_starting_an_audit_names_a_due_date_that_is_not_a_date_and_reads_a_bad_auditor_as_none():
    due = [("due_date-day", "31"), ("due_date-month", "2"), ("due_date-year", "2026")]
    data, errors = _read_dated(AuditStartForm, [("template_key", "dip_sample"), *due], "due_date")
    assert data is None and errors == {"due_date": "The due date must be a real date"}
    data, errors = _read_dated(AuditStartForm, [("auditor_id", "abc")], "due_date")
    assert errors == {} and data is not None and (data.template_key, data.auditor_id, data.due_date) == ("", None, None)
    data, _ = _read_dated(
        AuditStartForm,
        [("auditor_id", "7"), ("due_date-day", "15"), ("due_date-month", "12"), ("due_date-year", "2026")],
        "due_date",
    )
    assert data is not None and (data.auditor_id, data.due_date) == (7, date(2026, 12, 15))


def test_a_raised_recommendation_refuses_a_theme_that_is_not_a_number_and_reads_the_first_fifty():
    data, errors = _read_dated(RecommendationRaiseForm, [("theme_ids", "3"), ("theme_ids", "x")], "due_date")
    assert data is None and errors == {"theme_ids": "Choose themes from the list"}
    ticked = [("theme_ids", str(n)) for n in range(1, MAX_TICKED_THEMES + 1)] + [("theme_ids", "x")]
    data, errors = _read_dated(RecommendationRaiseForm, ticked, "due_date")
    assert errors == {} and data is not None and data.theme_ids == list(range(1, MAX_TICKED_THEMES + 1))
    due = [("due_date-day", "31"), ("due_date-month", "2"), ("due_date-year", "2027")]
    _, errors = _read_dated(RecommendationRaiseForm, due, "due_date")
    assert errors == {"due_date": "The due date must be a real date, for example 27 3 2027"}
    data, _ = _read_dated(RecommendationRaiseForm, [("owner_id", "Ann"), ("service_area_id", " 4 ")], "due_date")
    assert data is not None and (data.owner_id, data.service_area_id, data.priority) == (None, 4, "")


def test_a_raised_recommendation_is_shown_again_as_typed_and_cut_to_length():
    shown = RecommendationRaiseValues.model_validate(
        form_data(FormData([("text", "t" * 9000), ("owner_id", "Ann"), ("theme_ids", "x")]), RecommendationRaiseValues)
    )
    assert len(shown.text) == TEXT_MAX_LENGTH + 100 and shown.owner_id == "Ann" and shown.theme_ids == ["x"]


def test_a_new_cycle_reads_the_moderation_rate_as_a_percentage():
    for typed, rate in (("12.5 %", 0.125), ("", 0.1), ("0", 0.0), ("100%", 1.0)):
        data, errors = _read(CycleForm, [("moderation_rate", typed)])
        assert errors == {} and data is not None and data.moderation_rate == rate, typed
    data, _ = _read(CycleForm, [])
    assert data is not None and data.moderation_rate == 0.1 and data.blind_moderation is False  # box unticked
    for typed in ("lots", "101", "-1", "nan"):
        _, errors = _read(CycleForm, [("moderation_rate", typed)])
        assert errors == {"moderation_rate": "Moderation rate must be a number from 0 to 100, like 10"}, typed


def test_a_new_cycle_is_read_into_the_fields_cycle_create_judges():
    posted = [
        ("title", "  Missing children "),
        ("kind", " "),
        ("template_key", "dip_sample"),
        ("theme", " Return interviews "),
        ("blind_moderation", "yes"),
        ("due_date-day", "30"),
        ("due_date-month", "6"),
        ("due_date-year", "2027"),
    ]
    data, _ = _read_dated(CycleForm, posted, "start_date", "due_date")
    assert data is not None
    assert data.model_dump() == {
        "title": "Missing children",
        "kind": None,  # not chosen: CycleCreate names it
        "template_key": "dip_sample",
        "theme": "Return interviews",
        "start_date": None,
        "due_date": "2027-06-30",
        "moderation_rate": 0.1,
        "blind_moderation": True,
    }
    _, problems = validate(CycleCreate, data.model_dump())
    assert set(problems) == {"kind"}
