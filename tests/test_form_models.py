"""The form models of sign-in, your own password, the Workers page, the import upload and a case added by hand:
what a browser posts reads as the view read it by hand before."""

from __future__ import annotations

from starlette.datastructures import FormData

from app.accounts.passwords import MIN_PASSWORD_LENGTH
from app.accounts.schemas import LoginForm, PasswordChangeForm
from app.cases.imports.schemas import ImportUploadForm
from app.cases.schemas import WorkerMapForm, WorkerUnmapForm
from app.sampling.schemas import SampleCaseAddForm
from app.web.forms import form_data, validate


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
