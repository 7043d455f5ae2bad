"""Recommendations in the demo, so a head of service signing in to `make run` sees a dashboard with something on
it: a year of items across the service areas, in every state, some overdue far enough to have escalated, tagged
with themes; and team managers named for three teams. Entirely synthetic."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlmodel import Session

from app.accounts import selectors as account_selectors
from app.accounts.models import Team
from app.cases.models import Case
from app.cases.people import people_resolve
from app.recommendations import rules
from app.recommendations.models import Recommendation, RecommendationEvent, RecommendationTheme, Theme
from app.recommendations.service import default_owner

# team -> the demo user who manages it
DEMO_TEAM_MANAGERS = {
    "Safeguarding Team 1": "s.ahmed",
    "Children in Care Team": "l.murray",
    "Assessment Team 1": "j.evans",
}
DEMO_TEXTS = (
    "Bring the chronology up to date, including the latest strategy discussion",
    "Record the child's wishes and feelings from the last two visits",
    "Evidence management oversight of the plan at the next supervision",
    "Review the child's plan with the family and record the outcome",
    "Hold a multi-agency meeting with school and health and record the actions",
    "Complete the outstanding return home interview and record it",
    "Update the assessment to reflect the new partner in the household",
    "See the child alone at the next visit and record what they said",
)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


def demo_recommendations_load(session: Session, *, today: date, n: int = 120, seed: int = 11) -> int:
    """Name the demo team managers and add `n` recommendations on open cases (none if any exist)."""
    if session.execute(select(Recommendation.id).limit(1)).first():
        return 0
    for team_name, username in DEMO_TEAM_MANAGERS.items():
        team = account_selectors.team_by_name(session, name=team_name)
        manager = account_selectors.user_by_username(session, username=username)
        if team is not None and manager is not None:
            team.manager_id = manager.id
            session.add(team)
    session.flush()
    people_resolve(session)  # the cases' managers follow their teams'
    raisers = [
        u
        for u in (
            account_selectors.user_by_username(session, username=name) for name in ("auditor", "qa.lead", "moderator")
        )
        if u is not None
    ]
    themes = list(session.execute(select(Theme.id).where(Theme.active.is_(True))).scalars())
    if not raisers:
        return 0
    rng = random.Random(seed)
    cases = list(
        session.execute(
            select(Case).where(Case.status == "open").order_by(Case.child_id).execution_options(populate_existing=True)
        ).scalars()
    )
    rng.shuffle(cases)
    # The demo practitioner's own cases come first, so "My actions" has something in each group.
    cases.sort(key=lambda c: c.worker_name != "Priya Shah")
    made = 0
    for case in cases:
        if made >= n:
            break
        owner = default_owner(session, case=case)
        if owner is None or case.team_id is None:
            continue
        area_id = case.service_area_id or session.get(Team, case.team_id).service_area_id
        priority = rng.choices(rules.PRIORITIES, (1, 3, 6))[0]
        if made < 4:  # Priya's: overdue, due this week, in progress, and completed waiting for verification
            raised = today - timedelta(
                days=(rules.DEFAULT_DAYS[priority] + 5, rules.DEFAULT_DAYS[priority] - 4, 20, 30)[made]
            )
            status = (rules.OPEN, rules.OPEN, rules.IN_PROGRESS, rules.COMPLETED)[made]
        else:
            raised = today - timedelta(days=rng.randint(3, 330))
            age = (today - raised).days
            status = rng.choices(rules.STATUSES, (3, 3, 1, 4 if age > 40 else 1))[0]
        due = raised + timedelta(days=rules.DEFAULT_DAYS[priority])
        raiser = rng.choice(raisers)
        item = Recommendation(
            text=rng.choice(DEMO_TEXTS),
            case_id=case.id,
            owner_id=owner.id,
            team_id=case.team_id,
            service_area_id=area_id,
            priority=priority,
            due_date=due,
            status=rules.OPEN,
            raised_by_id=raiser.id,
            raised_at=_at(raised),
        )
        session.add(item)
        session.flush()
        events = [
            RecommendationEvent(
                recommendation_id=item.id,
                action="raise",
                to_status=rules.OPEN,
                new_due_date=due,
                actor_id=raiser.id,
                created_at=_at(raised),
            )
        ]
        day = raised
        if status != rules.OPEN:
            day = min(today, day + timedelta(days=rng.randint(1, 10)))
            events.append(
                RecommendationEvent(
                    recommendation_id=item.id,
                    action="start",
                    from_status=rules.OPEN,
                    to_status=rules.IN_PROGRESS,
                    actor_id=owner.id,
                    created_at=_at(day),
                )
            )
        if status in (rules.COMPLETED, rules.CLOSED):
            day = min(today, day + timedelta(days=rng.randint(5, 40)))
            item.evidence, item.completed_at = "Recorded on the child's file; see case notes for the date.", _at(day)
            events.append(
                RecommendationEvent(
                    recommendation_id=item.id,
                    action="complete",
                    from_status=rules.IN_PROGRESS,
                    to_status=rules.COMPLETED,
                    note=item.evidence,
                    actor_id=owner.id,
                    created_at=_at(day),
                )
            )
        if status == rules.CLOSED:
            day = min(today, day + timedelta(days=rng.randint(1, 14)))
            item.closed_at, item.closed_by_id, item.days_to_close = _at(day), raiser.id, (day - raised).days
            events.append(
                RecommendationEvent(
                    recommendation_id=item.id,
                    action="close",
                    from_status=rules.COMPLETED,
                    to_status=rules.CLOSED,
                    actor_id=raiser.id,
                    created_at=_at(day),
                )
            )
        item.status = status
        session.add_all(events)
        for theme_id in rng.sample(themes, k=min(len(themes), rng.choice((1, 1, 2)))):
            session.add(RecommendationTheme(recommendation_id=item.id, theme_id=theme_id))
        made += 1
    session.flush()
    return made
