"""The reports page's Moderation and Recommendations sections (app.reports.sections), on the hand-built audits of
tests/reports/conftest.py (`rw`) and the recommendations below, counted by hand.

Moderation rounds of `rw` (auditor's overall grade -> moderator's), every graded round a pair:

    a2 (North, Safeguarding, cycle A)  round 1: good -> inadequate (returned); round 2: good -> requires improvement
    a3 (South, Safeguarding, cycle A)  good -> outstanding
    a4 (Care, Children in care, cycle B) round 1: inadequate -> requires improvement; round 2: inadequate -> inadequate

With the grades as numbers (0 outstanding .. 3 inadequate), all five pairs: auditor x = 1 1 1 3 3, moderator
y = 3 2 0 2 3. Quadratic weighted kappa = 2 s_xy / (s_x² + s_y² + (x̄ - ȳ)²) (population moments):
x̄ = 1.8, ȳ = 2, s_xy = 2.0 / 5 = 0.4, s_x² = 4.8 / 5 = 0.96, s_y² = 6 / 5 = 1.2, so kappa = 0.8 / 2.2 = 4/11.
When every auditor's grade is the same (Safeguarding only: all good), kappa is 0.

Recommendations (period 2026-01-01 to 2026-06-30 in London; "overdue" items are due 2020-01-01, others 2099):

    item  team   area  cycle  raised (UTC)       status       closed (UTC)       days  themes
    r1    North  S     A      2026-02-01 10:00   closed       2026-02-11 10:00   10    A, B
    r2    North  S     A      2026-03-01 10:00   closed       2026-03-21 10:00   20    B
    r3    South  S     -      2026-04-10 10:00   open, overdue                         B, C
    r4    South  S     A      2026-05-05 10:00   in_progress                           A
    r5    North  S     -      2025-11-01 10:00   closed       2026-01-05 10:00   65    C      (raised before)
    r6    Care   C     B      2026-05-31 23:30   completed, overdue                    A      (1 June in London)
    r7    Care   C     -      2026-06-30 23:30   open                                  B      (1 July in London)
    r8    North  S     -      2025-10-01 10:00   closed       2025-12-01 10:00   61    -      (all before)
    r9    -      -     -      2026-03-15 10:00   open, overdue                         D, E, F, G (thematic, no area)
    r10   South  S     -      2026-06-01 10:00   closed       2026-06-30 23:30   30    -      (closed 1 July)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest

from app.moderation.agreement.kappa import NO_PAIRS
from app.moderation.agreement.service import OVERALL, agreement_pairs
from app.recommendations.models import Recommendation, RecommendationTheme, Theme
from app.reports.filters import ReportFilter, report_filter_from_query
from app.reports.sections import (
    ModerationFigures,
    RecommendationFigures,
    may_follow_recommendations,
    moderation_figures,
    recommendation_figures,
)
from tests.factories import api_headers, login
from tests.reports.conftest import CFA, DIP, TODAY, ZONE, ReportWorld

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30"}
OVERDUE, NOT_DUE = date(2020, 1, 1), date(2099, 1, 1)
KAPPA_ALL = 4 / 11


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def period_filter(**fields) -> ReportFilter:
    return ReportFilter(date_from=date(2026, 1, 1), date_to=date(2026, 6, 30), **fields)


@dataclass
class RecWorld:
    rw: ReportWorld
    items: dict[str, Recommendation]
    themes: dict[str, Theme]

    @property
    def safeguarding(self) -> int:
        return self.rw.north.service_area_id

    @property
    def in_care(self) -> int:
        return self.rw.care.service_area_id


@pytest.fixture
def rec(db, rw) -> RecWorld:
    return recommendations_world(db, rw)


def recommendations_world(db, rw: ReportWorld) -> RecWorld:
    """The recommendations of the table above, with themes A to G, beside `rw`."""
    themes = {k: Theme(name=f"Report theme {k}") for k in "ABCDEFG"}
    db.add_all(themes.values())
    db.flush()
    teams = {"north": rw.north, "south": rw.south, "care": rw.care, None: None}
    cycles = {"A": rw.cycle_a, "B": rw.cycle_b, None: None}

    def item(
        team: str | None,
        cycle: str | None,
        raised: str,
        status: str = "open",
        due: date = NOT_DUE,
        closed: str | None = None,
        days: int | None = None,
        tags: str = "",
    ) -> Recommendation:
        t, c = teams[team], cycles[cycle]
        row = Recommendation(
            text="Do better",
            owner_id=rw.auditor.id,
            raised_by_id=rw.lead.id,
            priority="normal",
            team_id=t.id if t else None,
            service_area_id=t.service_area_id if t else None,
            cycle_id=c.id if c else None,
            due_date=due,
            status=status,
            raised_at=at(raised),
            closed_at=at(closed) if closed else None,
            closed_by_id=rw.lead.id if closed else None,
            days_to_close=days,
        )
        db.add(row)
        db.flush()
        db.add_all([RecommendationTheme(recommendation_id=row.id, theme_id=themes[k].id) for k in tags])
        db.flush()
        return row

    items = {
        "r1": item("north", "A", "2026-02-01 10:00", "closed", closed="2026-02-11 10:00", days=10, tags="AB"),
        "r2": item("north", "A", "2026-03-01 10:00", "closed", closed="2026-03-21 10:00", days=20, tags="B"),
        "r3": item("south", None, "2026-04-10 10:00", "open", due=OVERDUE, tags="BC"),
        "r4": item("south", "A", "2026-05-05 10:00", "in_progress", tags="A"),
        "r5": item("north", None, "2025-11-01 10:00", "closed", closed="2026-01-05 10:00", days=65, tags="C"),
        "r6": item("care", "B", "2026-05-31 23:30", "completed", due=OVERDUE, tags="A"),
        "r7": item("care", None, "2026-06-30 23:30", "open", tags="B"),
        "r8": item("north", None, "2025-10-01 10:00", "closed", closed="2025-12-01 10:00", days=61),
        "r9": item(None, None, "2026-03-15 10:00", "open", due=OVERDUE, tags="DEFG"),
        "r10": item("south", None, "2026-06-01 10:00", "closed", closed="2026-06-30 23:30", days=30),
    }
    return RecWorld(rw=rw, items=items, themes=themes)


def figures(db, flt: ReportFilter) -> RecommendationFigures:
    return recommendation_figures(db, flt, ZONE, today=TODAY)


def counts(r: RecommendationFigures) -> tuple[int, int, int, int, float | None]:
    return r.raised, r.closed, r.outstanding, r.overdue, r.median_days


def themes(r: RecommendationFigures) -> list[tuple[str, int]]:
    return [(t.name.removeprefix("Report theme "), t.count) for t in r.themes]


# --- Moderation -----------------------------------------------------------------------------------------------


def test_agreement_over_every_moderated_round_of_the_selection(db, rw):
    m = moderation_figures(db, period_filter(), ZONE, min_n=10)
    assert (m.rounds, m.n, m.agreement.agreed) == (5, 5, 1)  # only a4 round 2 agrees
    assert m.agreement.exact_agreement == pytest.approx(0.2)
    assert m.agreement.weighted_kappa == pytest.approx(KAPPA_ALL)
    low, high = m.agreement.interval
    assert -1 <= low < KAPPA_ALL < high <= 1
    assert (m.exact_text, m.kappa_text) == ("20%", "0.36")
    assert m.interval_text == f"{low:.2f} to {high:.2f}"
    assert m.too_few and m.note == "too few to judge"  # 5 pairs < 10


def test_agreement_is_judged_from_the_minimum_n(db, rw):
    m = moderation_figures(db, period_filter(), ZONE, min_n=5)
    assert not m.too_few and m.note == ""


def test_agreement_follows_the_filter(db, rw):
    # Safeguarding: a2's two rounds and a3, every auditor's grade good: no exact agreement, kappa 0.
    area = moderation_figures(db, period_filter(service_area_id=rw.north.service_area_id), ZONE, min_n=10)
    assert (area.rounds, area.n, area.agreement.agreed) == (3, 3, 0)
    assert area.agreement.weighted_kappa == pytest.approx(0.0, abs=1e-12)
    # Cycle B: a4's two rounds (a5 has no moderation)
    cycle = moderation_figures(db, period_filter(cycle_id=rw.cycle_b.id), ZONE, min_n=10)
    assert (cycle.rounds, cycle.n, cycle.agreement.agreed) == (2, 2, 1)
    # June only (a3 was completed on 1 June in London): one pair
    june = moderation_figures(db, ReportFilter(date_from=date(2026, 6, 1), date_to=date(2026, 6, 30)), ZONE, min_n=10)
    assert (june.rounds, june.n) == (1, 1)
    # the team North: a2 only
    assert moderation_figures(db, period_filter(team_id=rw.north.id), ZONE, min_n=10).n == 2
    # case type cla: a4 only
    assert moderation_figures(db, period_filter(case_type="cla"), ZONE, min_n=10).n == 2


def test_no_moderated_audits_in_the_selection(db, rw):
    m = moderation_figures(db, period_filter(template_key=DIP), ZONE, min_n=10)
    assert (m.rounds, m.n, m.agreement.exact_agreement, m.agreement.weighted_kappa) == (0, 0, None, None)
    assert m.agreement.note == NO_PAIRS and m.note == ""  # the page says so in its own words
    assert (m.exact_text, m.kappa_text, m.interval_text) == ("Not available", "Undefined", "Not available")
    assert ModerationFigures().n == 0  # the Report's default


def test_head_of_service_agreement_never_counts_another_area(db, rw):
    flt = report_filter_from_query({**PERIOD, "service_area": str(rw.care.service_area_id)}, user=rw.hos, today=TODAY)
    assert flt.service_area_id == rw.north.service_area_id
    m = moderation_figures(db, flt, ZONE, min_n=10)
    assert (m.rounds, m.n) == (3, 3)  # a4 (Children in care) is never counted


def test_agreement_pairs_takes_a_set_of_audits_and_keeps_its_other_filters(db, rw):
    pairs, rounds = agreement_pairs(db, audit_ids=[rw.audits["a2"].id])
    assert rounds == 2 and [(p.auditor_grade, p.moderator_grade) for p in pairs if p.section_key == OVERALL] == [
        ("good", "inadequate"),
        ("good", "requires_improvement"),
    ]
    _, everything = agreement_pairs(db)
    assert everything == 5
    _, in_cycle_a = agreement_pairs(db, audit_ids=[rw.audits["a2"].id, rw.audits["a4"].id], cycle_id=rw.cycle_a.id)
    assert in_cycle_a == 2  # a4 is cycle B
    assert agreement_pairs(db, audit_ids=[]) == ([], 0)


# --- Recommendations ------------------------------------------------------------------------------------------


def test_recommendation_figures_for_every_area(db, rec):
    r = figures(db, period_filter())
    # raised in the period: r1 r2 r3 r4 r6 r9 r10 (r5, r8 before; r7 is 1 July in London)
    # closed in the period: r1 (10 days) r2 (20) r5 (65); r8 before, r10 on 1 July in London
    # outstanding: r3 r4 r6 r7 r9; overdue: r3 r6 r9
    assert counts(r) == (7, 3, 5, 3, 20.0)
    # themes of those raised: A r1 r4 r6, B r1 r2 r3, C r3, D..G r9 (ties by name; at most five)
    assert themes(r) == [("A", 3), ("B", 3), ("C", 1), ("D", 1), ("E", 1)]
    assert r.median_text == "20 days" and r.unfiltered == ()


def test_recommendation_figures_for_an_area_team_and_cycle(db, rec):
    area = figures(db, period_filter(service_area_id=rec.safeguarding))
    # r1 r2 r3 r4 r10 raised; r1 r2 r5 closed; r3 r4 outstanding; r3 overdue
    assert counts(area) == (5, 3, 2, 1, 20.0)
    assert themes(area) == [("B", 3), ("A", 2), ("C", 1)]
    south = figures(db, period_filter(team_id=rec.rw.south.id))
    assert counts(south) == (3, 0, 2, 1, None)  # r3 r4 r10; r10 closed on 1 July
    assert south.median_text == "Not available: none closed in the period"
    cycle_a = figures(db, period_filter(cycle_id=rec.rw.cycle_a.id))
    assert counts(cycle_a) == (3, 2, 1, 0, 15.0)  # r1 r2 r4
    assert cycle_a.median_text == "15 days"
    in_care = figures(db, period_filter(service_area_id=rec.in_care))
    assert counts(in_care) == (1, 0, 2, 1, None)  # r6 raised (1 June); r6 r7 outstanding


def test_template_and_case_type_do_not_narrow_recommendations(db, rec):
    r = figures(db, period_filter(template_key=CFA, case_type="cin"))
    assert counts(r) == (7, 3, 5, 3, 20.0)
    assert r.unfiltered == ("template", "case type")


def test_the_period_is_local_dates(db, rec):
    july = figures(db, ReportFilter(date_from=date(2026, 7, 1), date_to=date(2026, 7, 31)))
    assert (july.raised, july.closed, july.median_days) == (1, 1, 30.0)  # r7 raised, r10 closed, on 1 July
    june = figures(db, ReportFilter(date_from=date(2026, 6, 1), date_to=date(2026, 6, 30)))
    assert (june.raised, june.closed) == (2, 0)  # r6 (1 June in London) and r10


def test_overdue_is_counted_from_today(db, rec):
    assert recommendation_figures(db, period_filter(), ZONE, today=date(2019, 12, 31)).overdue == 0
    assert recommendation_figures(db, period_filter(), ZONE, today=date(2020, 1, 1)).overdue == 0  # due today
    assert recommendation_figures(db, period_filter(), ZONE, today=date(2020, 1, 2)).overdue == 3


def test_head_of_service_recommendations_never_include_another_area(db, rec):
    flt = report_filter_from_query({**PERIOD, "service_area": str(rec.in_care)}, user=rec.rw.hos, today=TODAY)
    r = figures(db, flt)
    assert counts(r) == (5, 3, 2, 1, 20.0)  # Safeguarding's; never r6, r7 (Children in care) nor r9 (no area)
    assert "D" not in dict(themes(r))
    assert r.service_area_id == rec.safeguarding


def test_links_give_the_list_the_same_filter(db, rec):
    r = figures(db, period_filter(service_area_id=rec.safeguarding, cycle_id=rec.rw.cycle_a.id))
    area, cycle = rec.safeguarding, rec.rw.cycle_a.id
    assert r.urls["raised"] == (
        f"/recommendations?service_area={area}&cycle={cycle}&raised_from=2026-01-01&raised_to=2026-06-30"
    )
    assert r.urls["outstanding"] == f"/recommendations?status=outstanding&service_area={area}&cycle={cycle}"
    assert r.urls["overdue"] == f"/recommendations?status=overdue&service_area={area}&cycle={cycle}"
    assert "closed" not in r.urls  # the list has no "closed in a period" filter
    (theme_a,) = [t for t in r.themes if t.name == "Report theme A"]
    assert f"theme={rec.themes['A'].id}" in theme_a.url and "raised_from=2026-01-01" in theme_a.url


def test_who_may_follow_the_links(db, rec):
    rw = rec.rw
    assert may_follow_recommendations(rw.lead, service_area_id=None)
    assert may_follow_recommendations(rw.hos, service_area_id=rec.safeguarding)
    assert not may_follow_recommendations(rw.hos, service_area_id=rec.in_care)
    assert not may_follow_recommendations(rw.viewer, service_area_id=None)
    assert not RecommendationFigures().linked_for(None)


def _api_total(client, headers, url: str) -> int:
    params = dict(parse_qsl(urlsplit(url).query))
    response = client.get("/api/v1/recommendations", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()["total"]


@pytest.mark.parametrize("who", ["lead", "hos"])
def test_each_figure_matches_the_list_behind_its_link(client, db, rec, settings, who):
    user = getattr(rec.rw, who)
    flt = report_filter_from_query(PERIOD, user=user, today=TODAY)
    r = recommendation_figures(db, flt, settings.timezone, today=settings.today())
    headers = api_headers(client, user.username)
    assert _api_total(client, headers, r.urls["raised"]) == r.raised
    assert _api_total(client, headers, r.urls["outstanding"]) == r.outstanding
    assert _api_total(client, headers, r.urls["overdue"]) == r.overdue
    for t in r.themes:
        assert _api_total(client, headers, t.url) == t.count


# --- On the page ------------------------------------------------------------------------------------------------


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def section(html: str, start: str, end: str | None) -> str:
    begin = html.index(f'id="{start}"')
    return html[begin : html.index(f'id="{end}"', begin)] if end else html[begin:]


def page(client, user, **params):
    login(client, user.username)
    response = client.get("/reports", params={**PERIOD, **params})
    assert response.status_code == 200, response.text
    return response.text


def test_qa_lead_sees_both_sections_with_links(client, rec):
    html = page(client, rec.rw.lead)
    moderation = text_of(section(html, "moderation-agreement", "recommendations"))
    assert "Pairs of grades Exact agreement Weighted kappa 95% interval Note 5 20% (1 of 5) 0.36" in moderation
    assert "too few to judge" in moderation and "Fewer than 10 pairs of grades" in moderation
    assert "Kappa is 1 when the two always agree" in moderation
    recs = section(html, "recommendations", None)
    assert 'href="/recommendations?status=outstanding"' in recs
    assert 'href="/recommendations?status=overdue"' in recs
    assert 'href="/recommendations?raised_from=2026-01-01&amp;raised_to=2026-06-30"' in recs
    words = text_of(recs)
    assert "Raised in the period 7 recommendations raised in the period" in words
    assert "Closed in the period 3 Outstanding now 5" in words  # closed: a number, no link
    assert "Median time to close of those closed in the period 20 days" in words
    assert "Report theme A 3" in words and "Report theme F" not in words


def test_viewer_sees_the_numbers_without_links(client, rec):
    recs = section(page(client, rec.rw.viewer), "recommendations", None)
    assert "/recommendations?" not in recs
    words = text_of(recs)
    assert "Raised in the period 7 Closed in the period 3 Outstanding now 5 Overdue now 3" in words
    assert "Report theme A 3" in words


def test_head_of_service_sees_their_area_with_links_to_it(client, rec):
    html = page(client, rec.rw.hos)
    recs = section(html, "recommendations", None)
    assert f'href="/recommendations?status=outstanding&amp;service_area={rec.safeguarding}"' in recs
    assert "Raised in the period 5 recommendations raised in the period" in text_of(recs)
    moderation = text_of(section(html, "moderation-agreement", "recommendations"))
    assert "3 0% (0 of 3) 0.00" in moderation


def test_no_moderation_in_the_selection_is_said(client, rec):
    html = page(client, rec.rw.lead, template=DIP)
    moderation = text_of(section(html, "moderation-agreement", "recommendations"))
    assert "None of these audits has been graded by a moderator" in moderation
    words = text_of(section(html, "recommendations", None))
    assert "The template filter does not narrow them: a recommendation has no template." in words
