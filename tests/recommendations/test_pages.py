"""The recommendation pages as their users meet them: raising from an audit, the owner's progress with evidence,
verification by someone else, reopening, due date changes, the list with its filters and exports, "My actions",
and what each person may see."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.recommendations.models import Recommendation, Theme
from app.sampling.models import Cycle
from tests.factories import login, make_user, page_text, post_form
from tests.recommendations.conftest import make_item


def _theme_id(db, name):
    return db.execute(select(Theme.id).where(Theme.name == name)).scalar_one()


def _raise_form(world, **fields):
    data = {
        "text": "Bring the chronology up to date",
        "owner_id": str(world.owner.id),
        "priority": "high",
        "section_key": "compliance",
    }
    data.update(fields)
    return data


def test_auditor_raises_two_from_the_audit_and_sees_them_listed(client, db, world):
    login(client, "auditor")
    page = client.get(f"/audits/{world.audit.id}/recommendations")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "No recommendations have been raised from this audit yet" in text
    assert f'<option value="{world.owner.id}" selected' in page.text  # the case worker by default
    first = post_form(
        client,
        f"/audits/{world.audit.id}/recommendations",
        _raise_form(world, theme_ids=str(_theme_id(db, "Chronology"))),
    )
    assert first.status_code == 303
    second = post_form(
        client,
        f"/audits/{world.audit.id}/recommendations",
        _raise_form(
            world,
            text="Record the child's wishes",
            priority="urgent",
            **{"due_date-day": "1", "due_date-month": "12", "due_date-year": "2027"},
        ),
    )
    assert second.status_code == 303
    page = client.get(second.headers["location"])
    text = page_text(page.text)
    assert "raised" in text and "Raised from this audit (2)" in text
    items = db.execute(select(Recommendation).order_by(Recommendation.id)).scalars().all()
    assert [i.priority for i in items] == ["high", "urgent"] and items[1].due_date == date(2027, 12, 1)


def test_raising_names_every_problem_and_keeps_what_was_typed(client, world):
    login(client, "auditor")
    response = post_form(
        client,
        f"/audits/{world.audit.id}/recommendations",
        {
            "text": "Keep this text",
            "owner_id": "",
            "priority": "",
            "due_date-day": "31",
            "due_date-month": "2",
            "due_date-year": "2027",
            "theme_ids": "x",
        },
    )
    assert response.status_code == 400
    text = page_text(response.text)
    for message in (
        "Choose who owns the recommendation",
        "Choose the priority",
        "must be a real date",
        "Choose themes from the list",
    ):
        assert message in text
    assert "Keep this text" in response.text


def test_only_the_auditor_moderator_or_qa_lead_raise_from_an_audit(client, db, world):
    # Without a raising role: refused (403), as the API refuses them.
    for username in ("hos", "viewer", "owner"):
        login(client, username)
        assert client.get(f"/audits/{world.audit.id}/recommendations").status_code == 403, username
    # An auditor of another audit: it does not exist for them (404), as in the API.
    make_user(db, username="auditor2", roles=(Role.AUDITOR,))
    login(client, "auditor2")
    assert client.get(f"/audits/{world.audit.id}/recommendations").status_code == 404
    login(client, "auditor")
    assert client.get(f"/audits/{world.audit.id}/recommendations").status_code == 200


def test_owner_completes_with_evidence_and_hos_verifies(client, db, world):
    item = make_item(db, world)
    login(client, "owner")
    page = client.get(f"/recommendations/{item.id}")
    assert "Record your progress" in page.text and "Verify it" not in page.text
    missing = post_form(client, f"/recommendations/{item.id}/move", {"action": "complete", "version": "1"})
    assert missing.status_code == 400 and "Describe what was done" in page_text(missing.text)
    done = post_form(
        client,
        f"/recommendations/{item.id}/move",
        {"action": "complete", "version": "1", "evidence": "Chronology updated on 20 November"},
    )
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert "waits for verification" in page_text(page.text) and "Verify it" not in page.text
    login(client, "hos")
    page = client.get(f"/recommendations/{item.id}")
    assert "Verify it" in page.text and "Chronology updated on 20 November" in page.text
    closed = post_form(client, f"/recommendations/{item.id}/move", {"action": "close", "version": "2"})
    assert closed.status_code == 303
    db.refresh(item)
    assert item.status == "closed" and item.closed_by_id == world.hos.id


def test_reopen_needs_a_reason(client, db, world):
    item = make_item(db, world, status="completed")
    login(client, "hos")
    response = post_form(client, f"/recommendations/{item.id}/move", {"action": "reopen", "version": "1"})
    assert response.status_code == 400 and "Give the reason for reopening it" in page_text(response.text)
    response = post_form(
        client,
        f"/recommendations/{item.id}/move",
        {"action": "reopen", "version": "1", "reason": "No evidence of the visit"},
    )
    assert response.status_code == 303
    page = page_text(client.get(f"/recommendations/{item.id}").text)
    assert "Reopened" in page and "No evidence of the visit" in page


def test_a_stale_form_gets_a_friendly_conflict_and_changes_nothing(client, db, world):
    item = make_item(db, world, status="completed")
    login(client, "hos")
    assert post_form(client, f"/recommendations/{item.id}/move", {"action": "close", "version": "1"}).status_code == 303
    again = post_form(
        client, f"/recommendations/{item.id}/move", {"action": "reopen", "version": "1", "reason": "Second thoughts"}
    )
    assert again.status_code == 409 and "changed since you opened it" in page_text(again.text)
    db.refresh(item)
    assert item.status == "closed"


def test_due_date_change_with_reason_shows_in_history(client, db, world):
    item = make_item(db, world, due_date=date(2026, 12, 24))
    login(client, "owner")
    assert "Change the due date" not in client.get(f"/recommendations/{item.id}").text
    login(client, "manager")
    form = {"version": "1", "due_date-day": "15", "due_date-month": "1", "due_date-year": "2027"}
    missing = post_form(client, f"/recommendations/{item.id}/due-date", form)
    assert missing.status_code == 400 and "Give the reason for changing the due date" in page_text(missing.text)
    moved = post_form(client, f"/recommendations/{item.id}/due-date", {**form, "due_reason": "Worker on leave"})
    assert moved.status_code == 303
    text = page_text(client.get(f"/recommendations/{item.id}").text)
    assert "From 24 December 2026 to 15 January 2027: Worker on leave" in text


def test_viewing_a_childs_recommendation_is_recorded(client, db, world):
    item = make_item(db, world)
    login(client, "hos")
    client.get(f"/recommendations/{item.id}")
    event = db.execute(select(AuditEvent).where(AuditEvent.action == "recommendation.view")).scalars().one()
    assert event.actor_id == world.hos.id and event.entity_id == str(item.id)


@pytest.mark.parametrize("who", ["other_hos", "bystander"])
def test_others_get_not_found(client, db, world, who):
    item = make_item(db, world)
    login(client, getattr(world, who).username)
    assert client.get(f"/recommendations/{item.id}").status_code == 404
    assert post_form(client, f"/recommendations/{item.id}/move", {"action": "start", "version": "1"}).status_code == 404


def test_list_is_scoped_and_filtered(client, db, world):
    ours = make_item(db, world, text="Ours overdue", due_date=date(2026, 10, 1), priority="urgent")
    make_item(db, world, text="Ours later", due_date=date(2027, 3, 1))
    make_item(db, world, case=world.other_case, owner=world.bystander, text="Theirs")
    login(client, "hos")
    text = page_text(client.get("/recommendations").text)
    assert "Ours overdue" in text and "Ours later" in text and "Theirs" not in text
    text = page_text(
        client.get(f"/recommendations?status=overdue&service_area={world.other_team.service_area_id}").text
    )
    assert "No recommendations match these filters" in text
    text = page_text(client.get("/recommendations?status=overdue").text)
    assert "Ours overdue" in text and "Ours later" not in text and "56 days overdue" in text
    assert f"/recommendations/{ours.id}" in client.get("/recommendations?bucket=31-60&priority=urgent").text
    warned = page_text(client.get("/recommendations?status=sometime").text)
    assert "not understood" in warned and "Ours later" in warned


def test_exports_are_scoped_recorded_and_match_the_list(client, db, world):
    make_item(db, world, text='=HYPERLINK("x") ours', theme_ids=(_theme_id(db, "Chronology"),))
    make_item(db, world, case=world.other_case, owner=world.bystander, text="Theirs")
    login(client, "hos")
    csv_response = client.get("/recommendations.csv?status=outstanding")
    assert csv_response.status_code == 200
    assert 'filename="recommendations-' in csv_response.headers["content-disposition"]
    body = csv_response.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in body and "Theirs" not in body and "Chronology" in body and "CHILD0001" in body
    xlsx = client.get("/recommendations.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Number" and len(rows) == 2 and rows[1][13].startswith("=HYPERLINK")
    events = db.execute(select(AuditEvent).where(AuditEvent.action == "recommendation.export")).scalars().all()
    assert len(events) == 2 and all(e.actor_id == world.hos.id for e in events)


def test_viewers_do_not_work_with_recommendations(client, world):
    login(client, "viewer")
    assert client.get("/recommendations").status_code == 403
    assert client.get("/recommendations.csv").status_code == 403


def test_my_actions_groups_by_urgency_and_lists_what_waits_for_verification(client, db, world, settings):
    today = settings.today()
    make_item(db, world, text="Late one", due_date=today - timedelta(days=3))
    make_item(db, world, text="Soon one", due_date=today + timedelta(days=5))
    make_item(db, world, text="Later one", due_date=today + timedelta(days=40))
    make_item(db, world, text="Somebody else's", owner=world.manager)
    login(client, "owner")
    text = page_text(client.get("/recommendations/mine").text)
    assert (
        text.index("Overdue (1)")
        < text.index("Late one")
        < text.index("Due in the next 7 days (1)")
        < text.index("Soon one")
        < text.index("Due later (1)")
        < text.index("Later one")
    )
    assert "Somebody else's" not in text
    make_item(db, world, status="completed", text="Done by worker")
    login(client, "auditor")
    text = page_text(client.get("/recommendations/mine").text)
    assert "You have no outstanding recommendations" in text and "Done by worker" in text


def test_qa_lead_raises_a_thematic_recommendation(client, db, world):
    cycle = Cycle(
        title="Neglect thematic",
        kind="thematic",
        template_key="dip_sample",
        template_version=1,
        due_date=date(2027, 1, 31),
        owner_id=world.lead.id,
    )
    db.add(cycle)
    db.flush()
    login(client, "auditor")
    assert client.get(f"/programme/{cycle.id}/recommendations/new").status_code == 403
    login(client, "lead")
    assert client.get(f"/programme/{cycle.id}/recommendations/new").status_code == 200
    response = post_form(
        client,
        f"/programme/{cycle.id}/recommendations/new",
        {"text": "Refresh neglect training", "owner_id": str(world.hos.id), "priority": "normal"},
    )
    assert response.status_code == 303
    page = page_text(client.get(response.headers["location"]).text)
    assert "A thematic finding of Neglect thematic" in page and "Recommendation raised" in page


def test_home_page_counts_what_needs_each_person(client, db, world, settings):
    make_item(db, world, due_date=settings.today() - timedelta(days=2))
    make_item(db, world, due_date=settings.today() + timedelta(days=20))
    make_item(db, world, status="completed")
    login(client, "owner")
    assert "3 recommendations to complete , 1 overdue" in page_text(client.get("/").text)
    login(client, "hos")
    assert "1 waiting for you to verify" in page_text(client.get("/").text)
    login(client, "bystander")
    assert "No recommendations need you at the moment" in page_text(client.get("/").text)


def test_home_page_links_unread_reminders(client, db, world):
    from app.notifications.models import Notification

    item = make_item(db, world)
    db.add(
        Notification(
            user_id=world.owner.id,
            recommendation_id=item.id,
            kind="overdue",
            message="Recommendation is overdue",
            day=date(2026, 11, 26),
        )
    )
    db.flush()
    login(client, "owner")
    page = client.get("/")
    assert "1 unread reminder" in page_text(page.text) and 'href="/notifications"' in page.text


def test_list_by_raising_period_says_so_and_keeps_it_in_the_filters(client, db, world):
    from datetime import UTC, datetime

    make_item(db, world, text="October one", raised_at=datetime(2026, 10, 5, 9, 0, tzinfo=UTC))
    make_item(db, world, text="November one", raised_at=datetime(2026, 11, 5, 9, 0, tzinfo=UTC))
    login(client, "hos")
    page = client.get("/recommendations?raised_from=2026-10-01&raised_to=2026-10-31")
    text = page_text(page.text)
    assert "Raised from 1 October 2026 to 31 October 2026" in text
    assert "October one" in text and "November one" not in text
    assert 'name="raised_from" value="2026-10-01"' in page.text
