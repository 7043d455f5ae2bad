"""Moderation pages over HTTP: blind grading, comparison and decision, return and resubmission, the queue, the QA
lead's reassign and add, and the refusals (wrong user, stale form, missing CSRF token)."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import delete

from app.accounts.models import TrainingRecord
from app.accounts.roles import Role, TrainingKind
from app.audits import selectors as audit_selectors
from app.moderation import selectors, service
from tests.factories import add_training, login, make_user, post_form
from tests.factories import page_text as _page_text
from tests.moderation.conftest import CURRENT, new_audit, submit

AUDITOR_OVERALL_LABEL = "Overall grade for the quality of practice with this child"


def page_text(markup: str) -> str:
    return html.unescape(_page_text(markup))


@pytest.fixture
def moderated(db, mw):
    """An Inadequate audit of a South Team case: Mona (in that team) may not moderate it, so Max does, blind.
    The auditor graded every section Outstanding and the audit Inadequate; the text answers are "Evidence for …"."""
    audit = submit(db, new_audit(db, mw, team=mw.south), mw.auditor, overall="inadequate", section="outstanding")
    round_ = selectors.latest_round(db, audit_id=audit.id)
    assert round_.moderator_id == mw.max.id and round_.blind
    _, definition = audit_selectors.audit_template(db, audit)
    sections = service.sections_to_grade(definition, audit_selectors.audit_answers(db, audit=audit))
    return audit, round_, sections


def _grades_form(sections, round_, section="good", overall="requires_improvement", **extra):
    return {
        "_version": str(round_.version),
        **{f"grade_{s.key}": section for s in sections},
        "overall_grade": overall,
        **extra,
    }


def _decide_form(sections, round_, *, agree=True, **extra):
    answer = "agree" if agree else "disagree"
    return {
        "_version": str(round_.version),
        **{f"agree_{s.key}": answer for s in sections},
        "agree_overall": answer,
        **extra,
    }


def test_blind_grading_shows_the_facts_and_answers_but_not_the_auditors_grades(client, db, mw, moderated):
    audit, _, sections = moderated
    login(client, "max")
    response = client.get(f"/audits/{audit.id}/moderation")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "Grade this audit" in text and "The case in the register" in text
    assert "Evidence for" in text  # the auditor's non-grade answers
    assert f"Your grade for {sections[0].title}" in text
    assert AUDITOR_OVERALL_LABEL not in text and "Grade for " not in text and "Auditor's grade" not in text
    assert "checked" not in response.text  # nothing chosen for the moderator
    # The audit's own pages, which show every answer, send the moderator here until they have graded.
    for path in ("", "/check"):
        response = client.get(f"/audits/{audit.id}{path}", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == f"/audits/{audit.id}/moderation"
    assert client.get(f"/audits/{audit.id}/print").status_code == 404


def test_grade_compare_and_accept(client, db, mw, moderated):
    audit, round_, sections = moderated
    login(client, "max")
    missing = post_form(client, f"/audits/{audit.id}/moderation/grade", {"_version": str(round_.version)})
    assert missing.status_code == 400
    text = page_text(missing.text)
    assert "There is a problem" in text and f"Select your grade for {sections[0].title}" in text
    assert f'href="#grade_{sections[0].key}"' in missing.text and 'href="#overall_grade"' in missing.text
    saved = post_form(client, f"/audits/{audit.id}/moderation/grade", _grades_form(sections, round_))
    assert saved.status_code == 303 and saved.headers["location"] == f"/audits/{audit.id}/moderation"
    compare_page = client.get(f"/audits/{audit.id}/moderation").text
    compare = page_text(compare_page)
    assert "Compare your grades with the auditor's" in compare
    assert f'<a class="govuk-link" href="/audits/{audit.id}">' in compare_page  # graded: the audit's pages open
    assert "None" not in compare  # empty text boxes are empty
    assert "Outstanding" in compare and "Requires improvement to be good" in compare
    assert "Different" in compare  # every row differs, said in words
    # Disagreeing without a rationale: the error names the field.
    db.refresh(round_)
    no_reason = post_form(
        client, f"/audits/{audit.id}/moderation/decide", _decide_form(sections, round_, agree=False, decision="accept")
    )
    assert no_reason.status_code == 400
    assert "Explain why you disagree with the auditor" in page_text(no_reason.text)
    assert 'href="#rationale"' in no_reason.text
    accepted = post_form(
        client,
        f"/audits/{audit.id}/moderation/decide",
        _decide_form(
            sections,
            round_,
            agree=False,
            decision="accept",
            rationale="Sections over-graded",
            learning="Check the chronology",
        ),
    )
    assert accepted.status_code == 303
    db.refresh(audit)
    db.refresh(round_)
    assert (audit.status, audit.final_grade) == ("completed", "requires_improvement")
    assert round_.agreement == {**{s.key: False for s in sections}, "overall": False}
    summary = page_text(client.get(f"/audits/{audit.id}/moderation").text)
    assert "Accepted" in summary and "Sections over-graded" in summary
    # Deciding again is refused with a message, not a change.
    again = post_form(
        client,
        f"/audits/{audit.id}/moderation/decide",
        _decide_form(sections, round_, decision="return", feedback="More"),
    )
    assert again.status_code == 409 and "already been decided" in page_text(again.text)


def test_return_feedback_reaches_the_auditor_who_resubmits_for_a_second_round(client, db, mw, moderated):
    audit, round_, sections = moderated
    login(client, "max")
    post_form(client, f"/audits/{audit.id}/moderation/grade", _grades_form(sections, round_))
    db.refresh(round_)
    no_feedback = post_form(
        client,
        f"/audits/{audit.id}/moderation/decide",
        _decide_form(sections, round_, agree=False, decision="return", rationale="Too generous"),
    )
    assert no_feedback.status_code == 400 and "Give feedback for the auditor" in page_text(no_feedback.text)
    returned = post_form(
        client,
        f"/audits/{audit.id}/moderation/decide",
        _decide_form(
            sections,
            round_,
            agree=False,
            decision="return",
            rationale="Too generous",
            feedback="Regrade the sections against the evidence",
            learning="Outstanding needs impact for the child",
        ),
    )
    assert returned.status_code == 303
    db.refresh(audit)
    assert audit.status == "returned"

    login(client, "asha")
    overview = page_text(client.get(f"/audits/{audit.id}").text)
    assert "Returned by the moderator" in overview and "Regrade the sections against the evidence" in overview
    panel = page_text(client.get(f"/audits/{audit.id}/moderation/panel").text)
    assert "Returned by the moderator" in panel
    assert "Regrade the sections against the evidence" in panel and "Outstanding needs impact for the child" in panel
    full = page_text(client.get(f"/audits/{audit.id}/moderation").text)
    assert "Regrade the sections against the evidence" in full

    # The auditor edits and resubmits (the feedback stays in view while reworking), and it goes back to Max.
    submit(db, audit, mw.auditor, overall="requires_improvement", section="good")
    assert audit.status == "in_moderation"
    second = selectors.latest_round(db, audit_id=audit.id)
    assert (second.round, second.reason, second.moderator_id, second.status) == (
        2,
        "resubmitted",
        mw.max.id,
        "allocated",
    )
    login(client, "max")
    page = page_text(client.get(f"/audits/{audit.id}/moderation").text)
    assert "Grade this audit" in page and "Earlier rounds" in page


def test_only_the_rounds_moderator_may_grade_or_decide(client, db, mw, moderated):
    audit, round_, sections = moderated
    lead_moderator = make_user(db, username="leadmod", roles=(Role.QA_LEAD, Role.MODERATOR), full_name="Lee Both")
    login(client, "leadmod")
    refused = post_form(client, f"/audits/{audit.id}/moderation/grade", _grades_form(sections, round_))
    assert refused.status_code == 403 and "Only the moderator this audit is allocated to" in page_text(refused.text)
    login(client, "lead")  # the QA lead without the moderator role: the role check refuses
    assert post_form(client, f"/audits/{audit.id}/moderation/grade", _grades_form(sections, round_)).status_code == 403
    login(client, "mona")  # a moderator with no part in this audit cannot even see it
    assert client.get(f"/audits/{audit.id}/moderation").status_code == 404
    assert post_form(client, f"/audits/{audit.id}/moderation/grade", _grades_form(sections, round_)).status_code == 404
    db.refresh(round_)
    assert round_.status == "allocated" and lead_moderator.id != round_.moderator_id


def test_a_stale_form_gets_a_friendly_conflict_and_overwrites_nothing(client, db, mw, moderated):
    audit, round_, sections = moderated
    login(client, "max")
    stale = post_form(
        client, f"/audits/{audit.id}/moderation/grade", {**_grades_form(sections, round_), "_version": "99"}
    )
    assert stale.status_code == 409
    assert "Nothing you just sent was saved" in page_text(stale.text)
    db.refresh(round_)
    assert round_.status == "allocated" and round_.section_grades == {}


def test_forms_without_the_csrf_token_are_refused(client, db, mw, moderated):
    audit, round_, sections = moderated
    login(client, "max")
    for path in ("grade", "decide"):
        response = client.post(
            f"/audits/{audit.id}/moderation/{path}", data=_grades_form(sections, round_), follow_redirects=False
        )
        assert response.status_code == 403 and "could not be sent" in page_text(response.text)
    login(client, "lead")
    for path in ("reassign", "add"):
        response = client.post(
            f"/audits/{audit.id}/moderation/{path}",
            data={"_version": "1", "moderator_id": str(mw.mona.id), "reason": "x"},
            follow_redirects=False,
        )
        assert response.status_code == 403 and "could not be sent" in page_text(response.text)
    db.refresh(round_)
    assert (round_.status, round_.moderator_id) == ("allocated", mw.max.id)


def test_non_blind_cycles_show_both_gradings_on_one_page(client, db, mw):
    mw.cycle.blind_moderation = False
    db.add(mw.cycle)
    db.flush()
    audit = submit(db, new_audit(db, mw, team=mw.south), mw.auditor, overall="inadequate", section="outstanding")
    round_ = selectors.latest_round(db, audit_id=audit.id)
    _, definition = audit_selectors.audit_template(db, audit)
    sections = service.sections_to_grade(definition, audit_selectors.audit_answers(db, audit=audit))
    login(client, "max")
    text = page_text(client.get(f"/audits/{audit.id}/moderation").text)
    assert "Moderate this audit" in text and "The auditor's grade: Outstanding" in text
    assert "The auditor's overall grade: Inadequate" in text
    done = post_form(
        client,
        f"/audits/{audit.id}/moderation/decide",
        {
            **_grades_form(sections, round_, section="outstanding", overall="inadequate"),
            **_decide_form(sections, round_, decision="accept"),
        },
    )
    assert done.status_code == 303
    db.refresh(audit)
    assert (audit.status, audit.final_grade) == ("completed", "inadequate")


# --- The queue and the QA lead ---------------------------------------------------------------------------------


def test_the_queue_for_a_moderator_and_the_empty_state(client, db, mw, moderated):
    audit, _, _ = moderated
    login(client, "mona")
    empty = page_text(client.get("/moderation").text)
    assert "Audits to moderate" in empty and "You have no audits to moderate" in empty
    login(client, "max")
    mine = client.get("/moderation")
    assert mine.status_code == 200
    assert f'href="/audits/{audit.id}/moderation"' in mine.text and "Graded Inadequate" in page_text(mine.text)
    none_decided = page_text(client.get("/moderation?status=decided").text)
    assert "No moderation matches these filters" in none_decided
    login(client, "asha")  # an auditor who is not a moderator has no queue
    assert client.get("/moderation").status_code == 403


def test_the_qa_lead_sees_unallocated_rounds_first_with_the_reasons_and_can_allocate(client, db, mw, moderated):
    # Mona has no training record any more, and Max is the allocated worker of this case.
    db.execute(delete(TrainingRecord).where(TrainingRecord.user_id == mw.mona.id))
    db.flush()
    stuck = submit(db, new_audit(db, mw, team=mw.north, worker_name="Max Marsh"), mw.auditor, overall="inadequate")
    assert selectors.latest_round(db, audit_id=stuck.id).moderator_id is None
    login(client, "lead")
    listing = client.get("/moderation")
    text = page_text(listing.text)
    assert "1 audit has no eligible moderator" in text
    links = re.findall(r'href="/audits/(\d+)/moderation"', listing.text)
    assert links[0] == str(stuck.id)  # first
    page = page_text(client.get(f"/audits/{stuck.id}/moderation").text)
    assert "No moderator is eligible for this audit" in page
    assert "Max Marsh: is the case's allocated worker" in page
    assert "Mona Moderator: has no moderator training recorded" in page
    # The lead fixes Mona's training and allocates, with a reason; a missing reason is named.
    add_training(db, mw.mona, TrainingKind.MODERATOR, *CURRENT)
    round_ = selectors.latest_round(db, audit_id=stuck.id)
    no_reason = post_form(
        client,
        f"/audits/{stuck.id}/moderation/reassign",
        {"_version": str(round_.version), "moderator_id": str(mw.mona.id), "reason": ""},
    )
    assert no_reason.status_code == 400 and "Give the reason for reassigning" in page_text(no_reason.text)
    refused = post_form(
        client,
        f"/audits/{stuck.id}/moderation/reassign",
        {"_version": str(round_.version), "moderator_id": str(mw.max.id), "reason": "Only one left"},
    )
    assert refused.status_code == 400 and "is the case's allocated worker" in page_text(refused.text)
    done = post_form(
        client,
        f"/audits/{stuck.id}/moderation/reassign",
        {"_version": str(round_.version), "moderator_id": str(mw.mona.id), "reason": "Training renewed"},
    )
    assert done.status_code == 303
    db.refresh(round_)
    assert round_.moderator_id == mw.mona.id
    assert selectors.unallocated_count(db) == 0


def test_the_qa_lead_adds_a_completed_audit_from_its_moderation_page(client, db, mw):
    audit = submit(db, new_audit(db, mw, team=mw.south), mw.auditor, overall="good")
    assert audit.status == "completed"
    login(client, "lead")
    page = page_text(client.get(f"/audits/{audit.id}/moderation").text)
    assert "This audit has not been moderated" in page and "Add this audit to moderation" in page
    stale = post_form(client, f"/audits/{audit.id}/moderation/add", {"_version": "99"})
    assert stale.status_code == 409
    added = post_form(client, f"/audits/{audit.id}/moderation/add", {"_version": str(audit.version)})
    assert added.status_code == 303
    db.refresh(audit)
    round_ = selectors.latest_round(db, audit_id=audit.id)
    assert (audit.status, round_.reason, round_.moderator_id) == ("in_moderation", "added", mw.max.id)
    assert "Added by the QA lead" in page_text(client.get("/moderation").text)


def test_the_qa_lead_filters_by_cycle_and_status(client, db, mw, moderated):
    audit, _, _ = moderated
    login(client, "lead")
    response = client.get(f"/moderation?cycle={mw.cycle.id}&status=allocated")
    assert response.status_code == 200 and f"/audits/{audit.id}/moderation" in response.text
    assert "Winter deep dive" in page_text(response.text)
    assert "No moderation matches" in page_text(client.get("/moderation?status=unallocated").text)
    assert client.get("/moderation?cycle=abc&status=nonsense&page=zz").status_code == 200
    # Reassignment is offered only to eligible moderators: Mona is in the case's team.
    page = client.get(f"/audits/{audit.id}/moderation").text
    assert f'<option value="{mw.mona.id}"' not in page
    assert "Mona Moderator: works in the case's team (South Team)" in page_text(page)


def test_the_qa_leads_empty_state_explains_how_audits_arrive(client, db, mw):
    login(client, "lead")
    text = page_text(client.get("/moderation").text)
    assert "No audits have been moderated yet" in text and "moderation rate" in text
