"""The practitioner's reply: only the case's worker reads a completed audit's findings and replies; the QA lead
reads; everyone else gets a 404. Reading is recorded; replies are kept with the audit and listed."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.audits.models import AuditAnswer, AuditReply
from app.audits.replies import service as replies
from app.audits.workflow.moves import audit_move
from app.cases.models import Case
from tests.factories import login, make_audit, make_case, make_user, post_form
from tests.factories import page_text as _page_text

ANSWERS = {
    "chronology_up_to_date": "no",
    "chronology_up_to_date__explanation": "Last updated in 2024.",
    "genogram_on_file": "yes",
    "history_chronology__grade": "requires_improvement",
    "history_chronology__strengths": "A clear genogram.",
    "history_chronology__development": "Bring the chronology up to date.",
}


def page_text(markup: str) -> str:
    return html.unescape(_page_text(markup))


def events(db, action: str) -> list[AuditEvent]:
    return list(db.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


@pytest.fixture
def worker(db):
    return make_user(db, username="worker", roles=(Role.PRACTITIONER,), full_name="Wes Worker")


@pytest.fixture
def audit(db, templates, people, worker):
    case = make_case(
        db, child_id="REPLY0001", worker_name="wes\u00a0 worker", worker=worker, manager_name="Maya Manager"
    )
    audit = make_audit(db, case=case, auditor=people.auditor, actor=people.lead, template_key="case_file_audit")
    for key, value in ANSWERS.items():
        db.add(AuditAnswer(audit_id=audit.id, question_key=key, value=value))
    db.flush()
    return audit


def complete(db, audit, people):
    """Through the state machine: begun, submitted, completed (not selected for moderation) with a final grade."""
    audit_move(db, audit=audit, to="in_progress", version=audit.version, actor=people.auditor, summary="Began")
    audit_move(db, audit=audit, to="submitted", version=audit.version, actor=people.auditor, summary="Submitted")
    audit_move(
        db,
        audit=audit,
        to="completed",
        version=audit.version,
        actor=None,
        summary="Completed",
        final_grade="requires_improvement",
    )
    return audit


# --- Who is who (pure) ---------------------------------------------------------------------------


def _user(name: str, roles=(Role.PRACTITIONER,), active: bool = True, user_id: int = 1):
    from app.accounts.models import User, UserRole

    return User(
        id=user_id,
        username="u",
        full_name=name,
        password_hash="x",
        active=active,
        role_rows=[UserRole(user_id=user_id, role=r.value) for r in roles],
    )


def test_the_worker_and_the_manager_are_the_linked_accounts_never_a_name():
    case = Case(
        child_id="C1",
        source="csv",
        case_type="cin",
        status="open",
        facts_hash="0",
        worker_name="Wes Worker",
        manager_name="Maya Manager",
        worker_user_id=1,
        manager_user_id=2,
    )
    assert replies.is_case_worker(_user("Wes Worker"), case)
    assert replies.is_case_worker(_user("Somebody Else Entirely"), case)  # the account, whatever its name
    assert not replies.is_case_worker(_user("Wes Worker", user_id=7), case)  # the same name is not the person
    assert not replies.is_case_worker(_user("Wes Worker", roles=(Role.AUDITOR,)), case)  # practitioner role needed
    assert not replies.is_case_worker(_user("Wes Worker", active=False), case)
    assert replies.is_case_manager(_user("Maya Manager", roles=(Role.AUDITOR,), user_id=2), case)  # any role
    assert not replies.is_case_manager(_user("Maya Manager", user_id=3), case)
    assert not replies.is_case_manager(_user("Maya Manager", active=False, user_id=2), case)
    unmapped = Case(
        child_id="C2", source="csv", case_type="cin", status="open", facts_hash="1", worker_name="Wes Worker"
    )
    assert not replies.is_case_worker(_user("Wes Worker"), unmapped)


def test_reply_text_rules():
    assert replies.reply_text_errors("  ") == {"text": "Enter your reply to the findings"}
    assert replies.reply_text_errors("x" * 10_000) == {}
    assert replies.reply_text_errors("x" * 10_001) == {"text": "Your reply must be 10,000 characters or fewer"}


# --- Reading the findings ------------------------------------------------------------------------


def test_the_worker_reads_nothing_until_the_audit_is_completed(client, db, people, worker, audit):
    login(client, "worker")
    assert client.get(f"/audits/{audit.id}/findings").status_code == 404
    response = post_form(client, f"/audits/{audit.id}/replies", {"text": "Too early"})
    assert response.status_code == 409 and "once the audit is completed" in page_text(response.text)
    assert replies.replies_for(db, audit_id=audit.id) == []
    assert "No completed audits of your cases yet." in page_text(client.get("/").text)


def test_the_worker_reads_the_findings_of_a_completed_audit_and_the_view_is_recorded(client, db, people, worker, audit):
    complete(db, audit, people)
    login(client, "worker")
    home = client.get("/")
    assert f'href="/audits/{audit.id}/findings"' in home.text and "Child REPLY0001" in page_text(home.text)
    response = client.get(f"/audits/{audit.id}/findings")
    assert response.status_code == 200
    text = page_text(response.text)
    for expected in (
        "Audit findings",
        "REPLY0001",
        "Final grade Requires improvement to be good",
        "B. History and chronology Requires improvement to be good",
        "Strengths A clear genogram.",
        "Areas for development Bring the chronology up to date.",
        "Last updated in 2024.",
        "Is there a genogram or ecomap showing the family and the people important to the child? Yes",
        "No replies yet.",
        "Add a reply to the findings",
    ):
        assert expected in text, expected
    assert 'name="chronology_up_to_date"' not in response.text  # read-only: no answer fields
    (event,) = events(db, "audit.findings_view")
    assert event.actor_id == worker.id and event.entity_id == str(audit.id)


def test_anyone_who_does_not_read_the_audit_but_the_worker_gets_a_404(client, db, people, worker, audit):
    complete(db, audit, people)
    make_user(db, username="colleague", roles=(Role.PRACTITIONER,), full_name="Cara Colleague")
    make_user(db, username="namesake", roles=(Role.HEAD_OF_SERVICE,), full_name="Wes Worker")
    login(client, "colleague")
    assert client.get(f"/audits/{audit.id}/findings").status_code == 404
    assert post_form(client, f"/audits/{audit.id}/replies", {"text": "Not mine"}).status_code == 404
    login(client, "namesake")  # the right name without the practitioner role (and not the case's area)
    assert client.get(f"/audits/{audit.id}/findings").status_code == 404
    login(client, "auditor")  # reads the findings of their own completed audit, but does not reply
    assert client.get(f"/audits/{audit.id}/findings").status_code == 200
    assert post_form(client, f"/audits/{audit.id}/replies", {"text": "From the auditor"}).status_code == 403
    login(client, "worker")
    assert client.get("/audits/999999/findings").status_code == 404
    assert [e.actor_label for e in events(db, "audit.findings_view")] == ["auditor"]  # only the read that was allowed
    login(client, "lead")  # the QA lead reads, but does not reply
    response = client.get(f"/audits/{audit.id}/findings")
    assert response.status_code == 200 and "Add a reply" not in page_text(response.text)
    assert post_form(client, f"/audits/{audit.id}/replies", {"text": "From the lead"}).status_code == 403
    assert replies.replies_for(db, audit_id=audit.id) == []


# --- Replying ------------------------------------------------------------------------------------


def test_an_empty_or_too_long_reply_is_refused_naming_the_field(client, db, people, worker, audit):
    complete(db, audit, people)
    login(client, "worker")
    empty = post_form(client, f"/audits/{audit.id}/replies", {"text": "   "})
    assert empty.status_code == 400
    text = page_text(empty.text)
    assert "There is a problem" in text and "Enter your reply to the findings" in text
    assert 'href="#reply-text"' in empty.text
    long = post_form(client, f"/audits/{audit.id}/replies", {"text": "y" * 10_001})
    assert long.status_code == 400 and "10,000 characters or fewer" in page_text(long.text)
    assert "y" * 10_001 in long.text  # what was typed is kept
    assert replies.replies_for(db, audit_id=audit.id) == []


def test_a_reply_is_kept_with_the_audit_and_listed(client, db, people, worker, audit):
    complete(db, audit, people)
    login(client, "worker")
    response = post_form(
        client, f"/audits/{audit.id}/replies", {"text": "The chronology was updated on 3 Dec.\nThanks."}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/audits/{audit.id}/findings?replied=1#replies"
    post_form(client, f"/audits/{audit.id}/replies", {"text": "Genogram added too."})
    (first, second) = replies.replies_for(db, audit_id=audit.id)
    assert (first.text, first.author_id) == ("The chronology was updated on 3 Dec.\nThanks.", worker.id)
    assert second.text == "Genogram added too."
    page = client.get(response.headers["location"])
    text = page_text(page.text)
    assert "Your reply has been added to the audit." in text
    assert text.index("The chronology was updated on 3 Dec.") < text.index("Genogram added too.")
    assert "Wes Worker" in text and "No replies yet." not in text
    recorded = events(db, "audit.reply")
    assert len(recorded) == 2 and "updated" not in str(recorded[0].after)  # the words stay out of the trail
    login(client, "lead")
    assert "Genogram added too." in page_text(client.get(f"/audits/{audit.id}/findings").text)


def test_replying_without_the_csrf_token_is_refused(client, db, people, worker, audit):
    complete(db, audit, people)
    login(client, "worker")
    response = client.post(f"/audits/{audit.id}/replies", data={"text": "Hello"}, follow_redirects=False)
    assert response.status_code == 403 and "could not be sent" in page_text(response.text)
    assert db.execute(select(AuditReply)).first() is None


def test_the_qa_lead_sees_an_unfinished_audits_findings_marked_as_such(client, db, people, audit):
    login(client, "lead")
    response = client.get(f"/audits/{audit.id}/findings")
    assert response.status_code == 200
    assert "not completed: the case's worker can read these findings and reply once it is completed" in page_text(
        response.text
    )
