"""The audit pages over HTTP: starting an audit, the section pages (autosave and "Save and continue"), check and submit."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from app.audits.models import Audit, AuditAnswer
from tests.factories import csrf_token, login, make_audit, post_form
from tests.factories import page_text as _page_text

DIP_QUESTIONS = [
    "chronology_up_to_date",
    "assessment_within_45_days",
    "oversight_last_month",
    "supervision_within_6_weeks",
    "child_voice_recorded",
    "plan_reviewed_on_time",
    "seen_alone_last_visit",
    "child_missing_12m",
]


def page_text(markup: str) -> str:
    """What a user reads: tags dropped and entities (&#34; for a quote) decoded."""
    return html.unescape(_page_text(markup))


def autosave(client, audit, section: str, answers: dict, *, version: int | None = None, shown=None, extra=None):
    """What htmx sends when an answer changes: the whole section form, with the CSRF token in a header."""
    data: dict = {
        "_version": str(audit.version if version is None else version),
        "_shown": list(shown if shown is not None else answers),
    }
    data.update(answers)
    data.update(extra or {})
    return client.post(
        f"/audits/{audit.id}/sections/{section}/autosave",
        data=data,
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_token(client)},
    )


def stored(db, audit) -> dict:
    rows = db.execute(select(AuditAnswer).where(AuditAnswer.audit_id == audit.id)).scalars()
    return {row.question_key: row.value for row in rows if row.value is not None}


@pytest.fixture
def audit(db, templates, people, case):
    return make_audit(db, case=case, auditor=people.auditor, actor=people.lead)


def _answer_all_dip(client, audit, **overrides):
    answers = dict.fromkeys(DIP_QUESTIONS, "yes") | {"child_missing_12m": "no"} | overrides
    response = post_form(
        client,
        f"/audits/{audit.id}/sections/compliance",
        {**answers, "_shown": list(answers), "_version": str(audit.version)},
    )
    assert response.status_code == 303, page_text(response.text)[:500]
    return response


# --- Templates (QA lead) ---------------------------------------------------------------------


def test_templates_page_lists_every_published_version(client, templates, people):
    login(client, "lead")
    text = page_text(client.get("/templates").text)
    for title in ("Case file audit", "Dip sample compliance checklist", "Multi-agency"):
        assert title in text
    assert re.search(r"Dip sample compliance checklist version 1 dip_sample Dip sample 1 \S+ \S+ \S+ 2 15", text), text


def test_template_preview_shows_the_form_with_its_rules_in_words(client, templates, people):
    login(client, "lead")
    response = client.get("/templates/case_file_audit/1")
    assert response.status_code == 200
    text = page_text(response.text)
    assert ("Shown when 'Has the child been missing from home or care in the last 12 months?' is Yes") in text
    assert "Shown when 'Which plan is the child on?' is answered and is not No plan" in text
    assert (
        "Suggested from the register: Yes when Assessment authorised was within 45 working days of referral, "
        "otherwise No"
    ) in text
    assert "Shown when 'Is the plan SMART" in text  # a generated explanation says when it appears
    # Every input is disabled: a preview saves nothing.
    inputs = re.findall(r"<(?:input|textarea)[^>]*>", response.text)
    assert inputs and all(" disabled" in tag for tag in inputs)
    assert client.get("/templates/case_file_audit/99").status_code == 404
    assert client.get("/templates/no_such/1").status_code == 404


def test_an_auditor_cannot_see_the_templates_pages(client, templates, people):
    login(client, "auditor")
    assert client.get("/templates").status_code == 403


# --- Starting an audit -----------------------------------------------------------------------


def test_qa_lead_starts_an_audit_from_the_case_page(client, db, templates, people, case):
    login(client, "lead")
    case_page = client.get(f"/cases/{case.id}")
    assert "No audits yet" in page_text(case_page.text)
    assert f'href="/cases/{case.id}/audits/new"' in case_page.text
    form = client.get(f"/cases/{case.id}/audits/new")
    assert form.status_code == 200
    text = page_text(form.text)
    assert "Case file audit" in text and "Asha Auditor" in text
    # Only auditors are offered, each with why they may not audit this case (the rules allocation applies).
    assert f'<option value="{people.lead.id}"' not in form.text  # the QA lead is no auditor
    assert "Otto Other – cannot: no current auditor training recorded" in text
    response = post_form(
        client,
        f"/cases/{case.id}/audits/new",
        {
            "template_key": "dip_sample",
            "auditor_id": str(people.auditor.id),
            "due_date-day": "15",
            "due_date-month": "12",
            "due_date-year": "2026",
        },
    )
    assert response.status_code == 303
    audit = db.execute(select(Audit).where(Audit.case_id == case.id)).scalar_one()
    assert response.headers["location"] == f"/audits/{audit.id}"
    assert (audit.template_key, audit.template_version, audit.auditor_id, audit.status) == (
        "dip_sample",
        2,
        people.auditor.id,
        "allocated",
    )
    assert audit.due_date.isoformat() == "2026-12-15"
    listed = page_text(client.get(f"/cases/{case.id}").text)
    assert "Dip sample compliance checklist" in listed and "Asha Auditor" in listed and "Not started" in listed


def test_starting_an_audit_without_choices_shows_each_error(client, db, templates, people, case):
    login(client, "lead")
    response = post_form(
        client,
        f"/cases/{case.id}/audits/new",
        {
            "template_key": "nope",
            "auditor_id": "99999",
            "due_date-day": "31",
            "due_date-month": "2",
            "due_date-year": "2026",
        },
    )
    assert response.status_code == 400
    text = page_text(response.text)
    for message in ("Select the template", "Select the auditor", "The due date must be a real date"):
        assert message in text
    assert db.execute(select(Audit)).first() is None


def test_starting_an_audit_needs_a_case_that_exists(client, templates, people):
    login(client, "lead")
    assert client.get("/cases/999999/audits/new").status_code == 404
    assert client.get("/cases/abc/audits/new").status_code == 404


def test_the_start_form_refuses_a_missing_csrf_token(client, db, templates, people, case):
    login(client, "lead")
    response = client.post(
        f"/cases/{case.id}/audits/new", data={"template_key": "dip_sample", "auditor_id": str(people.lead.id)}
    )
    assert response.status_code == 403 and "could not be sent" in page_text(response.text)
    assert db.execute(select(Audit)).first() is None


# --- The overview and a section page ---------------------------------------------------------


def test_overview_lists_sections_with_progress_and_the_case(client, audit, people):
    login(client, "auditor")
    text = page_text(client.get(f"/audits/{audit.id}").text)
    assert "Audit of child CHILD0001" in text
    assert "Compliance checklist 0 of 8 answered" in text and "Not started" in text
    assert "Safeguarding" in text
    assert "Referral 3 August 2026" in text  # the register's facts beside the form
    _answer_all_dip(client, audit, chronology_up_to_date="yes")
    text = page_text(client.get(f"/audits/{audit.id}").text)
    assert "Compliance checklist 8 of 8 answered Completed" in text


def test_section_page_shows_each_question_and_the_registers_suggestion(client, audit, people):
    login(client, "auditor")
    response = client.get(f"/audits/{audit.id}/sections/compliance")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "Is the chronology up to date" in text
    assert (
        "Suggested from the register: No — Assessment authorised 64 working days after referral: "
        "3 Aug 2026 to 2 Nov 2026, limit 45"
    ) in text
    assert "Suggested from the register: Yes — Child seen alone: yes in the register" in text
    # A suggestion is not an answer: nothing is chosen until the auditor chooses.
    assert not re.search(r'name="assessment_within_45_days"[^>]*checked', response.text)
    # The conditional question waits for "missing in the last 12 months" to be Yes.
    assert (
        '<div id="question-return_interview_within_72_hours" class="app-question" data-question="return_interview_within_72_hours" hidden'
        in response.text
    )
    assert f'data-app-autosave="/audits/{audit.id}/sections/compliance/autosave"' in response.text
    assert client.get(f"/audits/{audit.id}/sections/no_such_section").status_code == 404


# --- Autosave (htmx) --------------------------------------------------------------------------


def test_each_answer_is_saved_as_given_with_the_new_version(client, db, audit, people):
    login(client, "auditor")
    response = autosave(client, audit, "compliance", {"assessment_within_45_days": "yes"})
    assert response.status_code == 200
    assert "Saved" in page_text(response.text)
    assert re.search(
        r'<input type="hidden" name="_version" id="audit-version" value="2" hx-swap-oob="true">', response.text
    )
    row = db.execute(
        select(AuditAnswer).where(
            AuditAnswer.audit_id == audit.id, AuditAnswer.question_key == "assessment_within_45_days"
        )
    ).scalar_one()
    # The auditor's answer, with the register's suggestion recorded beside it.
    assert (row.value, row.prefill_value, row.updated_by_id) == ("yes", "no", people.auditor.id)
    assert "64 working days" in row.prefill_explanation
    db.refresh(audit)
    assert (audit.version, audit.status) == (2, "in_progress")
    # Reloading the page shows the answer.
    page = client.get(f"/audits/{audit.id}/sections/compliance").text
    assert re.search(r'name="assessment_within_45_days" type="radio" value="yes" checked', page)


def test_an_answer_that_brings_up_a_question_swaps_it_in(client, db, audit, people):
    login(client, "auditor")
    response = autosave(client, audit, "compliance", {"chronology_up_to_date": "no"})
    assert response.status_code == 200
    assert (
        '<div id="question-chronology_up_to_date__explanation" class="app-question" '
        'data-question="chronology_up_to_date__explanation" hx-swap-oob="true">' in response.text
    )
    assert "Explain why the answer is No" in page_text(response.text)
    # Unchanged questions are left alone (the auditor may be in the middle of one).
    assert 'id="question-oversight_last_month"' not in response.text
    db.refresh(audit)
    back = autosave(
        client,
        audit,
        "compliance",
        {"chronology_up_to_date": "yes"},
        shown=["chronology_up_to_date", "chronology_up_to_date__explanation"],
    )
    assert (
        '<div id="question-chronology_up_to_date__explanation" class="app-question" '
        'data-question="chronology_up_to_date__explanation" hidden hx-swap-oob="true">' in back.text
    )


def test_a_save_of_another_question_from_an_older_page_succeeds_and_brings_the_page_up_to_date(
    client, db, audit, people
):
    login(client, "auditor")
    assert autosave(client, audit, "compliance", {"chronology_up_to_date": "yes"}, version=1).status_code == 200
    other = autosave(client, audit, "compliance", {"oversight_last_month": "no"}, version=1)
    assert other.status_code == 200
    assert stored(db, audit) == {"chronology_up_to_date": "yes", "oversight_last_month": "no"}
    # The page learns the answer given elsewhere: the question is redrawn with it, known at the new version.
    assert (
        '<div id="question-chronology_up_to_date" class="app-question" data-question="chronology_up_to_date" hx-swap-oob="true">'
        in other.text
    )
    assert 'value="yes" checked' in other.text
    assert '<input type="hidden" name="_version" id="audit-version" value="3" hx-swap-oob="true">' in other.text


def test_a_stale_save_of_the_same_question_is_refused_showing_both_answers_and_saves_nothing(client, db, audit, people):
    login(client, "auditor")
    assert autosave(client, audit, "compliance", {"chronology_up_to_date": "yes"}, version=1).status_code == 200
    stale = autosave(client, audit, "compliance", {"chronology_up_to_date": "no"}, version=1)
    assert stale.status_code == 409
    text = page_text(stale.text)
    assert "also changed by someone else" in text
    assert "Your answer No" in text and "Saved answer Yes" in text
    assert stored(db, audit) == {"chronology_up_to_date": "yes"}
    # The question itself is not redrawn (the auditor's No stays on the page) and the version is not taken.
    assert (
        'id="question-chronology_up_to_date" class="app-question" data-question="chronology_up_to_date" hx-swap-oob'
        not in stale.text
    )
    assert 'id="audit-version"' not in stale.text


def test_saving_the_same_answers_again_is_not_a_conflict(client, db, audit, people):
    """An autosave racing "Save and continue" sends the same answers twice on one version."""
    login(client, "auditor")
    assert autosave(client, audit, "compliance", {"chronology_up_to_date": "yes"}, version=1).status_code == 200
    again = post_form(
        client,
        f"/audits/{audit.id}/sections/compliance",
        {"chronology_up_to_date": "yes", "_shown": ["chronology_up_to_date"], "_version": "1"},
    )
    assert again.status_code == 303


def test_an_invalid_answer_is_refused_naming_the_question(client, db, audit, people):
    login(client, "auditor")
    response = autosave(client, audit, "compliance", {"chronology_up_to_date": "maybe", "oversight_last_month": "yes"})
    assert response.status_code == 422
    assert 'Select Yes, No or Not applicable for "Is the chronology up to date' in page_text(response.text)
    assert (
        '<div id="question-chronology_up_to_date" class="app-question" data-question="chronology_up_to_date" hx-swap-oob="true">'
        in response.text
    )
    assert "govuk-form-group--error" in response.text
    assert stored(db, audit) == {"oversight_last_month": "yes"}  # the valid answer beside it is kept


def test_a_question_the_page_did_not_show_is_not_touched(client, db, audit, people):
    login(client, "auditor")
    # Posted without its `_shown` marker (a hidden question sends nothing): ignored.
    autosave(
        client,
        audit,
        "compliance",
        {"chronology_up_to_date": "yes", "return_interview_within_72_hours": "no"},
        shown=["chronology_up_to_date"],
    )
    assert stored(db, audit) == {"chronology_up_to_date": "yes"}


def test_autosave_refuses_a_missing_csrf_token(client, db, audit, people):
    login(client, "auditor")
    response = client.post(
        f"/audits/{audit.id}/sections/compliance/autosave",
        data={"_version": "1", "_shown": "chronology_up_to_date", "chronology_up_to_date": "yes"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 403
    assert stored(db, audit) == {}


# --- Save and continue (no JavaScript) --------------------------------------------------------


def test_save_and_continue_goes_to_the_next_section(client, db, audit, people):
    login(client, "auditor")
    response = _answer_all_dip(client, audit)
    assert response.headers["location"] == f"/audits/{audit.id}/sections/safeguarding"
    assert stored(db, audit)["child_missing_12m"] == "no"


def test_save_and_continue_shows_questions_the_answers_brought_up(client, db, audit, people):
    login(client, "auditor")
    response = _answer_all_dip(client, audit, child_missing_12m="yes")
    assert response.headers["location"] == (f"/audits/{audit.id}/sections/compliance#return_interview_within_72_hours")
    page = client.get(f"/audits/{audit.id}/sections/compliance").text
    assert (
        '<div id="question-return_interview_within_72_hours" class="app-question" data-question="return_interview_within_72_hours">'
        in page
    )


def test_save_and_continue_with_a_bad_answer_shows_an_error_summary(client, db, audit, people):
    login(client, "auditor")
    response = post_form(
        client,
        f"/audits/{audit.id}/sections/compliance",
        {
            "chronology_up_to_date": "sometimes",
            "oversight_last_month": "no",
            "_shown": ["chronology_up_to_date", "oversight_last_month"],
            "_version": "1",
        },
    )
    assert response.status_code == 400
    assert "There is a problem" in page_text(response.text)
    assert 'href="#chronology_up_to_date"' in response.text
    assert stored(db, audit) == {"oversight_last_month": "no"}
    assert response.text.count("Error:") >= 1


# --- Check, submit, read-only ------------------------------------------------------------------


def test_submit_with_missing_answers_lists_each_with_a_link_to_it(client, db, audit, people):
    login(client, "auditor")
    autosave(client, audit, "compliance", {"chronology_up_to_date": "no"})
    db.refresh(audit)
    check = client.get(f"/audits/{audit.id}/check")
    assert "Check your answers before submitting the audit" in page_text(check.text)
    response = post_form(client, f"/audits/{audit.id}/submit", {"_version": str(audit.version)})
    assert response.status_code == 400
    text = page_text(response.text)
    assert 'You answered No to "Is the chronology up to date' in text
    assert 'Select an answer for "Is there an immediate safeguarding concern for this child?"' in text
    assert (
        f'href="/audits/{audit.id}/sections/compliance?check=errors#chronology_up_to_date__explanation"'
        in response.text
    )
    assert (
        f'href="/audits/{audit.id}/sections/safeguarding?check=errors#immediate_safeguarding_concern"' in response.text
    )
    # The link's page shows that section's problems beside the questions.
    linked = client.get(f"/audits/{audit.id}/sections/compliance?check=errors")
    assert "govuk-error-summary" in linked.text and "govuk-form-group--error" in linked.text
    db.refresh(audit)
    assert audit.status == "in_progress"


def test_a_hidden_question_is_not_required_and_its_answer_is_kept(client, db, audit, people):
    login(client, "auditor")
    _answer_all_dip(client, audit, child_missing_12m="yes")
    db.refresh(audit)
    autosave(client, audit, "compliance", {"return_interview_within_72_hours": "yes"})
    db.refresh(audit)
    autosave(client, audit, "compliance", {"child_missing_12m": "no"})
    db.refresh(audit)
    assert stored(db, audit)["return_interview_within_72_hours"] == "yes"  # kept, though hidden now
    post_form(
        client,
        f"/audits/{audit.id}/sections/safeguarding",
        {
            "immediate_safeguarding_concern": "no",
            "_shown": ["immediate_safeguarding_concern", "comments"],
            "_version": str(audit.version),
        },
    )
    db.refresh(audit)
    check = page_text(client.get(f"/audits/{audit.id}/check").text)
    assert "Was a return home interview offered" not in check
    assert "Compliance checklist 100% (7 of 7)" in check
    response = post_form(client, f"/audits/{audit.id}/submit", {"_version": str(audit.version)})
    assert response.status_code == 303, page_text(response.text)[:800]
    db.refresh(audit)
    assert audit.status == "completed"  # submitted, not picked for moderation


def test_after_submit_the_audit_is_read_only(client, db, audit, people):
    login(client, "auditor")
    _answer_all_dip(client, audit)
    db.refresh(audit)
    post_form(
        client,
        f"/audits/{audit.id}/sections/safeguarding",
        {
            "immediate_safeguarding_concern": "no",
            "_shown": ["immediate_safeguarding_concern"],
            "_version": str(audit.version),
        },
    )
    db.refresh(audit)
    assert post_form(client, f"/audits/{audit.id}/submit", {"_version": str(audit.version)}).status_code == 303
    overview = page_text(client.get(f"/audits/{audit.id}").text)
    assert "Audit submitted" in overview and "Submitted" in overview
    section = client.get(f"/audits/{audit.id}/sections/compliance")
    assert "can no longer be changed" in page_text(section.text)
    assert "hx-post" not in section.text and "Save and continue" not in section.text
    assert "Change" not in page_text(client.get(f"/audits/{audit.id}/check").text)
    db.refresh(audit)
    refused = autosave(client, audit, "compliance", {"chronology_up_to_date": "no"})
    assert refused.status_code == 409
    assert stored(db, audit)["chronology_up_to_date"] == "yes"


def test_a_stale_submit_is_a_conflict(client, db, audit, people):
    login(client, "auditor")
    response = post_form(client, f"/audits/{audit.id}/submit", {"_version": "7"})
    assert response.status_code == 409
    assert "changed since you opened it" in page_text(response.text)


# --- Who may see and change an audit ------------------------------------------------------------


def test_another_auditor_cannot_see_the_audit(client, db, audit, people):
    login(client, "other")
    for url in (f"/audits/{audit.id}", f"/audits/{audit.id}/sections/compliance", f"/audits/{audit.id}/check"):
        assert client.get(url).status_code == 404, url
    assert autosave(client, audit, "compliance", {"chronology_up_to_date": "yes"}).status_code == 404
    assert stored(db, audit) == {}


def test_the_qa_lead_reads_but_cannot_change_someone_elses_audit(client, db, audit, people):
    login(client, "lead")
    section = client.get(f"/audits/{audit.id}/sections/compliance")
    assert section.status_code == 200
    assert "Only the auditor it is allocated to can change its answers" in page_text(section.text)
    assert re.search(r'name="chronology_up_to_date" type="radio" value="yes" disabled', section.text)
    assert autosave(client, audit, "compliance", {"chronology_up_to_date": "yes"}).status_code == 403
    assert post_form(client, f"/audits/{audit.id}/submit", {"_version": "1"}).status_code == 403
    assert stored(db, audit) == {}


def test_my_audits_lists_only_mine_and_the_lead_sees_all(client, db, audit, people, case):
    make_audit(db, case=case, auditor=people.other_auditor, actor=people.lead, template_key="thematic_missing")
    login(client, "auditor")
    mine = page_text(client.get("/audits").text)
    assert "My audits" in mine and "Dip sample" in mine and "Thematic audit" not in mine
    login(client, "lead")
    everything = page_text(client.get("/audits").text)
    assert "Dip sample" in everything and "Thematic audit" in everything and "Otto Other" in everything
    submitted = page_text(client.get("/audits?status=submitted").text)
    assert "No audits with this status" in submitted
    assert client.get("/audits?status=bogus&page=abc").status_code == 200


def test_audit_ids_out_of_range_are_not_server_errors(client, audit, people):
    login(client, "auditor")
    for url in ("/audits/0", "/audits/99999999999999", "/audits/abc/check", "/audits/1/sections/" + "x" * 100):
        assert client.get(url).status_code in (400, 404), url


def test_without_javascript_a_stale_section_shows_each_difference_and_keeps_or_takes_answers(client, db, audit, people):
    """The form posted whole (no JavaScript) by a page opened at version 1, after another tab answered two questions."""
    login(client, "auditor")
    assert (
        autosave(
            client, audit, "compliance", {"chronology_up_to_date": "yes", "oversight_last_month": "yes"}
        ).status_code
        == 200
    )
    page_as_drawn = {
        "_version": "1",
        "_shown": ["chronology_up_to_date", "oversight_last_month", "child_voice_recorded"],
        "_was-chronology_up_to_date": "null",
        "_was-oversight_last_month": "null",
        "_was-child_voice_recorded": "null",
        # The auditor answered chronology No and child's voice Yes; oversight left as the page showed it (blank).
        "chronology_up_to_date": "no",
        "child_voice_recorded": "yes",
    }
    refused = post_form(client, f"/audits/{audit.id}/sections/compliance", page_as_drawn)
    assert refused.status_code == 409
    text = page_text(refused.text)
    assert "Your answer No" in text and "Saved answer Yes" in text and "Changed by Asha Auditor" in text
    assert stored(db, audit) == {"chronology_up_to_date": "yes", "oversight_last_month": "yes"}  # nothing saved
    # The form shows what the auditor chose, and the untouched question as now saved.
    assert re.search(r'name="chronology_up_to_date"[^>]*value="no" checked', refused.text)
    assert re.search(r'name="oversight_last_month"[^>]*value="yes" checked', refused.text)
    assert re.search(r'name="child_voice_recorded"[^>]*value="yes" checked', refused.text)
    # "Use the saved answer" (no JavaScript): the page again with the saved Yes, nothing saved yet.
    form = _form_fields(refused.text)
    taken = post_form(client, f"/audits/{audit.id}/sections/compliance", {**form, "_take": "chronology_up_to_date"})
    assert taken.status_code == 200 and "Your answer No" not in page_text(taken.text)
    assert re.search(r'name="chronology_up_to_date"[^>]*value="yes" checked', taken.text)
    # Save and continue now saves the auditor's own change and keeps the other tab's answers.
    saved = post_form(client, f"/audits/{audit.id}/sections/compliance", _form_fields(taken.text))
    assert saved.status_code == 303
    assert stored(db, audit) == {
        "chronology_up_to_date": "yes",
        "oversight_last_month": "yes",
        "child_voice_recorded": "yes",
    }
    # Keeping an answer: sending the refused page again as it stands saves the auditor's No.
    again = post_form(client, f"/audits/{audit.id}/sections/compliance", form)
    assert again.status_code == 303
    assert stored(db, audit)["chronology_up_to_date"] == "no"


def _form_fields(markup: str) -> dict:
    """The fields a browser would post from the section form: hidden inputs, checked radios and checkboxes."""
    fields: dict = {}
    form = markup.split('<form method="post"', 1)[1].split("</form>", 1)[0]
    form = re.sub(r"<template.*?</template>", "", form, flags=re.S)  # inert: a browser never sends it
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or name.group(1) in ("_keep", "_take", "csrf_token"):
            continue
        if ('type="radio"' in tag or 'type="checkbox"' in tag) and " checked" not in tag:
            continue
        fields.setdefault(name.group(1), []).append(html.unescape(value.group(1)) if value else "")
    return {k: v if len(v) > 1 else v[0] for k, v in fields.items()}


def _start(client, case, auditor):
    return post_form(
        client,
        f"/cases/{case.id}/audits/new",
        {"template_key": "dip_sample", "auditor_id": str(auditor.id)},
    )


def test_starting_an_audit_by_hand_refuses_an_auditor_whose_training_expired(client, db, templates, people, case):
    """The checks allocation makes apply to an audit started by hand, with the same words; nothing is created."""
    from datetime import date

    from app.accounts.roles import TrainingKind
    from tests.factories import add_training

    add_training(db, people.other_auditor, TrainingKind.AUDITOR, date(2023, 1, 9), expires_on=date(2024, 1, 9))
    login(client, "lead")
    response = _start(client, case, people.other_auditor)
    assert response.status_code == 400
    assert "Otto Other cannot audit this case: auditor training expired on 9 Jan 2024" in page_text(response.text)
    assert db.execute(select(Audit)).first() is None


def test_starting_an_audit_by_hand_refuses_the_cases_own_worker(client, db, templates, people):
    from app.accounts.roles import Role
    from tests.factories import make_case, make_team, make_user, map_people

    team = make_team(db, name="Hillside")
    case = make_case(db, child_id="CHILD0042", team=team, worker_id="W42", worker_name="Wren Worker")
    worker = make_user(db, username="wren", roles=(Role.AUDITOR, Role.PRACTITIONER), full_name="Asha Auditor 2")
    from app.accounts.roles import TrainingKind
    from tests.factories import add_training

    add_training(db, worker, TrainingKind.AUDITOR, date_of(2020, 1, 6))
    map_people(db, case, worker=worker)
    login(client, "lead")
    response = _start(client, case, worker)
    assert response.status_code == 400
    assert "Asha Auditor 2 cannot audit this case: is the allocated worker" in page_text(response.text)
    assert db.execute(select(Audit)).first() is None
    assert _start(client, case, people.auditor).status_code == 303  # a trained auditor from another team may


def date_of(*parts):
    from datetime import date

    return date(*parts)
