"""The dashboard page: a head of service sees their own area and nothing of another's, whatever the link asks;
the QA lead sees every area or one; everyone else is refused. Every figure links to the list behind it, with
the area and filters; no child ID is shown and viewing records nothing."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.recommendations.models import Theme
from tests.factories import login, make_case, make_team, make_user, page_text
from tests.recommendations.conftest import make_item

URL = "/recommendations/dashboard"


def text(response) -> str:
    return html.unescape(page_text(response.text))


def links(response) -> list[tuple[str, dict[str, str]]]:
    """(path, query) of every link on the page."""
    found = []
    for href in re.findall(r'href="([^"]+)"', response.text):
        parts = urlsplit(html.unescape(href))
        found.append((parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}))
    return found


def link_texts(response, path: str = "/recommendations", **query: str) -> list[str]:
    """The text of every link to `path` with exactly `query`."""
    pattern = re.compile(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', re.DOTALL)
    found = []
    for href, inner in pattern.findall(response.text):
        parts = urlsplit(html.unescape(href))
        if parts.path == path and {k: v[0] for k, v in parse_qs(parts.query).items()} == query:
            found.append(html.unescape(page_text(inner)))
    return found


def figure(response, **query: str) -> str:
    """The number shown by the links to the list with exactly `query` (the same wherever it appears)."""
    numbers = {re.search(r"[\d,]+", t).group() for t in link_texts(response, **query)}
    assert len(numbers) == 1, (query, numbers)
    return numbers.pop()


@pytest.fixture
def today(app):
    return app.state.settings.today()


@pytest.fixture
def items(db, world, today):
    """Safeguarding: 3 outstanding in Team 1 (one 45 days overdue, one completed) and one closed; Children in
    Care: 2 outstanding, one 100 days overdue."""
    return {
        "overdue": make_item(db, world, status="open", due_date=today - timedelta(days=45)),
        "open": make_item(db, world, status="in_progress", due_date=today + timedelta(days=10)),
        "completed": make_item(db, world, status="completed", due_date=today + timedelta(days=3)),
        "closed": make_item(db, world, status="closed", due_date=today - timedelta(days=5)),
        "other_overdue": make_item(
            db, world, case=world.other_case, owner=world.bystander, status="open", due_date=today - timedelta(days=100)
        ),
        "other_open": make_item(
            db, world, case=world.other_case, owner=world.bystander, status="open", due_date=today + timedelta(days=20)
        ),
    }


def test_a_head_of_service_sees_their_own_area_and_never_another_whatever_the_link_asks(client, world, items):
    login(client, "hos")
    area, other_area = world.team.service_area_id, world.other_team.service_area_id
    for url in (URL, f"{URL}?service_area={other_area}", f"{URL}?team={world.other_team.id}"):
        response = client.get(url)
        assert response.status_code == 200
        page = text(response)
        assert "Safeguarding" in page and "Safeguarding Team 1" in page
        assert "Children in Care" not in page and "Bea Bystander" not in page
        assert figure(response, status="outstanding", service_area=str(area)) == "3"
        assert figure(response, status="overdue", service_area=str(area)) == "1"
        assert f"/recommendations/{items['other_overdue'].id}" not in response.text
        assert not any(q.get("service_area") == str(other_area) for _, q in links(response))
        assert 'name="service_area"' not in response.text  # no area to choose
    # A team of another area is refused by name, not silently counted as nothing.
    assert "Choose a team from the list" in text(client.get(f"{URL}?team={world.other_team.id}"))


def test_the_other_head_of_service_sees_only_children_in_care(client, world, items):
    login(client, "otherhos")
    response = client.get(URL)
    page = text(response)
    assert "Children in Care Team 1" in page and "Safeguarding Team 1" not in page
    assert figure(response, status="outstanding", service_area=str(world.other_team.service_area_id)) == "2"
    assert f"/recommendations/{items['other_overdue'].id}" in response.text
    assert f"/recommendations/{items['overdue'].id}" not in response.text


@pytest.mark.parametrize("username", ["owner", "manager", "auditor", "viewer", "bystander"])
def test_anyone_but_a_head_of_service_or_the_qa_lead_is_refused(client, world, items, username):
    login(client, username)
    response = client.get(URL)
    assert response.status_code == 403
    assert "Safeguarding Team 1" not in response.text


def test_a_head_of_service_with_no_service_area_is_refused(client, db, world, items):
    make_user(db, username="nohome", roles=(Role.HEAD_OF_SERVICE,))
    login(client, "nohome")
    response = client.get(URL)
    assert response.status_code == 403
    assert "service area" in text(response)


def test_the_qa_lead_sees_every_area_or_the_one_chosen(client, world, items):
    login(client, "lead")
    response = client.get(URL)
    page = text(response)
    assert "All service areas" in page and "Safeguarding Team 1" in page and "Children in Care Team 1" in page
    assert figure(response, status="outstanding") == "5"
    assert figure(response, status="overdue") == "2"
    assert 'name="service_area"' in response.text

    other_area = world.other_team.service_area_id
    chosen = client.get(f"{URL}?service_area={other_area}")
    assert "Safeguarding Team 1" not in text(chosen)
    assert figure(chosen, status="outstanding", service_area=str(other_area)) == "2"
    assert "Choose a service area from the list" in text(client.get(f"{URL}?service_area=999999"))


def test_every_figure_links_to_its_list_with_the_area_and_filters(client, db, world, items, today):
    theme = Theme(name="Dashboard page theme")
    db.add(theme)
    db.flush()
    login(client, "hos")
    area, team = str(world.team.service_area_id), str(world.team.id)
    response = client.get(f"{URL}?team={team}&priority=normal&theme={theme.id}")
    assert response.status_code == 200
    base = {"service_area": area, "team": team, "priority": "normal", "theme": str(theme.id)}
    # Nothing is tagged with the theme: the filter narrows everything to nothing.
    assert "No outstanding recommendations match these filters" in text(response)
    assert figure(response, status="outstanding", **base) == "0"

    response = client.get(f"{URL}?team={team}&priority=normal")
    base = {"service_area": area, "team": team, "priority": "normal"}
    assert figure(response, status="outstanding", **base) == "3"
    assert figure(response, status="open", **base) == "1"  # the by-team cell
    assert figure(response, bucket="31-60", **base) == "1"
    assert figure(response, bucket="not_due", **base) == "2"
    assert figure(response, status="awaiting_verification", **base) == "1"
    assert figure(response, raised_within="12", **base) == "4"
    assert figure(response, raised_within="12", status="closed", **base) == "1"
    assert figure(response, closed_within="3", **base) == "1"
    assert link_texts(response, "/recommendations.csv", status="outstanding", **base) == [
        "CSV file of the outstanding recommendations"
    ]
    assert link_texts(response, "/recommendations.xlsx", status="outstanding", **base) == [
        "Excel file of the outstanding recommendations"
    ]
    assert link_texts(response, f"/recommendations/{items['overdue'].id}") == [f"Recommendation {items['overdue'].id}"]


def test_the_oldest_overdue_show_owner_and_escalation_and_no_child_id(client, db, world, items):
    login(client, "hos")
    response = client.get(URL)
    page = text(response)
    oldest = page[page.index("Oldest overdue") : page.index("Awaiting verification", page.index("Oldest overdue"))]
    assert f"Recommendation {items['overdue'].id} Wes Worker Safeguarding Team 1 Normal" in oldest
    assert "45 Head of service" in oldest
    assert world.case.child_id not in response.text and world.other_case.child_id not in response.text
    assert "Update the chronology" not in page  # the text may carry case detail: it stays on the item's page


def test_viewing_the_dashboard_records_nothing_in_the_audit_trail(client, db, world, items):
    login(client, "hos")
    before = db.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert client.get(URL).status_code == 200
    assert db.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == before


def test_with_nothing_outstanding_the_page_says_so(client, db, world):
    login(client, "hos")
    page = text(client.get(URL))
    assert "No outstanding recommendations." in page
    assert "No recommendations are awaiting verification." in page
    assert "None raised" in page and "None closed" in page


def test_the_ageing_bars_are_as_long_as_their_share_and_the_counts_say_it(client, world, items):
    login(client, "hos")
    response = client.get(URL)
    table = response.text[response.text.index('id="ageing"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(
        r'<th scope="row"[^>]*>(.*?)</th>.*?>(\d+)<span.*?<svg aria-hidden="true"[^>]*>\s*<rect width="([\d.]+)%"',
        table,
        re.DOTALL,
    )
    assert [(html.unescape(label), count, width) for label, count, width in rows] == [
        ("Not yet due", "2", "100.0"),
        ("0–30 days overdue", "0", "0.0"),
        ("31–60 days overdue", "1", "50.0"),
        ("61–90 days overdue", "0", "0.0"),
        ("More than 90 days overdue", "0", "0.0"),
    ]


def test_a_second_team_in_the_area_gets_its_own_line(client, db, world, items):
    second = make_team(db, name="Safeguarding Team 2", service_area="Safeguarding")
    make_item(db, world, case=make_case(db, team=second, child_id="CHILD0003"), status="completed")
    login(client, "hos")
    response = client.get(URL)
    assert (
        figure(response, status="outstanding", service_area=str(world.team.service_area_id), team=str(second.id)) == "1"
    )
    assert 'value="' + str(second.id) + '"' in response.text  # offered in the team filter
