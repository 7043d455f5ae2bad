"""What the browser journeys share: an axe-core accessibility check and signing in and out as a person would."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from app.demo.generator import DEMO_PASSWORD

AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING_IMPACTS = ("critical", "serious")

# Runs every axe rule, but asks only for violations: much faster than a full report.
_RUN_AXE = """
async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html, summary: n.failureSummary || ""})),
  }));
}
"""


# The page as axe sees it, minus what changes on every load (CSRF tokens, CSP nonces) and the
# name of who is signed in (the same markup with different words: the sign-out page, say).
_FINGERPRINT = """
() => {
  const html = document.documentElement.cloneNode(true);
  html.querySelectorAll("[nonce]").forEach((el) => el.removeAttribute("nonce"));
  html.querySelectorAll("input[name=csrf_token]").forEach((el) => el.removeAttribute("value"));
  html.querySelectorAll("meta[name=csrf-token]").forEach((el) => el.removeAttribute("content"));
  html.querySelectorAll(".app-signed-in strong").forEach((el) => { el.textContent = ""; });
  return location.pathname + location.search + " " + html.outerHTML;
}
"""
# Fingerprints of pages already checked this session. The same markup gives the same axe
# result, so a page seen again (the sign-in page, say) is not checked twice.
_checked: set[str] = set()


# What the audit form's save status says once an answer is saved.
SAVED_AT = re.compile(r"^\s*Saved at \d{2}:\d{2}\s*$")


def _describe(violations: list[dict[str, Any]], page: Page) -> str:
    lines = [
        f"axe-core found {len(violations)} serious or critical accessibility problem(s) on {page.url} "
        f"(title {page.title()!r}):"
    ]
    for v in violations:
        lines.append(f"- {v['id']} [{v['impact']}]: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:10]:
            lines.append(f"    at {node['target']}: {node['html'][:160]}")
            for detail in node["summary"].splitlines()[:4]:
                lines.append(f"      {detail.strip()}")
        if len(v["nodes"]) > 10:
            lines.append(f"    ... and {len(v['nodes']) - 10} more elements")
    return "\n".join(lines)


def check_accessibility(page: Page) -> None:
    """Run axe-core on the page as it is now; fail listing every serious or critical violation."""
    page.wait_for_load_state("load")
    fingerprint = hashlib.sha256(page.evaluate(_FINGERPRINT).encode()).hexdigest()
    if fingerprint in _checked:
        return
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    violations = [v for v in page.evaluate(_RUN_AXE) if v["impact"] in BLOCKING_IMPACTS]
    assert not violations, _describe(violations, page)
    _checked.add(fingerprint)


def service_nav(page: Page) -> Locator:
    """The GOV.UK service navigation (labelled "Menu")."""
    return page.get_by_role("navigation", name="Menu")


def error_summary(page: Page) -> Locator:
    """The GOV.UK error summary at the top of a form that was sent back with problems."""
    return page.locator(".govuk-error-summary")


def expect_error_summary(page: Page, *messages: str) -> None:
    """The page shows the error summary, with these messages linked, and the title says "Error:"."""
    summary = error_summary(page)
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary).to_be_focused()  # GOV.UK Frontend moves focus here so screen readers announce it
    for message in messages:
        expect(summary.get_by_role("link", name=message)).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: "))


def success_banner(page: Page) -> Locator:
    return page.locator(".govuk-notification-banner--success")


def fill_sign_in(page: Page, username: str, password: str) -> None:
    """Open the sign-in page, check it, and send these credentials."""
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, username: str, full_name: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in and land on the home page, welcomed by name; both pages are checked."""
    fill_sign_in(page, username, password)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_text(f"Welcome, {full_name}")).to_be_visible()
    check_accessibility(page)


def sign_out(page: Page) -> None:
    """Sign out through the navigation and the confirmation button, checking both pages."""
    service_nav(page).get_by_role("link", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/logout$"))
    expect(page.get_by_role("heading", name="Sign out")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login\?signed_out=1$"))
    expect(success_banner(page)).to_contain_text("You have signed out")
    check_accessibility(page)
