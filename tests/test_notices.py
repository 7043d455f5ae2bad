"""The privacy notice and the accessibility statement: open to everyone, linked from every page's footer, the shipped
templates unless the council's own text is in NOTICES_DIR."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import make_test_settings
from tests.factories import page_text


def test_anyone_can_read_the_notices_from_the_footer_of_any_page(client) -> None:
    login_page = client.get("/login").text
    assert 'href="/privacy">Privacy</a>' in login_page
    assert 'href="/accessibility">Accessibility statement</a>' in login_page
    privacy = client.get("/privacy")
    assert privacy.status_code == 200
    text = page_text(privacy.text)
    for part in (
        "Privacy notice",
        "Who is responsible for your information",
        "lawful basis",
        "Your rights",
        "Information Commissioner",
        "[council name]",
    ):
        assert part in text
    statement = page_text(client.get("/accessibility").text)
    for part in (
        "Accessibility statement",
        "partially compliant",
        "Version 2.2 AA standard",
        "axe-core",
        "1.4.10 (Reflow)",
        "Enforcement procedure",
        "Preparation of this accessibility statement",
    ):
        assert part.lower() in statement.lower()


def test_the_councils_own_text_replaces_the_template(database_url, tmp_path) -> None:
    (tmp_path / "privacy.html").write_text('<p class="govuk-body">Northshire Council is the data controller.</p>')
    app = create_app(make_test_settings(database_url, notices_dir=tmp_path))
    with TestClient(app) as client:
        own = page_text(client.get("/privacy").text)
        assert "Northshire Council is the data controller." in own
        assert "[council name]" not in own and "template shipped" not in own
        shipped = page_text(client.get("/accessibility").text)  # no file of its own: the template
        assert "template shipped" in shipped and "partially compliant" in shipped
