"""A visitor who has not signed in reads the privacy notice and the accessibility statement from the footer; axe on
each page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import check_accessibility

pytestmark = pytest.mark.browser


def test_the_notices_are_a_click_away_from_the_sign_in_page(page: Page) -> None:
    page.goto("/login")
    footer = page.locator("footer")
    footer.get_by_role("link", name="Privacy").click()
    expect(page.get_by_role("heading", name="Privacy notice", level=1)).to_be_visible()
    check_accessibility(page)
    page.locator("footer").get_by_role("link", name="Accessibility statement").click()
    expect(page.get_by_role("heading", name="Accessibility statement", level=1)).to_be_visible()
    expect(page.get_by_text("partially compliant")).to_be_visible()
    check_accessibility(page)
