"""The audits behind a figure (GET /reports/audits, app.reports.drill), on the hand-built audits of
tests/reports/conftest.py: each figure lists exactly the audits counted by hand, within the reader's scope; bad
values are named; and every link of the reports page leads to a list as long as its figure."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from app.cases.models import Case
from app.reports import drill
from app.reports.figures import moderation_changes
from app.reports.filters import report_filter_from_query
from tests.factories import login, page_text
from tests.reports.conftest import TODAY, ZONE

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30"}
CHRONOLOGY = "case_file_audit:chronology_up_to_date"


def listed(response) -> list[int]:
    """The audit numbers in the page's table, in order."""
    found = re.search(r'<table[^>]*id="audits-table".*?</table>', response.text, re.DOTALL)
    if not found:
        return []
    cells = re.findall(r'<th scope="row" class="govuk-table__header">(.*?)</th>', found.group(0), re.DOTALL)
    return [int(page_text(cell).removeprefix("Audit ")) for cell in cells]


def ids(rw, *names: str) -> list[int]:
    return sorted(rw.audits[n].id for n in names)


def drill_get(client, user, **params):
    login(client, user.username)
    return client.get("/reports/audits", params={**PERIOD, **params})


# --- The hand-counted figures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"grade": "good"}, ["a1"]),
        ({"grade": "inadequate"}, ["a4"]),
        ({"grade": "none"}, ["a5", "a6"]),  # the dip sample has no overall grade
        ({"grade": "graded"}, ["a1", "a2", "a3", "a4"]),
        ({"move": "up"}, ["a3"]),  # good -> outstanding
        ({"move": "down"}, ["a2"]),  # good -> RI in round 2 (round 1 was returned)
        ({"move": "same"}, ["a4"]),  # round 2 accepted: inadequate -> inadequate (round 1's RI is not the final)
        ({"question": CHRONOLOGY, "answer": "yes"}, ["a1", "a3"]),
        ({"question": CHRONOLOGY, "answer": "no"}, ["a2"]),
        ({"question": CHRONOLOGY, "answer": "na"}, ["a4"]),
        ({"question": CHRONOLOGY}, ["a1", "a2", "a3"]),  # the rate's n: yes or no
        ({"question": "dip_sample:chronology_up_to_date", "answer": "no"}, ["a5"]),
        ({"month": "2026-05"}, ["a4", "a5"]),  # a5 is 23:30 BST on 31 May; a3 (23:30 UTC) is 00:30 on 1 June
        ({"month": "2026-06"}, ["a3", "a6"]),
        ({"month": "2026-05", "grade": "none"}, ["a5"]),
        ({"grade": "good", "team": "{north}"}, ["a1"]),
        ({"grade": "good", "team": "{south}"}, []),
        ({}, ["a1", "a2", "a3", "a4", "a5", "a6"]),  # a7 is not completed, a8 is before the period
    ],
)
def test_lists_exactly_the_audits_behind_the_figure(client, rw, params, expected):
    params = {k: v.format(north=rw.north.id, south=rw.south.id) for k, v in params.items()}
    response = drill_get(client, rw.lead, **params)
    assert response.status_code == 200
    assert "There is a problem" not in response.text
    assert sorted(listed(response)) == ids(rw, *expected)
    if expected:
        count = len(expected)
        assert f"{count} audit{'s' if count != 1 else ''}, most recently completed first" in page_text(response.text)
    else:
        assert "No audits match this figure" in page_text(response.text)


def test_moves_agree_with_the_moderation_figure(db, rw):
    flt = report_filter_from_query(PERIOD, user=rw.lead, today=TODAY)
    figure = moderation_changes(db, flt, ZONE)
    for move, expected in (
        ("up", figure.up),
        ("down", figure.down),
        ("same", figure.same),
        ("unknown", figure.unknown),
    ):
        page = drill.audits_page(db, flt, drill.Narrowing(move=move), zone=ZONE, user=rw.lead)
        assert page.total == expected


def test_the_month_is_cut_to_the_period(db, rw):
    flt = report_filter_from_query({"date_from": "2026-05-21", "date_to": "2026-06-30"}, user=rw.lead, today=TODAY)
    narrowing = drill.narrowing_from_query({"month": "2026-05"}, flt=flt)
    assert not narrowing.errors
    page = drill.audits_page(db, flt, narrowing, zone=ZONE, user=rw.lead)
    assert [r.audit_id for r in page.items] == [rw.audits["a5"].id]  # a4 (20 May) is before the period
    assert "completed 21 May 2026 to 31 May 2026" in drill.describe(db, flt, narrowing)


def test_the_caption_says_what_the_figure_is(client, rw):
    response = drill_get(client, rw.lead, grade="good", service_area=str(rw.north.service_area_id))
    caption = re.search(r'<caption[^>]*id="audits-what">(.*?)</caption>', response.text, re.DOTALL)
    assert caption and html.unescape(caption.group(1)) == (
        "Audits graded Good, completed 1 January 2026 to 30 June 2026, Safeguarding"
    )
    response = drill_get(client, rw.lead, question=CHRONOLOGY, answer="no", month="2026-04")
    assert "Audits answering “No” to “Is there a chronology on file" in html.unescape(response.text)
    assert "completed 1 April 2026 to 30 April 2026" in page_text(response.text)


def test_rows_show_the_audits_details(client, db, rw):
    response = drill_get(client, rw.lead, month="2026-06", grade="outstanding")
    row = page_text(re.search(r"<tbody.*?</tbody>", response.text, re.DOTALL).group(0))
    a3 = rw.audits["a3"]
    reference = db.get(Case, a3.case_id).child_id
    # completed 23:30 UTC on 31 May: 1 June in London
    assert row == f"Audit {a3.id} {reference} Case file audit South Safeguarding 1 June 2026 Outstanding"


def test_pages_of_audits(db, rw):
    flt = report_filter_from_query(PERIOD, user=rw.lead, today=TODAY)
    first = drill.audits_page(db, flt, drill.Narrowing(), zone=ZONE, user=rw.lead, page=1, page_size=4)
    last = drill.audits_page(db, flt, drill.Narrowing(), zone=ZONE, user=rw.lead, page=9, page_size=4)
    assert (first.total, first.pages, len(first.items), last.page, len(last.items)) == (6, 2, 4, 2, 2)
    newest_first = [r.completed for r in first.items + last.items]
    assert newest_first == sorted(newest_first, reverse=True)


def test_the_page_links_to_the_next_page(client, rw, monkeypatch):
    monkeypatch.setattr(drill, "PAGE_SIZE", 2)
    response = drill_get(client, rw.lead, grade="graded")
    assert "Showing 1 to 2 of 4 audits" in page_text(response.text)
    following = re.search(r'<a class="govuk-link govuk-pagination__link" href="\?([^"]*)" rel="next"', response.text)
    assert following
    query = parse_qs(html.unescape(following.group(1)))
    assert query["grade"] == ["graded"] and query["page"] == ["2"] and query["date_from"] == ["2026-01-01"]


# --- Scope and who sees what -------------------------------------------------------------------------------------


def test_qa_lead_gets_links_and_case_references(client, db, rw):
    response = drill_get(client, rw.lead, grade="good")
    a1 = rw.audits["a1"]
    assert f'href="/audits/{a1.id}"' in response.text
    assert db.get(Case, a1.case_id).child_id in response.text


def test_a_viewer_sees_no_links_to_audits_nor_case_references(client, db, rw):
    response = drill_get(client, rw.viewer)
    assert response.status_code == 200 and listed(response)
    assert 'href="/audits/' not in response.text and ">Case<" not in response.text
    for audit in rw.audits.values():
        assert db.get(Case, audit.case_id).child_id not in response.text


def test_a_head_of_service_gets_links_to_the_completed_audits_of_their_area(client, db, rw):
    """They read those audits (read-only), so the figure links each, with its case reference."""
    response = drill_get(client, rw.hos)
    for name in ("a1", "a2", "a3", "a5"):  # Safeguarding's, all completed
        audit = rw.audits[name]
        assert f'href="/audits/{audit.id}"' in response.text
        assert db.get(Case, audit.case_id).child_id in response.text


def test_head_of_service_sees_their_own_area_only(client, rw):
    response = drill_get(client, rw.hos)
    assert sorted(listed(response)) == ids(rw, "a1", "a2", "a3", "a5")  # Safeguarding


def test_head_of_service_asking_for_another_areas_team_is_told(client, rw):
    response = drill_get(client, rw.hos, team=str(rw.care.id), grade="inadequate")
    assert response.status_code == 200
    assert "You can see your own service area&#39;s teams only" in response.text
    assert listed(response) == []  # a4 (Care, inadequate) is not theirs
    response = drill_get(client, rw.hos, team=str(rw.care.id))
    assert sorted(listed(response)) == ids(rw, "a1", "a2", "a3", "a5")  # the team left out, their area kept


def test_head_of_service_asking_for_another_area_is_told(client, rw):
    response = drill_get(client, rw.hos, service_area=str(rw.care.service_area_id), grade="none")
    assert response.status_code == 200
    assert "You can see reports for your own service area only" in page_text(response.text)
    assert listed(response) == ids(rw, "a5")  # a6 (Care) is not theirs


def test_others_are_refused(client, rw):
    response = drill_get(client, rw.auditor, grade="good")
    assert response.status_code == 403
    assert not listed(response)


def test_listing_is_not_recorded(client, db, rw):
    from sqlalchemy import func, select

    from app.audit_trail.models import AuditEvent

    login(client, rw.lead.username)  # signing in is recorded; the list is not
    before = db.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert listed(client.get("/reports/audits", params={**PERIOD, "grade": "good"})) == ids(rw, "a1")
    assert db.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == before


# --- Bad values ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"grade": "excellent"}, "Grade must be one of"),
        ({"move": "sideways"}, "Move must be one of up, down, same, unknown"),
        ({"question": "chronology"}, "Question must be a template&#39;s key and a question&#39;s key"),
        ({"question": "A B:c"}, "Question must be a template&#39;s key and a question&#39;s key"),
        ({"question": CHRONOLOGY, "answer": "maybe"}, "Answer must be one of yes, no, na"),
        ({"answer": "no"}, "An answer needs a question"),
        ({"month": "2026-13"}, "Month must be a month as YYYY-MM"),
        ({"month": "May"}, "Month must be a month as YYYY-MM"),
        ({"month": "0000-01"}, "Month must be a month as YYYY-MM"),
        ({"month": "2025-05"}, "Month must be within the period, 1 January 2026 to 30 June 2026"),
        ({"date_from": "2026-02-30"}, "Enter a real date as YYYY-MM-DD"),
        ({"team": "x"}, "Team must be a team&#39;s number"),
        ({"page": "-3"}, None),
    ],
)
def test_bad_values_are_named_never_a_500(client, rw, params, message):
    response = drill_get(client, rw.lead, **params)
    assert response.status_code == 200
    if message is None:
        assert "There is a problem" not in response.text
    else:
        assert "There is a problem" in response.text and message in response.text
        assert "<title>Error: " in response.text
        assert 'href="#audits-what"' in response.text and 'id="audits-what"' in response.text


def test_a_nul_in_a_filter_is_refused_naming_it(client, rw):
    response = drill_get(client, rw.lead, grade="\x00")
    assert response.status_code == 422 and "grade: " in response.text and "cannot be stored" in response.text


def test_a_bad_value_is_left_out(client, rw):
    response = drill_get(client, rw.lead, grade="good", move="sideways")
    assert listed(response) == ids(rw, "a1")


def test_back_link_keeps_the_filter(client, rw):
    response = drill_get(client, rw.lead, grade="good", cycle=str(rw.cycle_a.id), month="2026-03")
    back = re.search(r'<a href="(/reports\?[^"]*)" class="govuk-back-link"', response.text)
    assert back
    query = parse_qs(urlsplit(html.unescape(back.group(1))).query)
    assert query == {"date_from": ["2026-01-01"], "date_to": ["2026-06-30"], "cycle": [str(rw.cycle_a.id)]}


# --- The reports page's links -------------------------------------------------------------------------------------


def figure_links(page: str) -> list[tuple[int, str, str]]:
    """(n, href, accessible name) of each link to /reports/audits: n is the number of audits its name gives."""
    found = []
    for href, label in re.findall(r'<a class="govuk-link" href="(/reports/audits\?[^"]*)" aria-label="([^"]*)"', page):
        label = html.unescape(label)
        n = re.match(r"^(?:[^:]*: )?(\d+) audits? ", label)
        assert n, label
        found.append((int(n.group(1)), html.unescape(href), label))
    return found


@pytest.mark.parametrize("who", ["lead", "hos"])
def test_every_figure_link_leads_to_as_many_audits(client, rw, who):
    user = getattr(rw, who)
    login(client, user.username)
    page = client.get("/reports", params=PERIOD).text
    links = figure_links(page)
    labels = [label for _, _, label in links]
    assert len(labels) == len(set(labels))  # each link has its own name
    kinds = {k for _, href, _ in links for k in parse_qs(urlsplit(href).query)}
    assert {"grade", "move", "question", "answer", "month"} <= kinds
    for n, href, label in links:
        response = client.get(href)
        assert response.status_code == 200 and "There is a problem" not in response.text, href
        assert len(listed(response)) == n, (label, href)
        query = parse_qs(urlsplit(href).query)
        assert query["date_from"] == ["2026-01-01"] and query["date_to"] == ["2026-06-30"]  # the page's filter


def test_reports_page_links_the_hand_counted_figures(client, rw):
    login(client, rw.lead.username)
    page = client.get("/reports", params={**PERIOD, "cycle": str(rw.cycle_a.id)}).text
    links = {label: href for _, href, label in figure_links(page)}
    assert "1 audit graded Good" in links and "1 audit graded Good, North" in links
    assert parse_qs(urlsplit(links["1 audit graded Good"]).query) == {
        **{k: [v] for k, v in PERIOD.items()},
        "cycle": [str(rw.cycle_a.id)],
        "grade": ["good"],
    }
    assert "1 audit whose grade moderation moved down" in links
    assert (
        "1 audit answering No to “Is there a chronology on file that is up to date and records significant "
        "events?” (case_file_audit)"
    ) in links
    assert "1 audit completed in Jun 2026" in links  # a3: June in London
    assert not any("completed in May 2026" in label for label in links)  # cycle A has nothing in May
    assert "0 audits" not in "".join(links)  # a zero is not a link


def test_viewer_gets_the_figure_links_too(client, rw):
    login(client, rw.viewer.username)
    page = client.get("/reports", params=PERIOD).text
    assert figure_links(page)


def test_audits_href_keeps_the_filter(rw):
    flt = report_filter_from_query({**PERIOD, "team": str(rw.north.id)}, user=rw.hos, today=TODAY)
    href = drill.audits_href(flt, grade="good")
    assert parse_qs(urlsplit(href).query) == {
        "date_from": ["2026-01-01"],
        "date_to": ["2026-06-30"],
        "team": [str(rw.north.id)],
        "grade": ["good"],
    }
