"""Withdrawing a safeguarding concern: changing the answer from Yes while its escalation waits for acknowledgement
asks the auditor why (required, the error naming the field, on the page and in the autosave), marks the escalation
withdrawn (no longer "Waiting for acknowledgement", off the home pages, no longer chased) and tells the person told
(an email in the outbox and a notification, with the child's ID and a link only). Other answers still save one by
one."""

from __future__ import annotations

from sqlalchemy import select

from app.escalations.chase import escalations_chase
from app.notifications import outbox
from app.notifications.models import EmailOutbox, Notification
from tests.conftest import TEST_NOW, make_test_settings
from tests.escalations.test_escalations import (
    EXPLANATION,
    SAFEGUARDING,
    escalations,
    events,
    page_text,
    raise_by_api,
    reload,
    stored,
)
from tests.factories import csrf_token, login, post_form

REASON = "I misread the file: the bruise was recorded last year and dealt with then."
NEEDED = "Enter why you are withdrawing the safeguarding concern (the reason for changing the answer from Yes)"


def save_page(client, db, audit, data: dict):
    """ "Save and continue" on the safeguarding section, as a browser without JavaScript sends it."""
    db.refresh(audit)
    shown = [k for k in data if not k.startswith("_")]
    return post_form(
        client, f"/audits/{audit.id}/sections/safeguarding", {**data, "_shown": shown, "_version": str(audit.version)}
    )


def autosave(client, db, audit, data: dict):
    db.refresh(audit)
    shown = [k for k in data if not k.startswith("_")]
    return client.post(
        f"/audits/{audit.id}/sections/safeguarding/autosave",
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_token(client)},
        data={**data, "_shown": shown, "_version": str(audit.version)},
    )


def test_the_section_asks_for_a_reason_beside_an_open_escalation(client, db, people, audit):
    raise_by_api(client, audit)
    login(client, "auditor")
    page = client.get(f"/audits/{audit.id}/sections/safeguarding")
    assert 'name="_withdrawal_reason"' in page.text and 'id="withdrawal_reason"' in page.text
    text = page_text(page.text)
    assert "Reason for withdrawing the concern (only if you change the answer from Yes)" in text
    assert "escalated to Maya Manager, who has not acknowledged it yet" in text


def test_without_a_reason_the_page_says_so_naming_the_field_and_keeps_everything(client, db, people, audit):
    raise_by_api(client, audit)
    login(client, "auditor")
    response = save_page(client, db, audit, {SAFEGUARDING: "no", "comments": "Checked again"})
    assert response.status_code == 400
    text = page_text(response.text)
    assert "There is a problem" in text and NEEDED in text
    assert 'href="#withdrawal_reason"' in response.text
    assert 'value="no" checked' in response.text and "Checked again" in response.text  # as the auditor left it
    assert stored(db, audit)[SAFEGUARDING] == "yes" and "comments" not in stored(db, audit)
    (escalation,) = escalations(db, audit)
    assert escalation.withdrawn_at is None


def test_with_a_reason_the_escalation_is_withdrawn_and_the_recipient_told(
    client, db, with_emails, audit, job_sessions, smtp_server, database_url
):
    raise_by_api(client, audit)
    (escalation,) = escalations(db, audit)
    login(client, "auditor")
    response = save_page(client, db, audit, {SAFEGUARDING: "no", "_withdrawal_reason": REASON})
    assert response.status_code == 303, page_text(response.text)[:500]
    assert stored(db, audit)[SAFEGUARDING] == "no"
    escalation = reload(db, escalation)
    assert escalation.withdrawn_at is not None
    assert escalation.withdrawn_by_id == with_emails.auditor.id and escalation.withdrawn_reason == REASON
    assert len(events(db, "escalation.withdraw")) == 1
    # The section says so, and asks for no reason any more.
    section = page_text(client.get(f"/audits/{audit.id}/sections/safeguarding").text)
    assert "The escalation to Maya Manager was withdrawn on" in section and "they have been told" in section
    assert "Reason for withdrawing" not in section

    # The recipient is told: an email and a notification, the child's ID and a link only (not the reason).
    withdrawn = [row for row in db.execute(select(EmailOutbox)).scalars() if row.kind == "escalation_withdrawn"]
    assert [row.to_user_id for row in withdrawn] == [with_emails.manager.id]
    db.expire_all()
    notice = db.execute(select(Notification).where(Notification.user_id == with_emails.manager.id)).scalar_one()
    assert notice.message == "Safeguarding escalation for child CHILD0042: withdrawn by the auditor."
    assert notice.read_at is None
    lead_notice = db.execute(select(Notification).where(Notification.user_id == with_emails.lead.id)).scalar_one()
    assert lead_notice.read_at is not None  # nothing more for the QA lead to do
    outbox.outbox_deliver(job_sessions, settings=smtp_server.settings(database_url))
    (mail,) = [r for r in smtp_server.received if r.message["Subject"].startswith("Withdrawn")]
    assert mail.recipients == ["manager@council.example"]
    assert mail.message["Subject"] == "Withdrawn: safeguarding concern for child CHILD0042"
    assert f"/escalations/{escalation.id}" in mail.body
    assert "misread" not in mail.body and "bruise" not in mail.body.lower()

    # It no longer waits for acknowledgement: off the home pages, "Withdrawn" on its page, not chased, and it
    # cannot be acknowledged.
    for username in ("manager", "lead"):
        login(client, username)
        assert "waiting to be acknowledged" not in page_text(client.get("/").text)
    page = page_text(client.get(f"/escalations/{escalation.id}").text)
    assert "Status Withdrawn" in page and "Waiting for acknowledgement" not in page
    assert f"Reason for withdrawing {REASON}" in page and "Acknowledge the escalation" not in page
    refused = post_form(client, f"/escalations/{escalation.id}/acknowledge", {"outcome": "referral_made"})
    assert refused.status_code == 409
    assert "was withdrawn by Asha Auditor, so it no longer needs acknowledging" in page_text(refused.text)
    later = escalations_chase(job_sessions, settings=make_test_settings(database_url), now=TEST_NOW.replace(year=2027))
    assert later.sent == 0


def test_autosave_holds_the_answer_back_until_the_reason_is_given(client, db, people, audit):
    raise_by_api(client, audit)
    (escalation,) = escalations(db, audit)
    login(client, "auditor")
    first = autosave(client, db, audit, {SAFEGUARDING: "no"})
    assert first.status_code == 422
    assert f"Not saved: {NEEDED}." in page_text(first.text)
    assert f'data-unsaved="withdrawal_reason {SAFEGUARDING}"' in first.text  # the page keeps the answer to send again
    assert stored(db, audit)[SAFEGUARDING] == "yes"
    # Another question still saves on its own.
    other = autosave(client, db, audit, {"comments": "File read twice"})
    assert other.status_code == 200 and stored(db, audit)["comments"] == "File read twice"
    second = autosave(client, db, audit, {SAFEGUARDING: "no", "_withdrawal_reason": REASON})
    assert second.status_code == 200, page_text(second.text)
    assert 'id="safeguarding-withdrawal" class="app-escalation-part" hx-swap-oob="true"' in second.text
    assert "The escalation to Maya Manager was withdrawn on" in page_text(second.text)
    assert reload(db, escalation).withdrawn_reason == REASON
    # The description question goes with the Yes; its answer is kept.
    assert stored(db, audit)[EXPLANATION]


def test_a_draft_yes_needs_no_reason_to_change(client, db, people, audit):
    login(client, "auditor")
    assert save_page(client, db, audit, {SAFEGUARDING: "yes"}).status_code == 303  # a draft: nobody told
    assert save_page(client, db, audit, {SAFEGUARDING: "no"}).status_code == 303
    assert escalations(db, audit) == [] and stored(db, audit)[SAFEGUARDING] == "no"


def test_a_reason_that_is_too_long_is_refused_naming_the_field(client, db, people, audit):
    raise_by_api(client, audit)
    login(client, "auditor")
    response = save_page(client, db, audit, {SAFEGUARDING: "na", "_withdrawal_reason": "x" * 2001})
    assert response.status_code == 400
    assert "The reason for withdrawing must be 2,000 characters or fewer" in page_text(response.text)
    assert 'href="#withdrawal_reason"' in response.text
