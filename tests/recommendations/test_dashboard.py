"""The dashboard's figures: outstanding by team, ageing buckets at their exact boundaries, the oldest overdue and
awaiting verification, closure over the last 3 and 12 months (in the configured time zone) and the median days to
close, each narrowed by area, team, theme, priority and cycle; and every figure agrees with the list it links to."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from app.date_rules import DueDateRules
from app.recommendations import rules, selectors
from app.recommendations.dashboard.service import (
    BucketCount,
    Closure,
    TeamLine,
    bucket_counts,
    checked_filter,
    closures,
    dashboard_figures,
    figure_filter,
    list_url,
    team_lines,
)
from app.recommendations.models import Theme
from app.recommendations.selectors import ListFilter
from app.sampling.schemas import CycleCreate
from app.sampling.service import cycle_create
from tests.factories import make_case, make_team
from tests.recommendations.conftest import TODAY, make_item

ZONE = "Europe/London"
THRESHOLDS = rules.Thresholds(team_manager=14, head_of_service=30, director=60)
EVERYTHING = ListFilter()


def overdue_by(days: int) -> date:
    return TODAY - timedelta(days=days)


def figures(db, area_id=None, flt=EVERYTHING):
    return dashboard_figures(db, service_area_id=area_id, flt=flt, today=TODAY, zone=ZONE, thresholds=THRESHOLDS)


def counts(dash) -> dict[str, int]:
    return {b.key: b.count for b in dash.buckets}


def listed(db, user, base: ListFilter, **changes) -> set[int]:
    """The ids the list page shows for a figure's drill-down filter."""
    stmt = selectors.recommendations_select(db, user=user, flt=figure_filter(base, **changes), today=TODAY, zone=ZONE)
    return {item.id for item in db.execute(stmt).scalars()}


# --- Pure pieces ---------------------------------------------------------------------------------------


def test_team_lines_count_each_status_and_the_overdue_and_total_them():
    alpha, beta = "Alpha team", "beta team"
    groups = [
        (2, alpha, "open", "not_due", 3),
        (2, alpha, "open", "31-60", 2),
        (2, alpha, "in_progress", "90+", 1),
        (2, alpha, "completed", "0-30", 4),
        (1, beta, "completed", "not_due", 5),
        (None, None, "open", "61-90", 1),
    ]
    lines, totals = team_lines(groups)
    assert lines == [
        TeamLine(team_id=2, name="Alpha team", open=5, in_progress=1, awaiting=4, overdue=7),
        TeamLine(team_id=1, name="beta team", open=0, in_progress=0, awaiting=5, overdue=0),
        TeamLine(team_id=None, name="No team", open=1, in_progress=0, awaiting=0, overdue=1),
    ]
    assert (totals.open, totals.in_progress, totals.awaiting, totals.total, totals.overdue) == (6, 1, 9, 16, 8)
    assert team_lines([]) == ([], TeamLine(team_id=None, name="All teams"))


def test_bucket_counts_give_every_bucket_in_order_with_bar_lengths_against_the_largest():
    result = bucket_counts(
        [(1, "A", "open", "31-60", 4), (2, "B", "completed", "31-60", 4), (1, "A", "open", "90+", 2)]
    )
    assert [(b.key, b.count, b.share) for b in result] == [
        ("not_due", 0, 0.0),
        ("0-30", 0, 0.0),
        ("31-60", 8, 1.0),
        ("61-90", 0, 0.0),
        ("90+", 2, 0.25),
    ]
    assert result[2] == BucketCount(key="31-60", label="31–60 days overdue", count=8, share=1.0)
    assert all(b.share == 0.0 for b in bucket_counts([]))


def test_closures_give_the_rate_of_those_raised_and_the_median_of_those_closed_in_each_window():
    three, twelve = closures(
        {3: (4, 1), 12: (10, 5)}, {3: {10: 1, 20: 1, 40: 1}, 12: {10: 1, 20: 1, 40: 1, 100: 1}}, today=TODAY
    )
    assert three == Closure(months=3, since=date(2026, 8, 26), raised=4, closed=1, closed_in_window=3, median_days=20.0)
    assert three.rate == 0.25
    assert (twelve.since, twelve.rate, twelve.closed_in_window, twelve.median_days) == (
        date(2025, 11, 26),
        0.5,
        4,
        30.0,
    )
    (empty, _) = closures({}, {}, today=TODAY)
    assert (empty.raised, empty.rate, empty.closed_in_window, empty.median_days) == (0, None, 0, None)


def test_checked_filter_drops_a_choice_not_on_the_form_and_says_which():
    flt = selectors.filter_from_query(
        {"team": "7", "theme": "3", "cycle": "99", "service_area": "2", "priority": "someday", "status": "nonsense"},
        user=None,
    )
    kept, errors = checked_filter(flt, options={"service_area": {2}, "team": {5}, "theme": {3}, "cycle": {1}})
    assert (kept.service_area_id, kept.team_id, kept.theme_id, kept.cycle_id, kept.priority) == (2, None, 3, None, None)
    # The dashboard has no status filter: only what its form offers is reported.
    assert errors == {
        "team": "Choose a team from the list",
        "cycle": "Choose an audit cycle from the list",
        "priority": "Priority must be urgent, high or normal",
    }


def test_list_url_carries_the_area_and_filters_with_the_figure():
    base = ListFilter(service_area_id=3, team_id=5, priority="urgent")
    url = list_url(base, bucket="31-60")
    assert urlsplit(url).path == "/recommendations"
    assert parse_qs(urlsplit(url).query) == {
        "service_area": ["3"],
        "team": ["5"],
        "priority": ["urgent"],
        "bucket": ["31-60"],
    }
    assert list_url(base, "/recommendations.csv", status="outstanding").startswith("/recommendations.csv?")
    assert list_url(ListFilter()) == "/recommendations"


# --- Outstanding and ageing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-5, "not_due"),
        (0, "not_due"),
        (1, "0-30"),
        (30, "0-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
    ],
)
def test_an_item_lands_in_the_same_bucket_as_the_rules_put_it_and_the_bucket_link_lists_it(db, world, days, bucket):
    item = make_item(db, world, due_date=overdue_by(days))
    assert rules.ageing_bucket(item.due_date, TODAY) == bucket
    dash = figures(db, world.team.service_area_id)
    assert counts(dash) == {b: int(b == bucket) for b in rules.AGEING_BUCKETS}
    assert dash.overdue == int(days > 0)
    base = ListFilter(service_area_id=world.team.service_area_id)
    assert listed(db, world.lead, base, bucket=bucket) == {item.id}


def test_buckets_count_every_outstanding_item_at_the_boundaries_and_never_a_closed_one(db, world):
    for days in (0, 1, 30, 31, 60, 61, 90, 91, 400):
        make_item(db, world, due_date=overdue_by(days), status="in_progress")
    make_item(db, world, due_date=overdue_by(45), status="closed")
    assert counts(figures(db)) == {"not_due": 1, "0-30": 2, "31-60": 2, "61-90": 2, "90+": 2}


def test_outstanding_by_team_counts_each_status_and_the_overdue_and_links_agree(db, world):
    second = make_team(db, name="Safeguarding Team 2", service_area="Safeguarding")
    second_case = make_case(db, team=second, child_id="CHILD0003")
    make_item(db, world, status="open", due_date=overdue_by(3))
    make_item(db, world, status="open")
    make_item(db, world, status="in_progress", due_date=overdue_by(40))
    make_item(db, world, status="completed", due_date=overdue_by(1))
    make_item(db, world, status="closed", due_date=overdue_by(100))
    make_item(db, world, case=second_case, status="completed")
    make_item(db, world, case=world.other_case, status="open", due_date=overdue_by(10))  # another area

    dash = figures(db, world.team.service_area_id)
    assert [(x.name, x.open, x.in_progress, x.awaiting, x.total, x.overdue) for x in dash.teams] == [
        ("Safeguarding Team 1", 2, 1, 1, 4, 3),
        ("Safeguarding Team 2", 0, 0, 1, 1, 0),
    ]
    assert (dash.outstanding, dash.overdue, dash.awaiting) == (5, 3, 2)
    base = ListFilter(service_area_id=world.team.service_area_id)
    assert len(listed(db, world.lead, base, status="outstanding", team_id=world.team.id)) == 4
    assert len(listed(db, world.lead, base, status="overdue")) == 3
    assert len(listed(db, world.lead, base, status="awaiting_verification")) == 2

    every = figures(db)  # the QA lead's view of all areas
    assert {x.name for x in every.teams} == {"Safeguarding Team 1", "Safeguarding Team 2", "Children in Care Team 1"}
    assert (every.outstanding, every.overdue) == (6, 4)


def test_items_with_no_team_are_counted_on_a_line_of_their_own(db, world):
    make_item(db, world, team_id=None, due_date=overdue_by(5))
    dash = figures(db, world.team.service_area_id)
    assert [(x.team_id, x.name, x.total, x.overdue) for x in dash.teams] == [(None, "No team", 1, 1)]


def test_oldest_overdue_lists_ten_most_overdue_first_with_owner_team_days_and_escalation(db, world):
    for days in (1, 13, 14, 29, 30, 59, 60, 61, 200, 300, 400, 500):
        make_item(db, world, due_date=overdue_by(days), status="completed" if days == 500 else "open")
    make_item(db, world, due_date=overdue_by(900), status="closed")
    make_item(db, world, case=world.other_case, due_date=overdue_by(1000))  # another area
    rows = figures(db, world.team.service_area_id).oldest_overdue
    assert [r.days_overdue for r in rows] == [500, 400, 300, 200, 61, 60, 59, 30, 29, 14]
    assert [r.level for r in rows[4:]] == [
        rules.Level.DIRECTOR,
        rules.Level.DIRECTOR,
        rules.Level.HEAD_OF_SERVICE,
        rules.Level.HEAD_OF_SERVICE,
        rules.Level.TEAM_MANAGER,
        rules.Level.TEAM_MANAGER,
    ]
    assert {(r.owner_name, r.team_name) for r in rows} == {("Wes Worker", "Safeguarding Team 1")}


def test_awaiting_verification_counts_completed_items_and_lists_the_longest_waiting(db, world):
    waited = [
        make_item(db, world, status="completed", completed_at=datetime(2026, 11, d, 9, tzinfo=UTC))
        for d in (20, 2, 11, 5, 1, 3, 4, 6, 7, 8, 9, 10)
    ]
    make_item(db, world, status="in_progress")
    dash = figures(db, world.team.service_area_id)
    assert dash.awaiting == 12
    oldest = [r.item.completed_at.day for r in dash.oldest_awaiting]
    assert oldest == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert waited[0].id not in {r.item.id for r in dash.oldest_awaiting}


def test_with_nothing_recorded_every_figure_is_empty(db, world):
    dash = figures(db, world.team.service_area_id)
    assert (dash.teams, dash.outstanding, dash.oldest_overdue, dash.oldest_awaiting) == ([], 0, [], [])
    assert counts(dash) == dict.fromkeys(rules.AGEING_BUCKETS, 0)
    assert [(c.raised, c.rate, c.median_days) for c in dash.closure] == [(0, None, None), (0, None, None)]


# --- Closure ------------------------------------------------------------------------------------------


def test_closure_windows_start_at_local_midnight_and_count_raised_closed_and_the_median(db, world):
    # 26 Aug 2026 is in British Summer Time: the 3-month window starts at 23:00 UTC on the 25th.
    just_in = datetime(2026, 8, 25, 23, 30, tzinfo=UTC)
    just_out = datetime(2026, 8, 25, 22, 30, tzinfo=UTC)
    make_item(db, world, raised_at=just_in)  # open
    make_item(
        db, world, raised_at=just_in, status="closed", closed_at=datetime(2026, 10, 1, tzinfo=UTC), days_to_close=37
    )
    make_item(
        db, world, raised_at=just_out, status="closed", closed_at=datetime(2026, 11, 20, tzinfo=UTC), days_to_close=87
    )
    make_item(
        db,
        world,
        raised_at=datetime(2026, 1, 10, tzinfo=UTC),
        status="closed",
        closed_at=datetime(2026, 8, 25, 22, 59, tzinfo=UTC),
        days_to_close=227,
    )  # closed just before 3 months
    make_item(
        db,
        world,
        raised_at=datetime(2025, 11, 25, 12, tzinfo=UTC),
        status="closed",
        closed_at=datetime(2026, 3, 1, tzinfo=UTC),
        days_to_close=96,
    )  # raised before 12 months
    make_item(
        db,
        world,
        raised_at=datetime(2025, 6, 1, tzinfo=UTC),
        status="closed",
        closed_at=datetime(2025, 11, 1, tzinfo=UTC),
        days_to_close=153,
    )  # closed before 12 months too
    make_item(
        db, world, case=world.other_case, raised_at=just_in, status="closed", closed_at=just_in, days_to_close=1
    )  # another area

    three, twelve = figures(db, world.team.service_area_id).closure
    assert (three.months, three.since, three.raised, three.closed, three.rate) == (3, date(2026, 8, 26), 2, 1, 0.5)
    assert (three.closed_in_window, three.median_days) == (2, 62.0)  # 37 and 87
    assert (twelve.raised, twelve.closed, twelve.rate) == (4, 3, 0.75)
    assert (twelve.closed_in_window, twelve.median_days) == (4, 91.5)  # 37, 87, 96, 227

    base = ListFilter(service_area_id=world.team.service_area_id)
    assert len(listed(db, world.lead, base, raised_within=3)) == 2
    assert len(listed(db, world.lead, base, raised_within=3, status="closed")) == 1
    assert len(listed(db, world.lead, base, closed_within=12)) == 4


# --- Filters ------------------------------------------------------------------------------------------


def test_team_theme_priority_and_cycle_narrow_every_figure(db, world):
    second = make_team(db, name="Safeguarding Team 2", service_area="Safeguarding")
    second_case = make_case(db, team=second, child_id="CHILD0003")
    theme = Theme(name="Dashboard test theme")
    db.add(theme)
    db.flush()
    cycle = cycle_create(
        db,
        data=CycleCreate(
            title="Autumn dip sample", kind="dip_sample", template_key="dip_sample", due_date=date(2026, 12, 31)
        ),
        actor=world.lead,
        dates=DueDateRules(today=TODAY, horizon_years=3),
    )
    raised = datetime(2026, 10, 1, tzinfo=UTC)
    target = make_item(
        db,
        world,
        case=second_case,
        priority="urgent",
        cycle_id=cycle.id,
        theme_ids=(theme.id,),
        due_date=overdue_by(45),
        raised_at=raised,
    )
    make_item(
        db,
        world,
        case=second_case,
        priority="urgent",
        cycle_id=cycle.id,
        theme_ids=(theme.id,),
        status="closed",
        raised_at=raised,
        closed_at=datetime(2026, 11, 1, tzinfo=UTC),
        days_to_close=31,
    )
    # Each of these misses exactly one of the filters.
    make_item(
        db,
        world,
        priority="urgent",
        cycle_id=cycle.id,
        theme_ids=(theme.id,),
        due_date=overdue_by(45),
        raised_at=raised,
    )
    make_item(
        db,
        world,
        case=second_case,
        priority="high",
        cycle_id=cycle.id,
        theme_ids=(theme.id,),
        due_date=overdue_by(45),
        raised_at=raised,
    )
    make_item(
        db, world, case=second_case, priority="urgent", theme_ids=(theme.id,), due_date=overdue_by(45), raised_at=raised
    )
    make_item(
        db, world, case=second_case, priority="urgent", cycle_id=cycle.id, due_date=overdue_by(45), raised_at=raised
    )

    area = world.team.service_area_id
    assert figures(db, area).outstanding == 5
    flt = ListFilter(team_id=second.id, theme_id=theme.id, priority="urgent", cycle_id=cycle.id)
    dash = figures(db, area, flt)
    assert [(x.name, x.total) for x in dash.teams] == [("Safeguarding Team 2", 1)]
    assert counts(dash)["31-60"] == 1 and dash.overdue == 1
    assert [r.item.id for r in dash.oldest_overdue] == [target.id]
    three, _ = dash.closure
    assert (three.raised, three.closed, three.median_days) == (2, 1, 31.0)
    for single, expected in (
        (ListFilter(team_id=second.id), 4),
        (ListFilter(theme_id=theme.id), 4),
        (ListFilter(priority="urgent"), 4),
        (ListFilter(cycle_id=cycle.id), 4),
    ):
        assert figures(db, area, single).outstanding == expected
    # Only the dashboard's own filters apply: a status or search carried in with them is ignored.
    assert figures(db, area, ListFilter(status="closed", q="nothing like it")).outstanding == 5
