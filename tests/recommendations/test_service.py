"""Raising recommendations and moving them on: defaults, validation by field, verification by someone other than
the owner, reopening, due date history, the version check, and the audit trail."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.cases.people import people_resolve
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.recommendations import scope, selectors, service
from app.recommendations.models import Theme
from app.recommendations.rules import Action
from app.sampling.models import Cycle
from tests.factories import make_user
from tests.recommendations.conftest import NOW, TODAY, make_item


def _raise(db, world, settings, **fields):
    values = {
        "actor": world.auditor,
        "settings": settings,
        "text": "Update the chronology",
        "owner_id": world.owner.id,
        "priority": "high",
        "due_date": None,
        "audit": world.audit,
        "now": NOW,
    }
    values.update(fields)
    return service.recommendation_raise(db, **values)


def _themes(db, *names):
    return [db.execute(select(Theme.id).where(Theme.name == n)).scalar_one() for n in names]


def test_raised_from_an_audit_takes_case_team_area_and_a_due_date_from_priority(db, world, settings):
    chronology, voice = _themes(db, "Chronology", "Child's voice")
    item = _raise(db, world, settings, theme_ids=[chronology, voice], section_key="compliance")
    assert (item.case_id, item.team_id, item.service_area_id) == (
        world.case.id,
        world.team.id,
        world.case.service_area_id,
    )
    assert item.status == "open" and item.version == 1
    assert item.due_date == TODAY + timedelta(days=28)  # high
    assert sorted(selectors.theme_ids_for(db, recommendation_id=item.id)) == sorted([chronology, voice])
    event = db.execute(select(AuditEvent).where(AuditEvent.action == "recommendation.raise")).scalars().one()
    assert event.actor_id == world.auditor.id and event.entity_id == str(item.id)
    assert "chronology" not in event.summary.lower()  # the text stays out of the trail


def test_default_owner_is_the_case_worker_then_the_team_manager(db, world):
    assert service.default_owner(db, case=world.case).id == world.owner.id
    world.case.worker_name = "Someone Without An Account"  # a new worker in the next import, not yet mapped
    db.flush()
    people_resolve(db)
    db.refresh(world.case)
    assert service.default_owner(db, case=world.case).id == world.manager.id
    namesake = make_user(
        db, username="wes2", roles=(Role.PRACTITIONER,), team=world.other_team, full_name="Someone Without An Account"
    )
    assert service.default_owner(db, case=world.case).id == world.manager.id  # a name is never enough
    assert namesake.id != world.manager.id


def test_every_problem_is_named_by_field(db, world, settings):
    with pytest.raises(ValidationFailed) as caught:
        _raise(
            db,
            world,
            settings,
            text="  ",
            owner_id=world.viewer.id,
            priority="soon",
            due_date=TODAY - timedelta(days=1),
            theme_ids=[999999],
            section_key="nope",
        )
    assert set(caught.value.errors) == {"text", "owner_id", "priority", "due_date", "theme_ids", "section_key"}


def test_retired_theme_is_refused(db, world, settings):
    (theme_id,) = _themes(db, "Chronology")
    db.get(Theme, theme_id).active = False
    db.flush()
    with pytest.raises(ValidationFailed) as caught:
        _raise(db, world, settings, theme_ids=[theme_id])
    assert "retired" in caught.value.errors["theme_ids"]


def test_only_the_audits_auditor_or_the_qa_lead_raise_from_it(db, world, settings):
    with pytest.raises(PermissionDenied):
        _raise(db, world, settings, actor=world.hos)
    assert _raise(db, world, settings, actor=world.lead).raised_by_id == world.lead.id


def test_thematic_recommendations_are_the_qa_leads_and_take_the_owners_area(db, world, settings):
    cycle = Cycle(
        title="Neglect thematic",
        kind="thematic",
        template_key="dip_sample",
        template_version=1,
        due_date=TODAY,
        owner_id=world.lead.id,
    )
    db.add(cycle)
    db.flush()
    with pytest.raises(PermissionDenied):
        _raise(db, world, settings, audit=None, cycle=cycle)
    item = _raise(db, world, settings, actor=world.lead, audit=None, cycle=cycle, owner_id=world.manager.id)
    assert item.case_id is None and item.cycle_id == cycle.id
    assert (item.team_id, item.service_area_id) == (world.team.id, world.team.service_area_id)


def test_full_lifecycle_with_verification_by_someone_else(db, world, settings):
    item = _raise(db, world, settings)
    service.recommendation_act(db, item=item, actor=world.owner, action=Action.START, version=1, settings=settings)
    with pytest.raises(ValidationFailed) as caught:
        service.recommendation_act(
            db, item=item, actor=world.owner, action=Action.COMPLETE, version=2, settings=settings, evidence=" "
        )
    assert "evidence" in caught.value.errors
    service.recommendation_act(
        db,
        item=item,
        actor=world.owner,
        action=Action.COMPLETE,
        version=2,
        settings=settings,
        evidence="Chronology brought up to date",
        now=NOW + timedelta(days=3),
    )
    with pytest.raises(PermissionDenied):
        service.recommendation_act(db, item=item, actor=world.owner, action=Action.CLOSE, version=3, settings=settings)
    with pytest.raises(NotFound):  # a head of service of another area does not even see it
        service.recommendation_act(
            db, item=item, actor=world.other_hos, action=Action.CLOSE, version=3, settings=settings
        )
    service.recommendation_act(
        db, item=item, actor=world.hos, action=Action.CLOSE, version=3, settings=settings, now=NOW + timedelta(days=10)
    )
    assert item.status == "closed" and item.closed_by_id == world.hos.id and item.days_to_close == 10
    history = [h.event.action for h in selectors.recommendation_history(db, recommendation_id=item.id)]
    assert history == ["raise", "start", "complete", "close"]
    actions = set(db.execute(select(AuditEvent.action).where(AuditEvent.entity_type == "recommendation")).scalars())
    assert {"recommendation.start", "recommendation.complete", "recommendation.close"} <= actions


def test_a_verifier_who_owns_it_still_may_not_close_it(db, world, settings):
    item = _raise(db, world, settings, owner_id=world.hos.id)
    service.recommendation_act(
        db, item=item, actor=world.hos, action=Action.COMPLETE, version=1, settings=settings, evidence="Done"
    )
    with pytest.raises(PermissionDenied, match="you own this one"):
        service.recommendation_act(db, item=item, actor=world.hos, action=Action.CLOSE, version=2, settings=settings)
    service.recommendation_act(db, item=item, actor=world.auditor, action=Action.CLOSE, version=2, settings=settings)
    assert item.status == "closed"


def test_reopen_needs_a_reason_and_goes_back_to_in_progress(db, world, settings):
    item = make_item(db, world, status="completed")
    with pytest.raises(ValidationFailed) as caught:
        service.recommendation_act(db, item=item, actor=world.lead, action=Action.REOPEN, version=1, settings=settings)
    assert "reason" in caught.value.errors
    service.recommendation_act(
        db,
        item=item,
        actor=world.lead,
        action=Action.REOPEN,
        version=1,
        settings=settings,
        reason="The chronology still stops in June",
    )
    assert item.status == "in_progress" and item.completed_at is None
    (entry,) = [h for h in selectors.recommendation_history(db, recommendation_id=item.id)]
    assert entry.event.note == "The chronology still stops in June" and entry.actor_name == "Quinn Lead"


def test_stale_version_changes_nothing(db, world, settings):
    item = make_item(db, world)
    service.recommendation_act(db, item=item, actor=world.owner, action=Action.START, version=1, settings=settings)
    with pytest.raises(Conflict, match="changed since you opened it"):
        service.recommendation_act(
            db, item=item, actor=world.owner, action=Action.COMPLETE, version=1, settings=settings, evidence="Done"
        )
    assert item.status == "in_progress"


def test_due_date_changes_need_a_reason_and_keep_history(db, world, settings):
    item = make_item(db, world, due_date=date(2026, 12, 1))
    with pytest.raises(ValidationFailed) as caught:
        service.recommendation_due_change(
            db, item=item, actor=world.hos, due_date=date(2026, 12, 15), reason="", version=1, settings=settings
        )
    assert set(caught.value.errors) == {"reason"}
    with pytest.raises(PermissionDenied):
        service.recommendation_due_change(
            db,
            item=item,
            actor=world.owner,
            due_date=date(2026, 12, 15),
            reason="Need longer",
            version=1,
            settings=settings,
        )
    service.recommendation_due_change(
        db,
        item=item,
        actor=world.manager,
        due_date=date(2026, 12, 15),
        reason="Worker on leave",
        version=1,
        settings=settings,
    )
    service.recommendation_due_change(
        db,
        item=item,
        actor=world.hos,
        due_date=date(2027, 1, 5),
        reason="Court date moved",
        version=2,
        settings=settings,
    )
    changes = [
        (h.event.old_due_date, h.event.new_due_date, h.event.note)
        for h in selectors.recommendation_history(db, recommendation_id=item.id)
    ]
    assert changes == [
        (date(2026, 12, 1), date(2026, 12, 15), "Worker on leave"),
        (date(2026, 12, 15), date(2027, 1, 5), "Court date moved"),
    ]


def test_who_sees_what(db, world):
    mine = make_item(db, world)
    theirs = make_item(db, world, case=world.other_case, owner=world.bystander)
    seen = {}
    for name in ("lead", "hos", "other_hos", "owner", "manager", "auditor", "bystander", "viewer"):
        user = getattr(world, name)
        ids = set(
            db.execute(select(selectors.Recommendation.id).where(scope.visible_condition(db, user=user))).scalars()
        ) & {mine.id, theirs.id}
        seen[name] = ids
        for item in (mine, theirs):
            assert scope.may_see(db, user=user, item=item) == (item.id in ids), (name, item.id)
    assert seen == {
        "lead": {mine.id, theirs.id},
        "hos": {mine.id},
        "other_hos": {theirs.id},
        "owner": {mine.id},
        "manager": {mine.id},
        "auditor": {mine.id, theirs.id},
        "bystander": {theirs.id},
        "viewer": set(),
    }
