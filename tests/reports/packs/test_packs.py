"""Board packs as records, end to end on one database: a schedule prepares a draft on its day (once), the QA lead
writes the commentary and issues it, the queue's job makes the PDF once (stored with its SHA-256) and sends it to
the board through a real SMTP server (attached, or as a signed link), and every download is exactly the file issued
and is in the trail. Heads of service see their own area's packs only."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from app import clock
from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.reports.packs import service
from app.reports.packs.jobs import pack_generate_job, pack_send_job, packs_prepare_job
from app.reports.packs.models import BoardPackRecord, PackDelivery, PackSchedule
from tests.factories import login, make_team, make_user, page_text, post_form
from tests.test_mail import smtp_server  # noqa: F401  (a real SMTP server on 127.0.0.1)


@pytest.fixture
def lead(client, db):
    user = make_user(db, username="qa", roles=(Role.QA_LEAD,), full_name="Quinn Lead")
    assert login(client, "qa").status_code == 303
    return user


def _trail(db, action: str) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all())


def _draft(db, lead, **values) -> BoardPackRecord:
    from app.reports.board_pack import month_period

    pack = service.pack_prepare(
        db, period=month_period(2026, 10), service_area_id=None, params={}, recipients=[], actor=lead
    )
    for name, value in values.items():
        setattr(pack, name, value)
    db.add(pack)
    db.flush()
    return pack


def test_a_schedule_needs_every_field_and_names_each_problem(client, db, lead) -> None:
    response = post_form(
        client,
        "/reports/packs/schedule",
        {"title": "", "frequency": "", "working_day": "99", "recipients": "chair@example.org\nnope"},
    )
    assert response.status_code == 400
    text = page_text(response.text)
    for message in (
        "Enter a title",
        "Select monthly or quarterly",
        "Enter a working day from 1 to 15",
        "Line 2: “nope” is not an email address",
    ):
        assert message in text
    assert db.exec(select(PackSchedule)).all() == []


def test_a_schedule_prepares_its_draft_on_its_day_once(client, db, lead, job_sessions, settings, set_clock) -> None:
    response = post_form(
        client,
        "/reports/packs/schedule",
        {
            "title": "Improvement Operations Board",
            "frequency": "monthly",
            "working_day": "3",
            "recipients": "chair@example.org",
        },
    )
    assert response.status_code == 303
    set_clock(datetime(2026, 12, 2, 9, tzinfo=UTC))  # the second working day of December
    packs_prepare_job(job_sessions, settings)
    assert db.exec(select(BoardPackRecord)).all() == []
    set_clock(datetime(2026, 12, 3, 9, tzinfo=UTC))
    packs_prepare_job(job_sessions, settings)
    packs_prepare_job(job_sessions, settings)  # run again the same day: nothing more
    [draft] = db.exec(select(BoardPackRecord)).all()
    assert (draft.period_value, draft.status, draft.recipients) == ("2026-11", "draft", ["chair@example.org"])
    login(client, "qa")  # a week on: signed in again
    text = page_text(client.get("/reports/packs").text)
    assert "Waiting for commentary" in text and "Improvement Operations Board" in text
    assert _trail(db, "board_pack.prepare")[-1].actor_label == "schedule"


def test_a_draft_is_issued_once_with_its_commentary_then_never_changes(
    client, db, lead, job_sessions, settings
) -> None:
    draft = _draft(db, lead)
    refused = post_form(client, f"/reports/packs/{draft.id}/issue", {"version": str(draft.version)})
    assert refused.status_code == 400
    assert "Write the commentary before issuing the pack" in page_text(refused.text)
    assert "Enter at least one email address" in page_text(refused.text)
    bad = post_form(
        client,
        f"/reports/packs/{draft.id}",
        {"commentary": "Better", "recipients": "x@", "version": str(draft.version)},
    )
    assert bad.status_code == 400 and "Line 1: “x@” is not an email address" in page_text(bad.text)
    saved = post_form(
        client,
        f"/reports/packs/{draft.id}",
        {
            "commentary": "Compliance rose in Safeguarding.\n\nMASH needs attention.",
            "recipients": "chair@example.org\nclerk@example.org",
            "version": str(draft.version),
        },
    )
    assert saved.status_code == 303
    db.refresh(draft)
    stale = post_form(client, f"/reports/packs/{draft.id}/issue", {"version": str(draft.version - 1)})
    assert stale.status_code == 409
    issued = post_form(client, f"/reports/packs/{draft.id}/issue", {"version": str(draft.version)})
    assert issued.status_code == 303
    db.refresh(draft)
    assert draft.status == "generating" and "being made" in page_text(client.get(f"/reports/packs/{draft.id}").text)

    pack_generate_job(job_sessions, settings, pack_id=draft.id)
    pack_generate_job(job_sessions, settings, pack_id=draft.id)  # run again: made once
    db.refresh(draft)
    assert draft.status == "issued" and draft.pdf is not None and draft.pdf.startswith(b"%PDF")
    assert draft.sha256 == hashlib.sha256(draft.pdf).hexdigest() and draft.size == len(draft.pdf)
    assert draft.generation_seconds is not None and draft.generation_seconds > 0
    assert [d.email for d in db.exec(select(PackDelivery)).all()] == ["chair@example.org", "clerk@example.org"]
    page = page_text(client.get(f"/reports/packs/{draft.id}").text)
    assert draft.sha256 in page and "MASH needs attention." in page

    after = post_form(
        client,
        f"/reports/packs/{draft.id}",
        {"commentary": "Rewritten", "recipients": "a@example.org", "version": str(draft.version)},
    )
    assert after.status_code == 409 and "cannot change" in page_text(after.text)
    again = post_form(client, f"/reports/packs/{draft.id}/issue", {"version": str(draft.version)})
    assert again.status_code == 409
    db.refresh(draft)
    assert draft.commentary.startswith("Compliance rose") and len(_trail(db, "board_pack.issue")) == 1

    download = client.get(f"/reports/packs/{draft.id}/pdf")
    assert download.status_code == 200 and download.content == draft.pdf
    assert download.headers["content-type"] == "application/pdf"
    assert _trail(db, "board_pack.download")[-1].after == {"sha256": draft.sha256, "delivery_id": None}


def test_the_board_gets_the_pack_attached_and_a_rerun_sends_nothing_twice(
    db,
    lead,
    job_sessions,
    database_url,
    smtp_server,
) -> None:
    settings = smtp_server.settings(database_url)
    draft = _draft(
        db,
        lead,
        commentary="For the board.",
        recipients=["chair@example.org", "clerk@example.org"],
        status="generating",
        issued_by_id=lead.id,
    )
    pack_generate_job(job_sessions, settings, pack_id=draft.id)
    pack_send_job(job_sessions, settings, pack_id=draft.id)
    pack_send_job(job_sessions, settings, pack_id=draft.id)
    assert sorted(r.recipients[0] for r in smtp_server.received) == ["chair@example.org", "clerk@example.org"]
    message = smtp_server.received[0].message
    [attachment] = list(message.iter_attachments())
    db.refresh(draft)
    assert attachment.get_content() == draft.pdf and attachment.get_filename() == draft.filename
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "October 2026" in body and draft.sha256 in body and "For the board." not in body
    assert all(d.sent_at is not None for d in db.exec(select(PackDelivery)).all())


def test_a_pack_too_big_to_attach_goes_as_a_link_that_expires(
    client,
    db,
    lead,
    job_sessions,
    database_url,
    smtp_server,
    set_clock,
) -> None:
    settings = smtp_server.settings(database_url, board_pack_attach_max_mb=0, board_pack_link_days=14)
    draft = _draft(
        db, lead, commentary="Linked.", recipients=["chair@example.org"], status="generating", issued_by_id=lead.id
    )
    pack_generate_job(job_sessions, settings, pack_id=draft.id)
    pack_send_job(job_sessions, settings, pack_id=draft.id)
    [received] = smtp_server.received
    assert list(received.message.iter_attachments()) == []
    link = next(w for w in received.body.split() if "/board-packs/" in w)
    path = "/" + link.split("/", 3)[3]
    client.cookies.clear()  # a board member has no account
    got = client.get(path)
    db.refresh(draft)
    assert got.status_code == 200 and got.content == draft.pdf
    [delivery] = db.exec(select(PackDelivery)).all()
    event = _trail(db, "board_pack.download")[-1]
    assert event.actor_label == "board member" and event.after == {"sha256": draft.sha256, "delivery_id": delivery.id}
    assert client.get(path[:-3] + "abc").status_code == 404  # tampered
    set_clock(clock.now() + timedelta(days=15))
    assert client.get(path).status_code == 404  # expired


def test_heads_of_service_see_the_issued_packs_of_their_own_area_only(client, db, lead) -> None:
    mine, other = make_team(db, service_area="North"), make_team(db, service_area="South")
    ours = _draft(
        db,
        lead,
        service_area_id=mine.service_area_id,
        status="issued",
        pdf=b"%PDF ours",
        sha256="a" * 64,
        size=9,
        filename="ours.pdf",
        issued_at=clock.now(),
    )
    theirs = _draft(
        db,
        lead,
        service_area_id=other.service_area_id,
        status="issued",
        pdf=b"%PDF theirs",
        sha256="b" * 64,
        size=11,
        filename="theirs.pdf",
        issued_at=clock.now(),
    )
    draft = _draft(db, lead, service_area_id=mine.service_area_id)
    hos = make_user(db, username="hos", roles=(Role.HEAD_OF_SERVICE,))
    hos.service_area_id = mine.service_area_id
    db.add(hos)
    db.flush()
    client.cookies.clear()
    login(client, "hos")
    listing = page_text(client.get("/reports/packs").text)
    assert f"Pack {ours.id}" in listing and f"Pack {theirs.id}" not in listing and "To finish" not in listing
    assert client.get(f"/reports/packs/{ours.id}/pdf").content == b"%PDF ours"
    assert client.get(f"/reports/packs/{theirs.id}/pdf").status_code == 404
    assert client.get(f"/reports/packs/{draft.id}").status_code == 404  # not issued
    assert post_form(client, f"/reports/packs/{draft.id}/issue", {"version": "1"}).status_code == 403


def test_a_schedule_can_be_stopped_after_a_confirmation(client, db, lead, job_sessions, settings, set_clock) -> None:
    schedule = service.schedule_create(
        db,
        title="Board",
        frequency="monthly",
        working_day=1,
        service_area_id=None,
        recipients_text="chair@example.org",
        actor=lead,
    )
    assert "Stop the schedule Board?" in page_text(client.get(f"/reports/packs/schedules/{schedule.id}/stop").text)
    assert (
        post_form(
            client, f"/reports/packs/schedules/{schedule.id}/stop", {"version": str(schedule.version)}
        ).status_code
        == 303
    )
    set_clock(datetime(2026, 12, 15, 9, tzinfo=UTC))
    packs_prepare_job(job_sessions, settings)
    assert db.exec(select(BoardPackRecord)).all() == []
    assert date(2026, 12, 15) == clock.now().date()
