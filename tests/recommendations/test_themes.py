"""Learning themes: the themes-by-month figures against hand-made items (local months, the time-zone boundary,
each figure agreeing with the list it links to), scope (a head of service sees their own area only), and the
QA lead's managed list (add, duplicates refused, retire and restore, the audit trail, who may)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.audit_trail.models import AuditEvent
from app.errors import ValidationFailed
from app.recommendations import selectors, service
from app.recommendations.models import Theme
from app.recommendations.themes import service as themes
from app.sampling.models import Cycle
from tests.factories import (
    api_headers,
    csrf_token,
    login,
    make_user,
    page_text,
    post_form,
)
from tests.recommendations.conftest import TODAY, make_item

ZONE = "Europe/London"
MANAGE = "/recommendations/themes/manage"


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _theme(db, name: str) -> Theme:
    return db.execute(select(Theme).where(Theme.name == name)).scalar_one()


def _events(db, action: str) -> list[AuditEvent]:
    return list(db.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def _report(db, user, **kwargs):
    values = {"months": 12, "service_area_id": None, "cycle_id": None, "today": TODAY, "zone": ZONE, **kwargs}
    return themes.themes_report(db, user=user, **values)


def _line(report, name: str):
    return next(line for line in report.lines if line.theme.name == name)


def _month(report, first: date) -> int:
    return next(i for i, m in enumerate(report.months) if m.first == first)


# --- Pure parts --------------------------------------------------------------------------------------


def test_last_months_are_calendar_months_ending_with_this_one():
    months = themes.last_months(date(2026, 11, 26), 12)
    assert [m.first for m in months][:3] == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert (months[2].last, months[-1].first, months[-1].last) == (
        date(2026, 2, 28),
        date(2026, 11, 1),
        date(2026, 11, 30),
    )
    assert len(themes.last_months(date(2026, 1, 31), 24)) == 24
    assert themes.last_months(date(2026, 1, 31), 24)[0].first == date(2024, 2, 1)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "Enter a name for the theme"),
        ("x" * 81, "80 characters or fewer"),
        ("chronology", "There is already a theme called “Chronology”"),
        ("CHILD'S VOICE", "already a theme called “Child's voice”"),
    ],
)
def test_a_theme_name_must_be_given_short_and_new(name, problem):
    assert problem in themes.name_problem(name, {"Chronology": True, "Child's voice": True})
    assert themes.name_problem("x" * 80, {"Chronology": True}) is None
    assert themes.name_problem("chronology", {"Chronology": False}).endswith("(retired: restore it instead)")


def test_names_are_cleaned_before_they_are_checked():
    assert themes.clean_name("  Management \x00  oversight\t") == "Management oversight"
    assert themes.clean_name(None) == ""


def test_months_from_the_query():
    assert themes.months_from_query(None) == (12, None)
    assert themes.months_from_query("24") == (24, None)
    assert themes.months_from_query("7") == (12, "Choose 6, 12 or 24 months")


# --- The figures -------------------------------------------------------------------------------------


@pytest.fixture
def tagged(db, world):
    """Chronology: 5 in the window (1 closed), 1 just before it; Child's voice: 1 (also tagged Chronology);
    another area's item under Planning."""
    chronology, voice, planning = (_theme(db, n).id for n in ("Chronology", "Child's voice", "Planning"))
    items = {
        "nov": make_item(db, world, raised_at=_utc(2026, 11, 1, 12), theme_ids=(chronology, voice)),
        # 23:30 UTC on 31 May is 00:30 BST on 1 June: June in London.
        "june": make_item(db, world, raised_at=_utc(2026, 5, 31, 23, 30), theme_ids=(chronology,)),
        # 22:30 UTC on 31 May is 23:30 BST: still May.
        "may": make_item(db, world, raised_at=_utc(2026, 5, 31, 22, 30), theme_ids=(chronology,), status="closed"),
        # The window's first moment (midnight GMT on 1 December 2025) and just before it.
        "first": make_item(db, world, raised_at=_utc(2025, 12, 1, 0, 0), theme_ids=(chronology,)),
        "before": make_item(db, world, raised_at=_utc(2025, 11, 30, 23, 59), theme_ids=(chronology,)),
        "untagged": make_item(db, world, raised_at=_utc(2026, 11, 2, 12)),
        "other_area": make_item(
            db,
            world,
            case=world.other_case,
            owner=world.bystander,
            raised_at=_utc(2026, 10, 5, 12),
            theme_ids=(planning,),
        ),
    }
    items["second_nov"] = make_item(db, world, raised_at=_utc(2026, 11, 3, 9), theme_ids=(chronology,))
    return items


def test_counts_by_theme_and_local_month(db, world, tagged):
    report = _report(db, world.lead)
    assert [line.theme.name for line in report.lines] == ["Chronology", "Child's voice", "Planning"]
    chronology = _line(report, "Chronology")
    counts = {m.first: cell.count for m, cell in zip(report.months, chronology.cells, strict=True)}
    assert counts[date(2026, 11, 1)] == 2
    assert counts[date(2026, 6, 1)] == 1 and counts[date(2026, 5, 1)] == 1  # the time-zone boundary
    assert counts[date(2025, 12, 1)] == 1  # the window's first moment is in; the minute before is not
    assert sum(counts.values()) == chronology.total.count == 5
    assert chronology.outstanding.count == 4  # the May one is closed
    voice = _line(report, "Child's voice")
    assert (voice.total.count, voice.cells[_month(report, date(2026, 11, 1))].count) == (1, 1)
    assert _line(report, "Planning").total.count == 1
    assert "Supervision" in report.quiet and "Chronology" not in report.quiet
    assert chronology.share == 1.0 and voice.share == pytest.approx(0.2)


def test_every_figure_agrees_with_the_list_it_links_to(db, world, tagged):
    report = _report(db, world.lead)
    checked = 0
    for line in report.lines:
        for cell in [*line.cells, line.total, line.outstanding]:
            parts = urlsplit(cell.url)
            assert parts.path == "/recommendations"
            flt = selectors.filter_from_query(dict(parse_qsl(parts.query)), user=world.lead)
            assert flt.errors == {}
            listed = selectors.recommendations_page(db, user=world.lead, flt=flt, today=TODAY, zone=ZONE)
            assert listed.total == cell.count, (line.theme.name, cell.url)
            checked += 1
    assert checked == 3 * 14
    june = _line(report, "Chronology").cells[_month(report, date(2026, 6, 1))]
    assert dict(parse_qsl(urlsplit(june.url).query)) == {
        "theme": str(_theme(db, "Chronology").id),
        "raised_from": "2026-06-01",
        "raised_to": "2026-06-30",
    }


def test_a_shorter_period_and_a_cycle(db, world, tagged):
    six = _report(db, world.lead, months=6)
    assert six.months[0].first == date(2026, 6, 1)
    assert _line(six, "Chronology").total.count == 3  # June and the two in November
    cycle = Cycle(
        title="Chronology thematic",
        kind="thematic",
        template_key="dip_sample",
        template_version=1,
        due_date=date(2026, 12, 31),
    )
    db.add(cycle)
    db.flush()
    chronology = _theme(db, "Chronology").id
    make_item(
        db,
        world,
        case=world.other_case,
        audit_id=None,
        cycle_id=cycle.id,
        raised_at=_utc(2026, 9, 1, 9),
        theme_ids=(chronology,),
    )
    by_cycle = _report(db, world.lead, cycle_id=cycle.id)
    assert [(line.theme.name, line.total.count) for line in by_cycle.lines] == [("Chronology", 1)]


def test_where_they_came_from(db, world, tagged):
    cycle = Cycle(
        title="Autumn dip sample",
        kind="dip_sample",
        template_key="dip_sample",
        template_version=1,
        due_date=date(2026, 12, 31),
    )
    db.add(cycle)
    db.flush()
    chronology = _theme(db, "Chronology").id
    make_item(db, world, audit_id=None, cycle_id=cycle.id, raised_at=_utc(2026, 9, 1, 9), theme_ids=(chronology,))
    sources = _line(_report(db, world.lead), "Chronology").sources
    assert [(s.title, s.count, s.audit_ids, s.audits) for s in sources] == [
        ("Not part of a cycle", 5, [world.audit.id], 1),
        ("Autumn dip sample", 1, [], 0),
    ]


def test_a_head_of_service_sees_their_own_area_only(db, world, tagged):
    area = world.team.service_area_id
    hos = _report(db, world.hos, service_area_id=area)
    assert "Planning" not in [line.theme.name for line in hos.lines]
    assert _line(hos, "Chronology").total.count == 5
    other = _report(db, world.other_hos, service_area_id=world.other_team.service_area_id)
    assert [(line.theme.name, line.total.count) for line in other.lines] == [("Planning", 1)]
    # Even unnarrowed, scope applies: the other head of service never counts this area's items.
    assert [line.theme.name for line in _report(db, world.other_hos).lines] == ["Planning"]


def test_the_figures_come_from_a_fixed_number_of_queries(db, world, tagged, engine):
    from sqlalchemy import event

    statements: list[str] = []

    def count(*_args):
        statements.append("x")

    event.listen(engine, "before_cursor_execute", count)
    try:
        _report(db, world.lead)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    few = len(statements)
    assert few > 0
    for month in range(1, 11):
        make_item(db, world, raised_at=_utc(2026, month, 10, 12), theme_ids=(_theme(db, "Recording").id,))
    statements.clear()
    event.listen(engine, "before_cursor_execute", count)
    try:
        _report(db, world.lead)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == few


# --- The page ----------------------------------------------------------------------------------------


@pytest.fixture
def recent(db, world, settings):
    """Items raised today (local noon), so the page, which counts back from the real date, shows them."""
    noon = datetime.combine(settings.today(), time(12), tzinfo=ZoneInfo(settings.timezone))
    ours = make_item(db, world, raised_at=noon, theme_ids=(_theme(db, "Chronology").id,))
    theirs = make_item(
        db,
        world,
        case=world.other_case,
        owner=world.bystander,
        raised_at=noon,
        theme_ids=(_theme(db, "Family network").id,),
    )
    return ours, theirs


def test_the_qa_lead_sees_every_area_with_links_and_a_chart(client, db, world, recent):
    login(client, "lead")
    response = client.get("/recommendations/themes")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "Recommendations by learning theme" in text
    assert "Chronology 1" in text and "Family network 1" in text  # the chart's description carries its data
    assert f"/recommendations?theme={_theme(db, 'Chronology').id}" in response.text
    assert f'href="/audits/{world.audit.id}"' in response.text
    assert '<title id="theme-chart-title">' in response.text and '<desc id="theme-chart-desc">' in response.text
    assert "Add, retire or restore learning themes" in text


def test_a_head_of_service_page_is_their_area_whatever_the_link_says(client, db, world, recent):
    login(client, "hos")
    for url in ("/recommendations/themes", f"/recommendations/themes?service_area={world.other_team.service_area_id}"):
        response = client.get(url)
        assert response.status_code == 200
        text = page_text(response.text)
        assert "Chronology 1" in text and "Family network 1" not in text
        assert f"theme={_theme(db, 'Family network').id}" not in response.text
        assert 'name="service_area"' not in response.text  # no area choice for them
        assert f'href="/audits/{world.audit.id}"' not in response.text  # audit pages are not theirs to open


def test_filters_that_make_no_sense_are_named(client, db, world, recent):
    login(client, "lead")
    response = client.get("/recommendations/themes?months=7&cycle=abc&service_area=999999")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "There is a problem" in text
    assert "Choose 6, 12 or 24 months" in text and "Choose a service area from the list" in text
    assert "the last 12 months" in text and "Chronology" in text  # shown unfiltered by them


def test_an_empty_period_says_what_to_try(client, db, world):
    login(client, "lead")
    response = client.get("/recommendations/themes?months=6")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "No themed recommendations in the last 6 months" in text and "choose a longer period" in text
    assert "<table" not in response.text


@pytest.mark.parametrize("username", ["owner", "viewer", "auditor", "nohos"])
def test_others_may_not_see_the_themes_page(client, db, world, username):
    make_user(db, username="nohos", roles=("head_of_service",))  # no service area set
    login(client, username)
    assert client.get("/recommendations/themes").status_code == 403


# --- Managing the list -------------------------------------------------------------------------------


def test_the_qa_lead_adds_a_theme(client, db, world):
    login(client, "lead")
    response = post_form(client, MANAGE, {"name": "  Education   and health "})
    assert response.status_code == 303
    theme = _theme(db, "Education and health")
    assert response.headers["location"] == f"{MANAGE}?added={theme.id}"
    assert theme.active and theme.id in [t.id for t in service.active_themes(db)]
    (event,) = _events(db, "theme.add")
    assert (event.actor_id, event.entity_id) == (world.lead.id, str(theme.id))
    page = page_text(client.get(response.headers["location"]).text)
    assert "Theme “Education and health” added." in page


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("CHRONOLOGY", "There is already a theme called “Chronology”"),
        ("", "Enter a name for the theme"),
        ("y" * 81, "80 characters or fewer"),
    ],
)
def test_a_bad_theme_name_is_refused_naming_the_field(client, db, world, name, message):
    login(client, "lead")
    before = len(themes.theme_uses(db))
    response = post_form(client, MANAGE, {"name": name})
    assert response.status_code == 400
    assert message in page_text(response.text)
    assert 'href="#name"' in response.text  # the error summary points at the field
    assert len(themes.theme_uses(db)) == before and _events(db, "theme.add") == []


def test_the_service_refuses_a_duplicate_too(db, world):
    with pytest.raises(ValidationFailed) as caught:
        themes.theme_add(db, actor=world.lead, name="child's VOICE")
    assert list(caught.value.errors) == ["name"]


def test_retire_after_confirming_then_restore(client, db, world):
    chronology = _theme(db, "Chronology")
    item = make_item(db, world, theme_ids=(chronology.id,))
    login(client, "lead")
    confirm = client.get(f"{MANAGE}?confirm={chronology.id}")
    assert confirm.status_code == 200
    assert "Retire “Chronology”?" in page_text(confirm.text)
    assert "The 1 recommendation that has it keeps it" in page_text(confirm.text)
    assert chronology.active  # asking to confirm changes nothing

    retired = post_form(client, f"{MANAGE}/status", {"theme_id": str(chronology.id), "active": "no"})
    assert retired.status_code == 303 and retired.headers["location"] == f"{MANAGE}?retired={chronology.id}"
    db.refresh(chronology)
    assert not chronology.active
    assert "Chronology" not in [t.name for t in service.active_themes(db)]
    assert selectors.themes_by_item(db, [item.id]) == {item.id: ["Chronology"]}  # kept on past ones
    (event,) = _events(db, "theme.retire")
    assert (event.actor_id, event.entity_id, event.after) == (world.lead.id, str(chronology.id), {"active": False})
    # ...and is refused for new recommendations.
    raised = client.post(
        f"/api/v1/audits/{world.audit.id}/recommendations",
        headers=api_headers(client, "auditor"),
        json={"text": "Update it", "priority": "normal", "theme_ids": [chronology.id]},
    )
    assert raised.status_code == 422 and raised.json()["detail"][0]["loc"] == ["body", "theme_ids"]

    assert "Restore “Chronology”?" in page_text(client.get(f"{MANAGE}?confirm={chronology.id}").text)
    restored = post_form(client, f"{MANAGE}/status", {"theme_id": str(chronology.id), "active": "yes"})
    assert restored.status_code == 303
    db.refresh(chronology)
    assert chronology.active and len(_events(db, "theme.restore")) == 1
    # Pressing restore again (from a stale page) changes nothing more.
    assert post_form(client, f"{MANAGE}/status", {"theme_id": str(chronology.id), "active": "yes"}).status_code == 303
    assert len(_events(db, "theme.restore")) == 1


def test_unknown_themes_and_values_are_refused(client, db, world):
    login(client, "lead")
    assert client.get(f"{MANAGE}?confirm=99999999999").status_code == 404
    assert post_form(client, f"{MANAGE}/status", {"theme_id": "abc", "active": "no"}).status_code == 404
    chronology = _theme(db, "Chronology")
    assert post_form(client, f"{MANAGE}/status", {"theme_id": str(chronology.id), "active": "maybe"}).status_code == 422
    db.refresh(chronology)
    assert chronology.active


def test_only_the_qa_lead_manages_themes(client, db, world):
    login(client, "hos")
    assert client.get(MANAGE).status_code == 403
    assert post_form(client, MANAGE, {"name": "New theme"}).status_code == 403
    chronology = _theme(db, "Chronology")
    assert post_form(client, f"{MANAGE}/status", {"theme_id": str(chronology.id), "active": "no"}).status_code == 403
    assert _events(db, "theme.add") == [] and _events(db, "theme.retire") == []


def test_changes_need_the_csrf_token(client, db, world):
    login(client, "lead")
    csrf_token(client)
    refused = client.post(MANAGE, data={"name": "New theme"}, follow_redirects=False)
    assert refused.status_code == 403 and "could not be sent" in page_text(refused.text)
    assert _events(db, "theme.add") == []
