"""Dip samples (a compliance checklist with no grades) are moderated on their compliance answers: the moderator
answers the questions the auditor's form showed, blind, then agrees or not per question and decides; no overall
grade is ever created, and agreement on the answers is its own figure (unweighted kappa over yes, no and n/a)."""

from __future__ import annotations

import html
import re

import pytest

from app.audit_templates.schema import Question, QuestionType, TemplateDefinition
from app.audit_templates.scoring import compliance_questions
from app.audits import selectors as audit_selectors
from app.flows import audits as audit_flows
from app.moderation import selectors, service
from app.moderation.agreement.kappa import ANSWERS, cross_table, weighted_kappa
from tests.factories import api_headers, login, post_form
from tests.factories import page_text as _page_text
from tests.moderation.conftest import SETTLED, TODAY, complete_answers, new_audit

CHRONOLOGY = "chronology_up_to_date"
SEEN_ALONE = "seen_alone_last_visit"
OVERSIGHT = "oversight_last_month"
RETURN_INTERVIEW = "return_interview_within_72_hours"
CHRONOLOGY_LABEL = "Is the chronology up to date (updated within the last 3 months)?"
EXPLANATION = "Chronology last updated in the spring"


def asked_keys(definition: TemplateDefinition, *, missing: str = "yes") -> list[str]:
    """The questions the moderator answers: the dip sample's compliance questions the form showed. The fact about
    going missing and the safeguarding question are not compliance questions; those about return interviews are
    shown only when the child went missing."""
    return [
        q.key
        for q in compliance_questions(definition)
        if missing == "yes" or q.show_if is None or q.show_if.question != "child_missing_12m"
    ]


def page_text(markup: str) -> str:
    return html.unescape(_page_text(markup))


def _dip_sample(db, mw, *, missing: str = "yes"):
    """A dip sample of a South Team case (so Max moderates it), answered Yes throughout except the chronology (No,
    explained), completed unmoderated and then added to moderation by the QA lead."""
    audit = new_audit(db, mw, template_key="dip_sample", team=mw.south)
    _, definition = audit_selectors.audit_template(db, audit)
    answers = complete_answers(definition)
    answers.update({CHRONOLOGY: "no", f"{CHRONOLOGY}__explanation": EXPLANATION, "child_missing_12m": missing})
    for q in compliance_questions(definition):  # no stale answers to questions the form hides
        if q.key not in asked_keys(definition, missing=missing):
            answers.pop(q.key, None)
    audit_flows.audit_answers_save(db, audit=audit, version=audit.version, answers=answers, actor=mw.auditor)
    audit_flows.audit_submit(db, audit=audit, version=audit.version, actor=mw.auditor, settings=SETTLED)
    assert (audit.status, audit.final_grade) == ("completed", None)
    round_ = service.moderation_add(db, audit=audit, version=audit.version, actor=mw.lead, today=TODAY)
    assert round_.moderator_id == mw.max.id and round_.blind == mw.cycle.blind_moderation
    return audit, round_, asked_keys(definition, missing=missing)


def _mine(asked: list[str], **changes: str) -> dict[str, str]:
    """The moderator's answers: Yes throughout, with `changes`."""
    return {**dict.fromkeys(asked, "yes"), **changes}


# --- Pure rules -----------------------------------------------------------------------------------------------


def test_the_moderator_answers_the_compliance_questions_the_form_showed(db, mw):
    audit = new_audit(db, mw, template_key="dip_sample")
    _, dip = audit_selectors.audit_template(db, audit)
    assert selectors.compliance_only(dip)
    shown = [q.key for q in service.questions_to_answer(dip, {"child_missing_12m": "yes"})]
    assert shown == asked_keys(dip) and CHRONOLOGY in shown and RETURN_INTERVIEW in shown
    assert not {"child_missing_12m", "immediate_safeguarding_concern", "comments"} & set(shown)
    hidden = [q.key for q in service.questions_to_answer(dip, {"child_missing_12m": "no", RETURN_INTERVIEW: "no"})]
    assert hidden == asked_keys(dip, missing="no") and RETURN_INTERVIEW not in hidden  # a stale answer stays hidden
    asked = service.asked_of_moderator(dip, {})
    assert (asked.sections, asked.overall) == ([], False)
    # What a blind moderator may not see: the compliance answers and their explanations; not the facts.
    blind = selectors.blind_keys(dip)
    assert {CHRONOLOGY, f"{CHRONOLOGY}__explanation", RETURN_INTERVIEW} <= blind
    assert not {"child_missing_12m", "immediate_safeguarding_concern", "comments"} & blind
    # A template with grades is graded, not answered.
    graded = new_audit(db, mw)
    _, full = audit_selectors.audit_template(db, graded)
    assert not selectors.compliance_only(full) and service.questions_to_answer(full, {}) == []


def test_sections_to_grade_follow_the_one_visibility_rule():
    """A section shown only after a conditional question: a stale answer to that question, hidden now, must not
    make the moderator grade a section the auditor never saw."""
    definition = TemplateDefinition.model_validate(
        {
            "key": "nested",
            "version": 1,
            "title": "Nested",
            "kind": "thematic",
            "description": "A section behind a conditional question",
            "sections": [
                {
                    "key": "first",
                    "title": "First",
                    "questions": [
                        {"key": "missing", "type": "yes_no_na", "label": "Missing?"},
                        {
                            "key": "interview",
                            "type": "yes_no_na",
                            "label": "Interview?",
                            "show_if": {"question": "missing", "equals": "yes"},
                        },
                    ],
                },
                {
                    "key": "later",
                    "title": "Later",
                    "judgement": True,
                    "show_if": {"question": "interview", "equals": "yes"},
                    "questions": [{"key": "notes", "type": "text", "label": "Notes"}],
                },
            ],
        }
    )
    stale = {"missing": "no", "interview": "yes", "later__grade": "good"}
    assert service.sections_to_grade(definition, stale) == []
    shown = {"missing": "yes", "interview": "yes", "later__grade": "good"}
    assert [s.key for s in service.sections_to_grade(definition, shown)] == ["later"]


def test_answer_errors_name_each_question_and_refuse_other_values():
    questions = [
        Question(key="a", type=QuestionType.YES_NO_NA, label="First?"),
        Question(key="b", type=QuestionType.YES_NO_NA, label="Second?"),
    ]
    errors = service.answer_errors(questions, {"a": "maybe", "zzz": "yes"})
    assert errors == {
        "answer_a": "Select your answer to 'First?'",
        "answer_b": "Select your answer to 'Second?'",
        "answer_zzz": "'zzz' is not a compliance question this audit asks",
    }
    assert service.answer_errors(questions, {"a": "na", "b": "no"}) == {}
    # No overall grade may be given where the template has none.
    assert service.grade_errors([], {}, "good", overall=False) == {
        "overall_grade": "This audit's template has no overall grade, so none can be given"
    }
    assert service.grade_errors([], {}, None, overall=False) == {}


# --- The pages ------------------------------------------------------------------------------------------------


def test_blind_answering_hides_the_auditors_answers_and_asks_no_grade(client, db, mw):
    audit, _, asked = _dip_sample(db, mw)
    login(client, "max")
    response = client.get(f"/audits/{audit.id}/moderation")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "Answer the checklist" in text and "The auditor's answers are hidden until you have saved yours" in text
    assert "Your overall grade" not in text and "Your grade" not in text
    for key in asked:
        assert f'name="answer_{key}"' in response.text
    assert 'name="answer_child_missing_12m"' not in response.text
    assert "checked" not in response.text  # nothing chosen for the moderator
    # The auditor's other answers are there; the checklist's answers and explanations are not.
    assert "The auditor's answers, without their checklist answers" in text
    assert "Has the child been missing from home or care in the last 12 months? Yes" in text
    assert EXPLANATION not in text and f"{CHRONOLOGY_LABEL} No" not in text
    # The audit's own pages show the answers: they send the moderator here, and the printout is closed.
    assert client.get(f"/audits/{audit.id}", follow_redirects=False).headers["location"].endswith("/moderation")
    assert client.get(f"/audits/{audit.id}/print").status_code == 404


def test_answer_compare_agree_and_accept_without_a_grade(client, db, mw):
    audit, round_, asked = _dip_sample(db, mw)
    login(client, "max")
    url = f"/audits/{audit.id}/moderation"
    missing = post_form(client, f"{url}/grade", {"_version": str(round_.version), "answer_oversight_last_month": "no"})
    assert missing.status_code == 400
    text = page_text(missing.text)
    assert f"Select your answer to '{CHRONOLOGY_LABEL}'" in text
    for key in asked:
        if key != "oversight_last_month":
            assert f'href="#answer_{key}"' in missing.text
    assert 'value="no" checked' in missing.text  # what was chosen is kept
    mine = _mine(
        asked, **{SEEN_ALONE: "na"}
    )  # the chronology: Yes against the auditor's No; seen alone: N/A against Yes
    saved = post_form(
        client,
        f"{url}/grade",
        {"_version": str(round_.version), **{f"answer_{k}": v for k, v in mine.items()}, "overall_grade": "good"},
    )
    assert saved.status_code == 303
    db.refresh(round_)
    assert (round_.status, round_.moderator_answers, round_.overall_grade) == ("graded", mine, None)
    assert round_.auditor_answers == {**dict.fromkeys(asked, "yes"), CHRONOLOGY: "no"}

    compare = client.get(url)
    text = page_text(compare.text)
    assert "Compare your answers with the auditor's" in text
    assert f"{CHRONOLOGY_LABEL} No Yes Different" in text
    assert "Was the child seen alone at the last statutory visit? Yes Not applicable Different" in text
    assert "Is management oversight recorded in the last month? Yes Yes Same" in text
    assert EXPLANATION in text  # answered: the auditor's answers are open now
    assert re.search(rf'name="agree_{CHRONOLOGY}" type="radio" value="disagree" checked', compare.text)
    assert re.search(r'name="agree_oversight_last_month" type="radio" value="agree" checked', compare.text)
    assert "agree_overall" not in compare.text

    db.refresh(round_)
    agreement = {f"agree_{k}": "agree" for k in asked} | {f"agree_{CHRONOLOGY}": "disagree"}
    del agreement[f"agree_{SEEN_ALONE}"]
    refused = post_form(client, f"{url}/decide", {"_version": str(round_.version), **agreement, "decision": "accept"})
    assert refused.status_code == 400
    text = page_text(refused.text)
    assert "Select whether you agree with the auditor's answer to 'Was the child seen alone" in text
    assert f"you disagreed on '{CHRONOLOGY_LABEL}'" in text
    accepted = post_form(
        client,
        f"{url}/decide",
        {
            "_version": str(round_.version),
            **agreement,
            f"agree_{SEEN_ALONE}": "agree",
            "rationale": "The chronology was updated last month",
            "decision": "accept",
        },
    )
    assert accepted.status_code == 303
    db.refresh(audit)
    db.refresh(round_)
    assert (audit.status, audit.final_grade) == ("completed", None)  # no grade invented
    assert round_.agreement == {**dict.fromkeys(asked, True), CHRONOLOGY: False}
    panel = page_text(client.get(f"{url}/panel").text)
    assert "Moderated and accepted (a checklist has no overall grade)" in panel
    summary = page_text(client.get(url).text)
    assert "Round 1: the two checklists" in summary and "Disagrees" in summary
    login(client, "lead")
    overview = page_text(client.get(f"/audits/{audit.id}").text)
    assert "Moderated and accepted (a checklist has no overall grade)" in overview
    printed = page_text(client.get(f"/audits/{audit.id}/print").text)
    assert "Round 1: the auditor's and the moderator's answers" in printed
    assert f"{CHRONOLOGY_LABEL} No Yes Disagree" in printed
    assert "Decision Accepted: the auditor's answers stand" in printed


def test_an_open_round_shows_the_auditors_answers_and_takes_everything_at_once(client, db, mw):
    mw.cycle.blind_moderation = False
    db.add(mw.cycle)
    db.flush()
    audit, round_, asked = _dip_sample(db, mw, missing="no")
    assert not round_.blind
    login(client, "max")
    text = page_text(client.get(f"/audits/{audit.id}/moderation").text)
    assert "Moderate this audit" in text and "The auditor's answer: No" in text
    assert RETURN_INTERVIEW not in client.get(f"/audits/{audit.id}/moderation").text  # not shown to the auditor
    done = post_form(
        client,
        f"/audits/{audit.id}/moderation/decide",
        {
            "_version": str(round_.version),
            **{f"answer_{k}": "yes" for k in asked},
            **{f"agree_{k}": "agree" for k in asked},
            "decision": "return",
            "feedback": "Check the chronology again",
            "rationale": "",
        },
    )
    assert done.status_code == 303, page_text(done.text)
    db.refresh(audit)
    db.refresh(round_)
    assert (audit.status, round_.decision, round_.overall_grade) == ("returned", "return", None)
    assert round_.moderator_answers == dict.fromkeys(asked, "yes")


# --- The API --------------------------------------------------------------------------------------------------


def test_the_api_hides_the_checklist_from_the_blind_moderator_until_answered(client, db, mw):
    audit, round_, asked = _dip_sample(db, mw)
    headers = api_headers(client, "max")
    blind = client.get(f"/api/v1/audits/{audit.id}", headers=headers).json()
    assert not set(asked) & set(blind["answers"]) and f"{CHRONOLOGY}__explanation" not in blind["answers"]
    assert blind["answers"]["child_missing_12m"] == "yes" and blind["auditor_grades"] is None
    service.moderation_grade(
        db,
        moderation=round_,
        audit=audit,
        section_grades={},
        overall_grade=None,
        answers=_mine(asked),
        version=round_.version,
        actor=mw.max,
    )
    answered = client.get(f"/api/v1/audits/{audit.id}", headers=headers).json()
    assert answered["answers"][CHRONOLOGY] == "no" and answered["answers"][f"{CHRONOLOGY}__explanation"] == EXPLANATION
    assert answered["auditor_grades"] == {"overall": None, "sections": {}}


def test_the_api_names_each_missing_question_and_refuses_a_grade(client, db, mw):
    audit, _, asked = _dip_sample(db, mw)
    headers = api_headers(client, "max")
    url = f"/api/v1/audits/{audit.id}/moderation"
    body = {"version": audit.version, "decision": "accept"}
    missing = client.post(url, headers=headers, json={**body, "compliance_answers": {CHRONOLOGY: "no"}})
    assert missing.status_code == 422
    assert {tuple(e["loc"]) for e in missing.json()["detail"]} == {
        ("body", f"compliance_answers.{key}") for key in asked[1:]
    }
    graded = client.post(
        url, headers=headers, json={**body, "compliance_answers": _mine(asked), "overall_grade": "good", "agree": True}
    )
    assert graded.status_code == 422
    assert {tuple(e["loc"]) for e in graded.json()["detail"]} == {("body", "overall_grade"), ("body", "agree")}
    odd = client.post(
        url,
        headers=headers,
        json={**body, "compliance_answers": {**_mine(asked), CHRONOLOGY: "maybe", "nonsense": "yes"}},
    )
    assert odd.status_code == 422
    assert {tuple(e["loc"]) for e in odd.json()["detail"]} == {
        ("body", f"compliance_answers.{CHRONOLOGY}"),
        ("body", "compliance_answers.nonsense"),
    }
    wrong_type = client.post(url, headers=headers, json={**body, "compliance_answers": ["yes"]})
    assert wrong_type.status_code == 422
    disagreed = client.post(url, headers=headers, json={**body, "compliance_answers": _mine(asked)})
    assert disagreed.status_code == 422 and disagreed.json()["detail"][0]["loc"] == ["body", "rationale"]
    round_ = selectors.latest_round(db, audit_id=audit.id)
    db.refresh(round_)
    assert (round_.status, round_.moderator_answers, round_.version) == ("allocated", {}, 1)  # nothing saved


def test_the_api_records_the_answers_and_creates_no_grade(client, db, mw):
    audit, _, asked = _dip_sample(db, mw)
    response = client.post(
        f"/api/v1/audits/{audit.id}/moderation",
        headers=api_headers(client, "max"),
        json={
            "version": audit.version,
            "decision": "accept",
            "compliance_answers": _mine(asked),
            "rationale": "The chronology is up to date",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["overall_grade"], body["section_grades"]) == ("decided", None, {})
    assert body["moderator_answers"] == _mine(asked)
    assert body["agreement"] == {**dict.fromkeys(asked, True), CHRONOLOGY: False}
    got = client.get(f"/api/v1/audits/{audit.id}", headers=api_headers(client, "lead")).json()
    assert got["status"] == "completed" and got["final_grades"] == {"overall": None, "sections": {}}


def test_a_graded_audit_through_the_api_still_needs_its_overall_grade_and_agree(client, db, mw):
    from tests.moderation.conftest import submit

    audit = submit(db, new_audit(db, mw, team=mw.south), mw.auditor, overall="inadequate")
    headers = api_headers(client, "max")
    response = client.post(
        f"/api/v1/audits/{audit.id}/moderation",
        headers=headers,
        json={"version": audit.version, "decision": "accept", "compliance_answers": {CHRONOLOGY: "yes"}},
    )
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["detail"]} == {
        ("body", "overall_grade"),
        ("body", "agree"),
        ("body", f"compliance_answers.{CHRONOLOGY}"),
    }


# --- Agreement and the reports --------------------------------------------------------------------------------


def test_compliance_agreement_is_its_own_figure_beside_the_grades(client, db, mw):
    first, _, asked = _dip_sample(db, mw)
    second, _, _ = _dip_sample(db, mw)
    headers = api_headers(client, "max")
    for audit, mine in (
        (first, _mine(asked)),
        (second, _mine(asked, **{CHRONOLOGY: "no", SEEN_ALONE: "na", OVERSIGHT: "no"})),
    ):
        response = client.post(
            f"/api/v1/audits/{audit.id}/moderation",
            headers=headers,
            json={"version": audit.version, "decision": "accept", "compliance_answers": mine, "rationale": "Seen"},
        )
        assert response.status_code == 200, response.text
    auditor = {**dict.fromkeys(asked, "yes"), CHRONOLOGY: "no"}
    pairs = [
        (auditor[k], v)
        for mine in (_mine(asked), _mine(asked, **{CHRONOLOGY: "no", SEEN_ALONE: "na", OVERSIGHT: "no"}))
        for k, v in mine.items()
    ]
    expected = weighted_kappa(cross_table(pairs, ANSWERS), "none")
    assert expected is not None

    body = client.get("/api/v1/moderation/agreement", headers=api_headers(client, "lead")).json()
    assert body["n"] == 0 and body["by_auditor"] == []  # no grades: nothing in the grade figures
    compliance = body["compliance"]
    assert compliance["title"] == "Compliance answers (dip samples)"
    n = 2 * len(asked)  # one pair per question each moderator answered
    assert compliance["n"] == n and compliance["exact_agreement"] == pytest.approx((n - 3) / n)
    assert compliance["kappa"] == pytest.approx(expected.kappa)
    assert compliance["kappa_interval"] == pytest.approx([expected.low, expected.high])
    assert "without weights" in compliance["method"]

    login(client, "lead")
    text = page_text(client.get("/moderation/agreement").text)
    assert "No grades to compare yet" in text and "Compliance answers (dip samples)" in text
    share = f"{(n - 3) / n * 100:.0f}%"
    assert f"{n} {share} ({n - 3} of {n}) {expected.kappa:.2f} {expected.low:.2f} to {expected.high:.2f}" in text


def test_a_moderated_dip_sample_never_counts_in_the_grade_figures(client, db, mw):
    headers = api_headers(client, "lead")
    before = client.get("/api/v1/reports/summary", headers=headers).json()["grade_distribution"]
    audit, _, asked = _dip_sample(db, mw)
    response = client.post(
        f"/api/v1/audits/{audit.id}/moderation",
        headers=api_headers(client, "max"),
        json={"version": audit.version, "decision": "accept", "compliance_answers": _mine(asked), "rationale": "Seen"},
    )
    assert response.status_code == 200
    after = client.get("/api/v1/reports/summary", headers=headers).json()["grade_distribution"]
    assert after["graded"] == before["graded"]
    assert after["ungraded"] == before["ungraded"] + 1
