"""Whole journeys through the service in headless Chromium, checking each page with axe-core on the way."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from app.accounts.roles import Role
from app.audits.permissions import AUDIT_LIST_ROLES
from app.cases.scope import CASE_READER_ROLES
from app.demo.generator import DEMO_PASSWORD, DemoUser, demo_logins
from app.web.nav import RECOMMENDATION_ROLES
from tests.browser.conftest import ACCOUNT_HOLDER, LiveServer, NewContext
from tests.browser.helpers import (
    check_accessibility,
    error_summary,
    expect_error_summary,
    fill_sign_in,
    service_nav,
    sign_in,
    sign_out,
    success_banner,
)

pytestmark = pytest.mark.browser

QA_LEAD_SEES = [
    "Home",
    "Cases",
    "Programme",
    "Audits",
    "Moderation",
    "Escalations",
    "Recommendations",
    "Dashboard",
    "Reports",
    "Agreement",
    "Imports",
    "Workers",
    "Templates",
    "Users",
    "Teams",
    "Audit trail",
    "Jobs",
    "Retention",
    "Your account",
    "Sign out",
]
QA_LEAD = next(u for u in demo_logins() if u.username == "qa.lead")


def _fill_date(page: Page, legend: str, value: tuple[int, int, int] | date) -> None:
    """Type a date into the GOV.UK date input under this legend."""
    day, month, year = (value.day, value.month, value.year) if isinstance(value, date) else value
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day))
    group.get_by_label("Month").fill(str(month))
    group.get_by_label("Year").fill(str(year))


@pytest.mark.parametrize("demo", demo_logins(), ids=lambda d: d.username)
def test_each_demo_login_signs_in_sees_its_navigation_and_signs_out(page: Page, demo: DemoUser) -> None:
    fill_sign_in(page, demo.username, DEMO_PASSWORD)

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_text(f"Welcome, {demo.full_name}")).to_be_visible()
    expect(page.get_by_text(f"Signed in as {demo.full_name}")).to_be_visible()
    if Role.QA_LEAD in demo.roles:
        expected = QA_LEAD_SEES
    else:
        expected = [
            "Home",
            *(["Cases"] if set(CASE_READER_ROLES) & set(demo.roles) else []),
            *(["Audits"] if set(AUDIT_LIST_ROLES) & set(demo.roles) else []),
            *(["Moderation"] if Role.MODERATOR in demo.roles else []),
            *(["Recommendations"] if set(RECOMMENDATION_ROLES) & set(demo.roles) else []),
            *(["Dashboard"] if Role.HEAD_OF_SERVICE in demo.roles else []),
            *(["Reports"] if {Role.HEAD_OF_SERVICE, Role.VIEWER} & set(demo.roles) else []),
            *(["Agreement"] if Role.MODERATOR in demo.roles else []),  # their own figures
            "Your account",
            "Sign out",
        ]
    expect(service_nav(page).get_by_role("link")).to_have_text(expected)
    # The section you are in is marked for screen readers as well as visually.
    home_link = service_nav(page).get_by_role("link", name="Home")
    expect(home_link).to_have_attribute("aria-current", re.compile("page|true"))
    check_accessibility(page)

    sign_out(page)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(service_nav(page)).to_have_count(0)
    check_accessibility(page)


def test_wrong_password_is_refused_with_an_error_summary(page: Page) -> None:
    fill_sign_in(page, "auditor", "not-the-password")

    expect_error_summary(page, "Enter a correct username and password")
    # The summary's link takes keyboard users to the field, which keeps what they typed.
    error_summary(page).get_by_role("link", name="Enter a correct username and password").click()
    expect(page.get_by_label("Username")).to_be_focused()
    expect(page.get_by_label("Username")).to_have_value("auditor")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    check_accessibility(page)

    # Still not signed in.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    check_accessibility(page)


def test_qa_lead_adds_a_team_and_a_user_records_training_then_deactivates_them(
    page: Page, new_context: NewContext, live_server: LiveServer
) -> None:
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)

    # A new team in a new service area.
    service_nav(page).get_by_role("link", name="Teams").click()
    expect(page.get_by_role("heading", name="Teams", exact=True)).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Team name").fill("Disabled Children's Team")
    page.get_by_label("Service area").fill("Children with Disabilities")
    page.get_by_role("button", name="Add team").click()
    expect(success_banner(page)).to_contain_text("Team created.")
    row = page.get_by_role("row").filter(has_text="Disabled Children's Team")
    expect(row).to_contain_text("Children with Disabilities")
    expect(row).to_contain_text("Active")
    check_accessibility(page)

    # Create a user: first with nothing filled in.
    service_nav(page).get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Create a user").click()
    expect(page.get_by_role("heading", name="Create a user")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Create user").click()
    expect_error_summary(page)
    # Every missing field is named, in the order the fields appear on the page.
    expect(error_summary(page).get_by_role("link")).to_have_text(
        [
            "Enter username",
            "Enter full name",
            "Select at least one of the roles",
            "Password must be 10 characters or more",
        ]
    )
    expect(page.locator("#full_name-error")).to_contain_text("Enter full name")
    error_summary(page).get_by_role("link", name="Select at least one of the roles").click()
    expect(page.get_by_role("checkbox", name="QA lead")).to_be_focused()
    check_accessibility(page)

    page.get_by_label("Username").fill("b.nwosu")
    page.get_by_label("Full name").fill("Bola Nwosu")
    page.get_by_label("Email address (optional)").fill("b.nwosu@example.org")
    page.get_by_role("checkbox", name="Auditor").check()
    page.get_by_role("checkbox", name="Practitioner", exact=True).check()
    page.get_by_label("Team", exact=True).select_option(label="Disabled Children's Team (Children with Disabilities)")
    page.get_by_label("Initial password").fill("a-long-initial-password")
    page.get_by_role("button", name="Create user").click()

    expect(success_banner(page)).to_contain_text("User created.")
    expect(page.get_by_role("heading", name="Bola Nwosu")).to_be_visible()
    details = page.locator(".govuk-summary-list").first
    expect(details).to_contain_text("b.nwosu")
    expect(details).to_contain_text("Auditor, Practitioner")
    expect(details).to_contain_text("Disabled Children's Team (Children with Disabilities)")
    expect(page.get_by_text("No training recorded yet.")).to_be_visible()
    check_accessibility(page)

    # Record training: an impossible date is caught and named.
    page.get_by_role("button", name="Record training").click()
    expect(page.get_by_role("heading", name="Record training for Bola Nwosu")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Auditor training").check()
    _fill_date(page, "Date completed", (31, 2, 2026))
    page.get_by_role("button", name="Save training record").click()
    expect_error_summary(page, "Date completed must be a real date")
    completed = page.get_by_role("group", name="Date completed")
    expect(completed).to_contain_text("Date completed must be a real date")
    expect(completed.get_by_label("Day")).to_have_value("31")  # what they typed is kept to correct
    error_summary(page).get_by_role("link", name="Date completed must be a real date").click()
    expect(completed.get_by_label("Day")).to_be_focused()
    expect(page.get_by_label("Auditor training")).to_be_checked()
    check_accessibility(page)

    today = live_server.today()
    _fill_date(page, "Date completed", today - timedelta(days=10))
    _fill_date(page, "Expiry date (optional)", today + timedelta(days=730))
    page.get_by_role("button", name="Save training record").click()

    expect(success_banner(page)).to_contain_text("Training record added.")
    training = page.locator(".govuk-summary-list__row").filter(has_text="Auditor training")
    expect(training.locator(".govuk-tag")).to_have_text("Current")
    record = page.get_by_role("table", name="Training records").get_by_role("row").nth(1)
    expect(record).to_contain_text("Auditor")
    expect(record).to_contain_text("Current")
    check_accessibility(page)

    # Deactivate, with a confirmation step.
    page.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_role("heading", name="Deactivate Bola Nwosu?")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Yes, deactivate this user").click()
    expect(success_banner(page)).to_contain_text("User deactivated")
    expect(page.get_by_role("heading", name="Bola Nwosu")).to_contain_text("Deactivated")
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()
    check_accessibility(page)

    # They are listed as deactivated...
    page.get_by_role("link", name="All users").click()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    expect(page.locator("#results").get_by_role("link", name="Bola Nwosu")).to_have_count(0)
    check_accessibility(page)
    page.get_by_label("Status").select_option("deactivated")
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Bola Nwosu")).to_be_visible()
    expect(page).to_have_url(re.compile(r"status=deactivated"))
    check_accessibility(page)

    # ...and cannot sign in.
    stranger = new_context().new_page()
    fill_sign_in(stranger, "b.nwosu", "a-long-initial-password")
    expect_error_summary(stranger, "Your account has been deactivated. Contact your QA lead.")
    check_accessibility(stranger)


def test_someone_without_the_qa_lead_role_cannot_open_users_and_a_wrong_address_is_explained(page: Page) -> None:
    sign_in(page, "auditor", "Asha Patel")

    response = page.goto("/users")

    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="You do not have access to this page")).to_be_visible()
    expect(page.get_by_text("You need the QA lead role to do this.")).to_be_visible()
    expect(service_nav(page).get_by_role("link")).to_have_text(
        ["Home", "Cases", "Audits", "Recommendations", "Your account", "Sign out"]
    )
    check_accessibility(page)

    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    check_accessibility(page)


def test_qa_lead_maps_a_worker_in_the_register_to_an_account_and_removes_it(page: Page) -> None:
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)
    service_nav(page).get_by_role("link", name="Workers").click()
    expect(page.get_by_role("heading", name="Workers")).to_be_visible()
    expect(page.get_by_text(re.compile(r"with no account yet"))).to_be_visible()
    check_accessibility(page)

    first = page.locator("tbody tr").first
    worker = first.locator("td").first.inner_text().splitlines()[0]
    first.get_by_role("button", name=f"Map {worker}").click()
    expect_error_summary(page, "Choose the worker's account from the list of active practitioners")
    check_accessibility(page)
    row = page.locator("tbody tr").filter(has_text=worker).first
    row.get_by_label(f"Account for {worker}").select_option(label="Priya Shah (practitioner)")
    row.get_by_role("button", name=f"Map {worker}").click()
    expect(success_banner(page)).to_contain_text("Worker mapped")
    check_accessibility(page)

    page.get_by_role("link", name="Mapped", exact=True).click()
    mapped = page.locator("tbody tr").filter(has_text=worker).filter(has_text="Priya Shah")
    expect(mapped).to_have_count(1)
    mapped.get_by_role("button", name=f"Remove the mapping of {worker}").click()
    expect(success_banner(page)).to_contain_text("Mapping removed")
    expect(page.locator("tbody tr").filter(has_text=worker).filter(has_text="Priya Shah")).to_have_count(0)
    check_accessibility(page)


def test_qa_lead_reads_the_audit_trail_and_checks_it_is_intact(page: Page) -> None:
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)

    service_nav(page).get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    sign_ins = page.get_by_role("row").filter(has_text="auth.login").filter(has_text="Signed in")
    expect(sign_ins.filter(has_text="qa.lead").first).to_be_visible()
    check_accessibility(page)

    # The filter updates the results in place (htmx) and keeps the address shareable.
    showing = page.locator("#results").get_by_text(re.compile(r"^Showing \d+ to \d+ of \d+ events$"))
    unfiltered = showing.inner_text()
    page.get_by_label("Action").select_option("auth.login")
    page.get_by_role("button", name="Filter").click()
    expect(showing).not_to_have_text(unfiltered)
    expect(page).to_have_url(re.compile(r"action=auth\.login"))
    actions = page.locator("#results tbody tr td:nth-child(4)")
    assert set(actions.all_inner_texts()) == {"auth.login"}
    check_accessibility(page)

    page.get_by_role("button", name="Check the trail has not been altered").click()
    expect(page.get_by_role("heading", name="The audit trail is intact")).to_be_visible()
    expect(page.locator(".govuk-panel")).to_contain_text("events checked")
    check_accessibility(page)


def test_changing_your_own_password(page: Page) -> None:
    holder = ACCOUNT_HOLDER
    sign_in(page, holder.username, holder.full_name, holder.password)
    service_nav(page).get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    check_accessibility(page)

    new_password = "a-brand-new-passphrase"
    page.get_by_label("Current password").fill("not-my-password")
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("Confirm new password").fill(new_password)
    page.get_by_role("button", name="Change password").click()
    expect_error_summary(page, "Your current password is not correct")
    check_accessibility(page)

    page.get_by_label("Current password").fill(holder.password)
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("Confirm new password").fill(new_password)
    page.get_by_role("button", name="Change password").click()
    expect(success_banner(page)).to_contain_text("Your password has been changed.")
    expect(error_summary(page)).to_have_count(0)
    check_accessibility(page)

    # The new password is the one that works now.
    sign_out(page)
    fill_sign_in(page, holder.username, holder.password)
    expect_error_summary(page, "Enter a correct username and password")
    sign_in(page, holder.username, holder.full_name, new_password)


def test_pages_work_under_the_content_security_policy(new_context: NewContext) -> None:
    """With the app's real CSP (so no axe here: the other journeys check these pages): nothing is blocked,
    and GOV.UK Frontend's scripts (inline with the nonce, and the module) and htmx still run."""
    page = new_context(bypass_csp=False).new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto("/login")
    page.get_by_label("Username").fill(QA_LEAD.username)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Welcome, {QA_LEAD.full_name}")).to_be_visible()
    for path in ("/account", "/users/new", "/audit-trail", "/users"):
        page.goto(path)
        # The inline script carrying the CSP nonce ran...
        expect(page.locator("body")).to_have_class(re.compile(r"\bgovuk-frontend-supported\b"))
    # ...htmx swaps in search results without a page load...
    page.evaluate("() => { window.stillThisPage = true; }")
    page.get_by_label("Search by name, username or email").fill("Asha")
    page.get_by_label("Search by name, username or email").press("Enter")
    expect(page).to_have_url(re.compile(r"q=Asha"))
    expect(page.locator("#results").get_by_role("link")).to_have_text(["Asha Patel"])
    assert page.evaluate("() => window.stillThisPage === true"), "the search reloaded the page instead of using htmx"
    # ...and the GOV.UK Frontend module runs: it reveals the password input's "Show" button.
    page.goto("/account")
    expect(page.get_by_role("button", name=re.compile(r"^Show")).first).to_be_visible()
    assert not blocked, "Blocked by the Content-Security-Policy:\n" + "\n".join(blocked)
