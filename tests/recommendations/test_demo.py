"""The demo's recommendations: every state present, the head of service's area covered, the demo practitioner's
"My actions" filled in each group, team managers named, and a second load adds nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select

from app.accounts.models import Team, User
from app.demo.cases import demo_cases_load
from app.demo.generator import demo_data_load
from app.demo.recommendations import DEMO_TEAM_MANAGERS, demo_recommendations_load
from app.recommendations import rules
from app.recommendations.models import Recommendation, RecommendationEvent

TODAY = date(2026, 11, 26)


def test_demo_recommendations_cover_every_state_and_the_demo_people(db):
    demo_data_load(db, today=TODAY)
    demo_cases_load(db, n=300, today=TODAY)
    assert demo_recommendations_load(db, today=TODAY) == 120
    items = db.execute(select(Recommendation)).scalars().all()
    assert set(Counter(i.status for i in items)) == set(rules.STATUSES)
    for item in items:
        assert (item.status == "closed") == (item.closed_at is not None and item.days_to_close is not None)
        assert item.raised_at.date() <= TODAY and item.due_date > item.raised_at.date()
    priya = db.execute(select(User).where(User.username == "practitioner")).unique().scalar_one()
    hers = [i for i in items if i.owner_id == priya.id]
    assert any(i.status in rules.OUTSTANDING and i.due_date < TODAY for i in hers)  # overdue
    assert any(0 <= (i.due_date - TODAY).days <= 7 and i.status == "open" for i in hers)  # due this week
    assert any(i.status == "completed" for i in hers)
    harriet = db.execute(select(User).where(User.username == "hos")).unique().scalar_one()
    assert sum(i.service_area_id == harriet.service_area_id for i in items) >= 20
    escalated = [i for i in items if i.status in rules.OUTSTANDING and rules.days_overdue(i.due_date, TODAY) >= 30]
    assert escalated, "some items have escalated to a head of service"
    managed = db.execute(select(Team.name).where(Team.manager_id.is_not(None))).scalars().all()
    assert sorted(managed) == sorted(DEMO_TEAM_MANAGERS)
    history = Counter(e.action for e in db.execute(select(RecommendationEvent)).scalars())
    assert history["raise"] == 120 and history["close"] == sum(i.status == "closed" for i in items)
    assert demo_recommendations_load(db, today=TODAY) == 0
