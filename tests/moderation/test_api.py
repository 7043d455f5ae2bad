"""The moderation API: the rounds, the one-call decision with its errors, and blind mode in GET /audits/{id}."""

from __future__ import annotations

import pytest

from app.accounts.roles import Role
from app.audits import selectors as audit_selectors
from app.moderation import selectors, service
from tests.factories import api_headers, make_user
from tests.moderation.conftest import new_audit, submit


@pytest.fixture
def moderated(db, mw):
    """An Inadequate audit (sections Outstanding) of a South Team case: moderated blind by Max."""
    audit = submit(db, new_audit(db, mw, team=mw.south), mw.auditor, overall="inadequate", section="outstanding")
    _, definition = audit_selectors.audit_template(db, audit)
    sections = [s.key for s in service.sections_to_grade(definition, audit_selectors.audit_answers(db, audit=audit))]
    grade_keys = selectors.grade_keys(definition) & set(audit_selectors.audit_answers(db, audit=audit))  # given
    assert selectors.latest_round(db, audit_id=audit.id).moderator_id == mw.max.id
    return audit, sections, grade_keys


def _body(audit, **fields):
    body = {
        "version": audit.version,
        "overall_grade": "inadequate",
        "agree": True,
        "rationale": "",
        "decision": "accept",
    }
    body.update(fields)
    return body


def test_blind_moderator_gets_the_audit_without_the_auditors_grades_until_graded(client, db, mw, moderated):
    audit, sections, grade_keys = moderated
    max_headers = api_headers(client, "max")
    blind = client.get(f"/api/v1/audits/{audit.id}", headers=max_headers)
    assert blind.status_code == 200
    answers = blind.json()["answers"]
    assert not grade_keys & set(answers) and any(
        v.startswith("Evidence for") for v in answers.values() if isinstance(v, str)
    )
    # Mona (moderator role only) has no part in this audit: 404.
    assert client.get(f"/api/v1/audits/{audit.id}", headers=api_headers(client, "mona")).status_code == 404
    # The QA lead and the auditor always see the grades.
    for who in ("lead", "asha"):
        seen = client.get(f"/api/v1/audits/{audit.id}", headers=api_headers(client, who)).json()["answers"]
        assert grade_keys <= set(seen)
    # The rounds endpoint gives the moderator nothing of the auditor's grades either.
    rounds = client.get(f"/api/v1/audits/{audit.id}/moderation", headers=max_headers).json()
    assert "outstanding" not in str(rounds) and rounds["rounds"][0]["status"] == "allocated"
    # Once Max has graded (on the page), the grades are there.
    round_ = selectors.latest_round(db, audit_id=audit.id)
    service.moderation_grade(
        db,
        moderation=round_,
        audit=audit,
        section_grades=dict.fromkeys(sections, "good"),
        overall_grade="good",
        version=round_.version,
        actor=mw.max,
    )
    after = client.get(f"/api/v1/audits/{audit.id}", headers=max_headers).json()["answers"]
    assert grade_keys <= set(after)


def test_accept_in_one_call_records_grades_agreement_and_the_final_grade(client, db, mw, moderated):
    audit, sections, _ = moderated
    headers = api_headers(client, "max")
    response = client.post(
        f"/api/v1/audits/{audit.id}/moderation",
        headers=headers,
        json=_body(
            audit,
            answers={sections[0]: "good"},
            agree=True,
            rationale="First section over-graded",
            learning="Evidence impact",
        ),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["decision"], body["overall_grade"], body["round"]) == (
        "decided",
        "accept",
        "inadequate",
        1,
    )
    # Sections left out take the auditor's grade (agree); a different grade disagrees; overall is `agree`.
    assert body["section_grades"] == {**dict.fromkeys(sections, "outstanding"), sections[0]: "good"}
    assert body["agreement"] == {**dict.fromkeys(sections, True), sections[0]: False, "overall": True}
    db.refresh(audit)
    assert (audit.status, audit.final_grade) == ("completed", "inadequate")
    rounds = client.get(f"/api/v1/audits/{audit.id}/moderation", headers=api_headers(client, "asha")).json()
    assert rounds["audit_status"] == "completed" and rounds["rounds"][0]["learning"] == "Evidence impact"
    # Deciding twice is a conflict.
    again = client.post(f"/api/v1/audits/{audit.id}/moderation", headers=headers, json=_body(audit))
    assert again.status_code == 409 and "already been decided" in again.json()["detail"]


def test_errors_name_the_fields_and_save_nothing(client, db, mw, moderated):
    audit, sections, _ = moderated
    headers = api_headers(client, "max")
    url = f"/api/v1/audits/{audit.id}/moderation"
    no_rationale = client.post(url, headers=headers, json=_body(audit, agree=False))
    assert no_rationale.status_code == 422
    assert [e["loc"] for e in no_rationale.json()["detail"]] == [["body", "rationale"]]
    no_feedback = client.post(url, headers=headers, json=_body(audit, decision="return"))
    assert no_feedback.status_code == 422 and no_feedback.json()["detail"][0]["loc"] == ["body", "feedback"]
    bad_section = client.post(
        url, headers=headers, json=_body(audit, answers={"nonsense": "good", sections[0]: "brilliant"})
    )
    assert bad_section.status_code == 422
    assert {tuple(e["loc"]) for e in bad_section.json()["detail"]} == {
        ("body", "answers.nonsense"),
        ("body", f"answers.{sections[0]}"),
    }
    bad_grade = client.post(url, headers=headers, json=_body(audit, overall_grade="brilliant"))
    assert bad_grade.status_code == 422 and bad_grade.json()["detail"][0]["loc"][-1] == "overall_grade"
    nul = client.post(url, headers=headers, json=_body(audit, agree=False, rationale="bad\x00text"))
    assert nul.status_code == 422 and nul.json()["detail"][0]["loc"] == ["body", "rationale"]
    round_ = selectors.latest_round(db, audit_id=audit.id)
    db.refresh(round_)
    db.refresh(audit)
    assert (round_.status, round_.version, audit.status) == ("allocated", 1, "in_moderation")


def test_stale_version_wrong_user_and_illegal_state_are_refused(client, db, mw, moderated):
    audit, _, _ = moderated
    url = f"/api/v1/audits/{audit.id}/moderation"
    stale = client.post(url, headers=api_headers(client, "max"), json=_body(audit, version=audit.version + 1))
    assert stale.status_code == 409 and "changed since you opened it" in stale.json()["detail"]
    make_user(db, username="leadmod", roles=(Role.QA_LEAD, Role.MODERATOR), full_name="Lee Both")
    not_mine = client.post(url, headers=api_headers(client, "leadmod"), json=_body(audit))
    assert not_mine.status_code == 403 and "Only the moderator" in not_mine.json()["detail"]
    lead_only = client.post(url, headers=api_headers(client, "lead"), json=_body(audit))
    assert lead_only.status_code == 403  # the QA lead may reassign, not decide
    assert client.post(url, headers=api_headers(client, "mona"), json=_body(audit)).status_code == 404
    # An audit that is not in moderation: nothing to decide.
    done = submit(db, new_audit(db, mw, team=mw.south), mw.auditor, overall="good")
    assert done.status == "completed"
    illegal = client.post(f"/api/v1/audits/{done.id}/moderation", headers=api_headers(client, "lead"), json=_body(done))
    assert illegal.status_code == 403  # the role check comes first
    make_user(db, username="leadmod2", roles=(Role.QA_LEAD, Role.MODERATOR))
    not_in_moderation = client.post(
        f"/api/v1/audits/{done.id}/moderation", headers=api_headers(client, "leadmod2"), json=_body(done)
    )
    assert not_in_moderation.status_code == 409 and "not in moderation" in not_in_moderation.json()["detail"]
    db.refresh(audit)
    assert audit.status == "in_moderation"


def test_return_through_the_api_then_resubmission_starts_round_two(client, db, mw, moderated):
    audit, _, _ = moderated
    response = client.post(
        f"/api/v1/audits/{audit.id}/moderation",
        headers=api_headers(client, "max"),
        json=_body(
            audit,
            agree=False,
            rationale="Too generous",
            decision="return",
            overall_grade="requires_improvement",
            feedback="Look again at drift",
        ),
    )
    assert response.status_code == 200 and response.json()["decision"] == "return"
    db.refresh(audit)
    assert audit.status == "returned"
    submit(db, audit, mw.auditor, overall="requires_improvement", section="good")
    rounds = client.get(f"/api/v1/audits/{audit.id}/moderation", headers=api_headers(client, "lead")).json()["rounds"]
    assert [(r["round"], r["reason"], r["status"]) for r in rounds] == [
        (1, "inadequate", "decided"),
        (2, "resubmitted", "allocated"),
    ]


def test_the_audit_shows_the_auditors_grades_and_the_final_moderated_ones_labelled(client, db, mw, moderated):
    audit, sections, _ = moderated
    lead = api_headers(client, "lead")
    before = client.get(f"/api/v1/audits/{audit.id}", headers=lead).json()
    assert before["auditor_grades"] == {"overall": "inadequate", "sections": dict.fromkeys(sections, "outstanding")}
    assert before["final_grades"] is None  # not completed yet
    assert client.get(f"/api/v1/audits/{audit.id}", headers=api_headers(client, "max")).json()["auditor_grades"] is None
    accepted = client.post(
        f"/api/v1/audits/{audit.id}/moderation",
        headers=api_headers(client, "max"),
        json=_body(
            audit,
            overall_grade="requires_improvement",
            answers=dict.fromkeys(sections, "good"),
            agree=False,
            rationale="Stronger than the auditor found",
        ),
    )
    assert accepted.status_code == 200, accepted.text
    after = client.get(f"/api/v1/audits/{audit.id}", headers=lead).json()
    assert after["status"] == "completed"
    assert after["auditor_grades"] == {"overall": "inadequate", "sections": dict.fromkeys(sections, "outstanding")}
    assert after["final_grades"] == {"overall": "requires_improvement", "sections": dict.fromkeys(sections, "good")}


def test_an_audit_completed_without_moderation_has_the_auditors_grades_as_final(client, db, mw):
    audit = submit(db, new_audit(db, mw), mw.auditor, overall="good")
    assert audit.status == "completed"
    body = client.get(f"/api/v1/audits/{audit.id}", headers=api_headers(client, "lead")).json()
    assert body["final_grades"] == body["auditor_grades"] and body["final_grades"]["overall"] == "good"
