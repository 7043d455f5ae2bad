"""The printable audit: the page and the PDF show the whole record; only those who may see the audit get it;
every view and export is in the audit trail."""

from __future__ import annotations

import html
import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.audits.models import AuditAnswer, AuditReply
from app.escalations.models import Escalation
from app.moderation.models import Moderation
from tests.factories import login, make_audit, make_case, make_team, make_user
from tests.factories import page_text as _page_text

GRADED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def page_text(markup: str) -> str:
    return html.unescape(_page_text(markup))


def events(db, action: str, audit) -> list[AuditEvent]:
    db.expire_all()
    return list(
        db.execute(
            select(AuditEvent).where(AuditEvent.action == action, AuditEvent.entity_id == str(audit.id))
        ).scalars()
    )


@pytest.fixture
def record(db, templates, people):
    """A completed, moderated case file audit with an escalation and the practitioner's reply."""
    team = make_team(db, name="Riverside CIN team")
    case = make_case(
        db, child_id="PRINT0042", team=team, case_type="cp", worker_name="Wendy Worker", manager_name="Manny Manager"
    )
    audit = make_audit(db, case=case, auditor=people.auditor, actor=people.lead, template_key="case_file_audit")
    answers = {
        "assessment_within_45_days": "no",
        "assessment_within_45_days__explanation": "Authorised on day 61.\nDrift over the summer.",
        "assessment__grade": "requires_improvement",
        "assessment__strengths": "Good use of history",
        "overall_grade": "good",
        "overall_rationale": "Steady progress for the child",
    }
    for key, value in answers.items():
        db.add(AuditAnswer(audit_id=audit.id, question_key=key, value=value))
    audit.status, audit.final_grade, audit.completed_at = "completed", "requires_improvement", GRADED
    db.add(audit)
    moderator = make_user(db, username="mo", roles=(Role.MODERATOR,), full_name="Mo Moderator")
    practitioner = make_user(db, username="wendy", roles=(Role.PRACTITIONER,), team=team, full_name="Wendy Worker")
    db.add(
        Moderation(
            audit_id=audit.id,
            round=1,
            reason="safeguarding",
            moderator_id=moderator.id,
            status="decided",
            blind=True,
            section_grades={"assessment": "inadequate"},
            overall_grade="requires_improvement",
            agreement={"assessment": False, "overall": False},
            rationale="The delay left the child at risk.",
            learning="Weigh drift in the assessment more heavily.",
            decision="accept",
            feedback="Thank you.",
            graded_at=GRADED,
            decided_at=GRADED,
        )
    )
    db.add(
        Escalation(
            audit_id=audit.id,
            case_id=case.id,
            raised_by_id=people.auditor.id,
            recipient_id=practitioner.id,
            description="Unexplained bruising seen on a visit.",
        )
    )
    db.add(AuditReply(audit_id=audit.id, author_id=practitioner.id, text="The assessment is now complete."))
    db.flush()
    return {"audit": audit, "case": case, "moderator": moderator, "practitioner": practitioner}


# --- The page ----------------------------------------------------------------------------------


def test_the_printable_page_shows_the_whole_record(client, db, people, record):
    audit = record["audit"]
    login(client, "lead")
    response = client.get(f"/audits/{audit.id}/print")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    text = page_text(response.text)
    # Case facts
    assert f"Audit {audit.id} of child PRINT0042" in text
    for fact in (
        "Child ID PRINT0042",
        "Case type Child protection",
        "Team Riverside CIN team",
        "Allocated worker Wendy Worker",
        "Team manager Manny Manager",
    ):
        assert fact in text
    # Answers by section, with the template's labels
    assert (
        "D. Assessment Was the latest child and family assessment completed within 45 working days of referral? No"
    ) in text
    assert "Authorised on day 61. Drift over the summer." in text
    assert "Grade for D. Assessment Requires improvement to be good" in text
    assert "Overall grade for the quality of practice with this child Good" in text
    assert "Was the child seen during the assessment? Not answered" in text
    # Grades: the auditor's and the final one
    assert "Auditor's overall grade Good" in text
    assert "Final grade Requires improvement to be good" in text
    # Moderation (M)
    assert "M. Moderation Round 1 Why it was moderated Safeguarding escalation Moderator Mo Moderator" in text
    assert "D. Assessment Requires improvement to be good Inadequate Disagree" in text
    assert "Overall grade Good Requires improvement to be good Disagree" in text
    for said in (
        "Rationale The delay left the child at risk.",
        "Learning for the auditor Weigh drift in the assessment more heavily.",
        "Decision Accepted: the moderated grades are final",
        "Feedback to the auditor Thank you.",
    ):
        assert said in text
    # Escalation and reply
    assert "Raised by Asha Auditor Sent to Wendy Worker Concern Unexplained bruising seen on a visit." in text
    assert "Not yet acknowledged" in text
    assert "Practitioner's reply Wendy Worker" in text and "The assessment is now complete." in text
    # Print styles hide the service's chrome; the PDF is one click away.
    assert '<link rel="stylesheet" href="/static/print.css">' in response.text
    assert f'href="/audits/{audit.id}/print.pdf"' in response.text
    assert "not completed" not in text
    # the print styles every document shares (paged.css) come first
    assert '<link rel="stylesheet" href="/static/paged.css"><link rel="stylesheet" href="/static/print.css">' in (
        response.text
    )
    css = client.get("/static/paged.css").text
    assert ".govuk-template__header" in css and "display: none" in css


def test_viewing_the_printable_page_is_in_the_audit_trail(client, db, people, record):
    audit = record["audit"]
    login(client, "auditor")
    assert client.get(f"/audits/{audit.id}/print").status_code == 200
    (event,) = events(db, "audit.print", audit)
    assert event.actor_id == people.auditor.id and event.entity_type == "audit"
    assert "PRINT0042" in event.summary
    assert events(db, "audit.pdf", audit) == []


def test_an_audit_not_yet_completed_is_marked_as_such(client, db, people, templates, case):
    audit = make_audit(db, case=case, auditor=people.auditor, actor=people.lead)  # a dip sample: no grades
    login(client, "auditor")
    text = page_text(client.get(f"/audits/{audit.id}/print").text)
    assert "This audit is not completed: it is not started." in text
    assert "This audit was not moderated." in text
    assert "No safeguarding concern was escalated" in text and "No reply has been added." in text
    assert "Auditor's overall grade" not in text  # the dip sample has no overall grade


def test_the_overview_links_to_the_printable_audit(client, record):
    login(client, "lead")
    response = client.get(f"/audits/{record['audit'].id}")
    assert f'<a class="govuk-link" href="/audits/{record["audit"].id}/print">Print or save as PDF</a>' in response.text


# --- The PDF -----------------------------------------------------------------------------------


def test_the_pdf_holds_the_record_and_is_logged(client, db, people, record):
    audit = record["audit"]
    login(client, "lead")
    response = client.get(f"/audits/{audit.id}/print.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="audit-{audit.id}-child-PRINT0042.pdf"'
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) >= 2
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    for expected in (
        "PRINT0042",
        "Child protection",
        "Riverside CIN team",
        "Requires improvement to be good",
        "Inadequate",
        "M. Moderation",
        "Mo Moderator",
        "The delay left the child at risk.",
        "Unexplained bruising",
        "The assessment is now complete.",
        "Page 1 of",  # paged.css, shared with the board pack
        "Confidential: personal data about a child",  # print.css: a child's record says what it is
    ):
        assert expected in text, expected
    # No navigation or buttons in the PDF
    for chrome in ("Sign out", "Download as PDF", "Back to the audit", "Skip to main content"):
        assert chrome not in text
    (event,) = events(db, "audit.pdf", audit)
    assert event.actor_id == people.lead.id and "PDF" in event.summary
    assert events(db, "audit.print", audit) == []


# --- Who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["print", "print.pdf"])
def test_others_get_404_and_nothing_is_logged(client, db, people, record, suffix):
    audit = record["audit"]
    for username in ("other", "wendy"):
        login(client, username)
        response = client.get(f"/audits/{audit.id}/{suffix}")
        assert response.status_code == 404, username
        assert "PRINT0042" not in response.text
    login(client, "lead")
    for bad in ("999999", "0", "abc", "99999999999"):
        assert client.get(f"/audits/{bad}/{suffix}").status_code in (404, 400), bad
    action = "audit.pdf" if suffix.endswith("pdf") else "audit.print"
    assert events(db, action, audit) == []


def test_anonymous_visitors_are_sent_to_sign_in(client, record):
    response = client.get(f"/audits/{record['audit'].id}/print.pdf", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_moderator_grading_blind_cannot_print_the_auditors_grades(client, db, people, record):
    audit = record["audit"]
    waiting = make_user(db, username="blind", roles=(Role.MODERATOR,), full_name="Bea Blind")
    db.add(
        Moderation(audit_id=audit.id, round=2, reason="added", moderator_id=waiting.id, status="allocated", blind=True)
    )
    db.flush()
    login(client, "blind")
    assert client.get(f"/audits/{audit.id}/print").status_code == 404
    assert client.get(f"/audits/{audit.id}/print.pdf").status_code == 404
    # The moderator who has graded may print the record.
    login(client, "mo")
    response = client.get(f"/audits/{audit.id}/print")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "Round 2" in text and "The moderator has not graded this round yet." in text


def test_the_case_without_a_team_or_worker_still_prints(client, db, people, templates):
    case = make_case(db, child_id="C/0099 x")
    audit = make_audit(db, case=case, auditor=people.auditor, actor=people.lead, template_key="case_file_audit")
    login(client, "lead")
    text = page_text(client.get(f"/audits/{audit.id}/print").text)
    assert "Team Not recorded" in text and "Allocated worker Not recorded" in text
    response = client.get(f"/audits/{audit.id}/print.pdf")
    # The file name keeps only the pseudonym's letters and digits.
    assert response.headers["content-disposition"] == f'attachment; filename="audit-{audit.id}-child-C-0099-x.pdf"'


def test_an_escalation_prints_what_was_done_or_why_it_was_withdrawn(client, db, people, record):
    from sqlmodel import select

    escalation = db.exec(select(Escalation).where(Escalation.audit_id == record["audit"].id)).one()
    escalation.acknowledged_at, escalation.acknowledged_by_id = GRADED, record["practitioner"].id
    escalation.outcome = "referral_made"
    db.add(escalation)
    db.flush()
    login(client, "lead")
    text = page_text(client.get(f"/audits/{record['audit'].id}/print").text)
    assert "What was done Referral made" in text and "Not yet acknowledged" not in text

    escalation.acknowledged_at = escalation.acknowledged_by_id = escalation.outcome = None
    escalation.withdrawn_at, escalation.withdrawn_by_id = GRADED, people.auditor.id
    escalation.withdrawn_reason = "Answered Yes by mistake: the bruising was recorded in 2019."
    db.add(escalation)
    db.flush()
    text = page_text(client.get(f"/audits/{record['audit'].id}/print").text)
    assert "Withdrawn" in text and "by Asha Auditor" in text
    assert "Reason for withdrawing Answered Yes by mistake" in text and "Not yet acknowledged" not in text
