"""Completing audits in the browser: a dip sample, and the full case file audit with its conditional questions."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.demo.generator import demo_logins
from tests.browser.helpers import SAVED_AT, check_accessibility, expect_error_summary, service_nav, sign_in

pytestmark = pytest.mark.browser

QA_LEAD = next(u for u in demo_logins() if u.username == "qa.lead")

# Which question still needs an answer, by the wrapper each question has on a section page.
_UNANSWERED = """
(els) => els.filter((el) => {
  const radios = [...el.querySelectorAll("input[type=radio]")];
  if (radios.length) return !radios.some((r) => r.checked);
  const boxes = [...el.querySelectorAll("input[type=checkbox]")];
  if (boxes.length) return !boxes.some((b) => b.checked);
  return [...el.querySelectorAll("textarea, input[type=text]")].some((t) => !t.value);
}).map((el) => el.id.replace(/^question-/, ""))
"""


def _autosaved(response) -> bool:
    return response.url.endswith("/autosave") and response.request.method == "POST"


SAFEGUARDING_QUESTION = "immediate_safeguarding_concern"


def answer_visible_questions(page: Page, *, skip: tuple[str, ...] = ()) -> int:
    """Answer every question the section page shows (the first choice, or some text), waiting for each save.

    Questions an answer brings up are answered too; `skip` leaves questions (by key) unanswered.
    """
    answered = 0
    while True:
        pending = [
            key for key in page.locator(".app-question:not([hidden])").evaluate_all(_UNANSWERED) if key not in skip
        ]
        if not pending:
            return answered
        block = page.locator(f"#question-{pending[0]}")
        with page.expect_response(_autosaved) as saved:
            if block.locator("input[type=radio]").count():
                # Yes to the safeguarding question raises an escalation (test_moderation_journey): answer No.
                radios = block.locator("input[type=radio]")
                (radios.nth(1) if pending[0] == SAFEGUARDING_QUESTION else radios.first).check()
            elif block.locator("input[type=checkbox]").count():
                block.locator("input[type=checkbox]").first.check()
            else:
                box = block.locator("textarea, input[type=text]").first
                box.fill("2" if box.get_attribute("inputmode") == "decimal" else "Evidence seen on the file.")
                box.blur()
        assert saved.value.status == 200, saved.value.text()
        expect(page.locator("#save-status")).to_have_text(SAVED_AT)
        answered += 1


def _start_audit(page: Page, template_title: str, row: int) -> str:
    """As the QA lead: open a demo case and start an audit of it; returns the child ID."""
    page.goto("/cases?case_type=cin&sort=child_id&order=desc")
    link = page.locator("#results tbody tr").nth(row).locator("td a").first
    child_id = link.inner_text().strip()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Child {child_id}")
    page.get_by_role("button", name="Start an audit").click()
    expect(page.get_by_role("heading", name="Start an audit")).to_be_visible()
    check_accessibility(page)
    page.get_by_label(template_title, exact=True).check()
    expect(page.get_by_label("Auditor")).to_have_value(re.compile(r"\d+"))
    expect(page.get_by_label("Auditor").locator("option:checked")).to_have_text(f"{QA_LEAD.full_name} (you)")
    page.get_by_role("button", name="Start audit").click()
    expect(page).to_have_url(re.compile(r"/audits/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Audit of child {child_id}")
    check_accessibility(page)
    return child_id


def test_qa_lead_completes_a_dip_sample(page: Page) -> None:
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)
    child_id = _start_audit(page, "Dip sample compliance checklist", row=0)
    expect(page.get_by_text("0 of 8 answered")).to_be_visible()

    page.get_by_role("link", name="Compliance checklist").click()
    expect(page.get_by_role("heading", name="Compliance checklist")).to_be_visible()
    expect(page.get_by_role("complementary", name="The case")).to_contain_text(child_id)
    check_accessibility(page)
    # "Missing in the last 12 months" is answered Yes, which brings up the return interview questions: offered, and
    # (version 2) completed within 72 hours.
    missing_question = page.get_by_role("group", name="Was a return home interview offered within 72 hours")
    completed_question = page.get_by_role(
        "group", name="Was each return home interview completed (held with the child)"
    )
    expect(missing_question).to_have_count(0)
    expect(completed_question).to_have_count(0)
    assert answer_visible_questions(page) == 10
    expect(missing_question).to_be_visible()
    expect(completed_question).to_be_visible()
    check_accessibility(page)

    # Leaving and coming back loses nothing: every answer was saved as it was given.
    page.reload()
    chronology = page.get_by_role("group", name="Is the chronology up to date (updated within the last 3 months)?")
    expect(chronology.get_by_label("Yes", exact=True)).to_be_checked()
    expect(missing_question.get_by_label("Yes", exact=True)).to_be_checked()
    page.get_by_role("link", name="Back to all sections").first.click()
    expect(page.get_by_text("10 of 10 answered")).to_be_visible()
    page.get_by_role("link", name="Compliance checklist").click()

    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", name="Safeguarding")).to_be_visible()
    check_accessibility(page)
    answer_visible_questions(page)  # no concern (a Yes raises an escalation: test_moderation_journey)
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Check your answers before submitting the audit")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"Overall .*100%"))).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Submit audit").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Audit submitted")
    check_accessibility(page)

    # Now read-only, and (not picked for moderation: an ad-hoc dip sample) completed.
    page.get_by_role("link", name="Compliance checklist").click()
    expect(page.get_by_text("its answers can no longer be changed")).to_be_visible()
    expect(chronology.get_by_label("Yes", exact=True)).to_be_disabled()
    expect(page.get_by_role("button", name="Save and continue")).to_have_count(0)
    service_nav(page).get_by_role("link", name="Audits").click()
    expect(page.get_by_role("row", name=re.compile(f"{child_id}.*Completed"))).to_be_visible()
    check_accessibility(page)


def test_qa_lead_completes_a_full_case_file_audit(page: Page) -> None:
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)
    _start_audit(page, "Case file audit", row=1)
    page.get_by_role("link", name="A. Case information").click()
    check_accessibility(page)

    # A conditional question comes and goes with the answer it depends on.
    details = page.get_by_role("group", name="Are the child's details on the file accurate and complete?")
    explanation = page.get_by_label("Explain why the answer is No")
    with page.expect_response(_autosaved):
        details.get_by_label("No", exact=True).check()
    expect(explanation).to_be_visible()
    expect(page.locator("#save-status")).to_have_text(SAVED_AT)
    check_accessibility(page)
    with page.expect_response(_autosaved):
        details.get_by_label("Yes", exact=True).check()
    expect(explanation).to_have_count(0)

    # Every section in turn; "Why have you given this grade?" is left unanswered on purpose.
    sections = 0
    while not page.get_by_role("heading", name="Check your answers before submitting the audit").is_visible():
        expect(page.locator("h1")).to_have_text(re.compile(r"^[A-L]\. "))
        check_accessibility(page)
        answer_visible_questions(page, skip=("overall_rationale",))
        page.get_by_role("button", name="Save and continue").click()
        page.wait_for_load_state("load")
        sections += 1
        assert sections <= 12
    assert sections == 11  # J (children in care) is not shown for an early help case
    check_accessibility(page)

    page.get_by_role("button", name="Submit audit").click()
    message = 'Enter an answer for "Why have you given this grade?"'
    expect_error_summary(page, message)
    check_accessibility(page)
    page.locator(".govuk-error-summary").get_by_role("link", name=message).click()
    expect(page).to_have_url(re.compile(r"/sections/overall_judgement\?check=errors#overall_rationale$"))
    expect(page.get_by_role("heading", name="L. Overall judgement")).to_be_visible()
    rationale = page.get_by_label("Why have you given this grade?")
    expect(rationale).to_be_visible()
    check_accessibility(page)
    rationale.fill("Strong, child-focused practice throughout.")
    page.get_by_role("button", name="Save and return to check your answers").click()
    expect(page.get_by_role("heading", name="Check your answers before submitting the audit")).to_be_visible()
    expect(page.locator(".govuk-summary-list__row", has_text="Why have you given this grade?")).to_contain_text(
        "Strong, child-focused practice"
    )
    page.get_by_role("button", name="Submit audit").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Audit submitted")
    check_accessibility(page)


def test_qa_lead_previews_a_template(page: Page) -> None:
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)
    service_nav(page).get_by_role("link", name="Templates").click()
    expect(page.get_by_role("heading", name="Audit templates")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name=re.compile(r"^Case file audit\s+version 1$")).click()
    expect(page.get_by_text("Shown when 'Which plan is the child on?' is Child protection plan").first).to_be_visible()
    expect(
        page.get_by_role(
            "group", name="Was the latest child and family assessment completed within 45 working days of referral?"
        ).get_by_label("Yes", exact=True)
    ).to_be_disabled()
    check_accessibility(page)


def test_two_tabs_never_overwrite_each_others_answers(page: Page) -> None:
    """Tab B answers Yes; tab A, opened before, answers the same question No: refused, showing both answers. A's next
    answer to another question saves without taking B's answer away; A then chooses between the two answers."""
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)
    _start_audit(page, "Dip sample compliance checklist", row=2)
    page.get_by_role("link", name="Compliance checklist").click()
    tab_a, tab_b = page, page.context.new_page()
    tab_b.goto(tab_a.url)

    chronology = "Is the chronology up to date (updated within the last 3 months)?"
    with tab_b.expect_response(_autosaved):
        tab_b.get_by_role("group", name=chronology).get_by_label("Yes", exact=True).check()
    expect(tab_b.locator("#save-status")).to_have_text(SAVED_AT)

    with tab_a.expect_response(_autosaved) as refused:
        tab_a.get_by_role("group", name=chronology).get_by_label("No", exact=True).check()
    assert refused.value.status == 409
    differences = tab_a.locator("#answer-conflicts")
    expect(differences).to_contain_text("Not saved")
    expect(differences.locator(".app-conflict")).to_contain_text(re.compile(r"Your answer\s*No"))
    expect(differences.locator(".app-conflict")).to_contain_text(re.compile(r"Saved answer\s*Yes"))
    expect(tab_a.get_by_role("group", name=chronology).get_by_label("No", exact=True)).to_be_checked()  # kept here
    check_accessibility(tab_a)

    # Another question from the same tab saves, and B's Yes stays on the server (the bug this replaces lost it).
    oversight = tab_a.get_by_role("group", name="Is management oversight recorded in the last month?")
    with tab_a.expect_response(_autosaved) as saved:
        oversight.get_by_label("No", exact=True).check()
    assert saved.value.status == 200, saved.value.text()
    expect(tab_a.locator("#save-status")).to_have_text(SAVED_AT)
    tab_b.reload()
    expect(tab_b.get_by_role("group", name=chronology).get_by_label("Yes", exact=True)).to_be_checked()
    expect(
        tab_b.get_by_role("group", name="Is management oversight recorded in the last month?").get_by_label(
            "No", exact=True
        )
    ).to_be_checked()

    # A keeps its own answer: saved now, judged against the Yes it was shown.
    with tab_a.expect_response(_autosaved) as kept:
        differences.get_by_role("button", name=re.compile("^Keep my answer")).click()
    assert kept.value.status == 200, kept.value.text()
    expect(differences.locator(".app-conflict")).to_have_count(0)
    tab_b.reload()
    expect(tab_b.get_by_role("group", name=chronology).get_by_label("No", exact=True)).to_be_checked()

    # B, now the stale one, answers chronology Not applicable: refused; it takes the saved No instead.
    tab_b.close()
    tab_b = page.context.new_page()
    tab_b.goto(tab_a.url)
    with tab_a.expect_response(_autosaved):
        tab_a.get_by_role("group", name=chronology).get_by_label("Yes", exact=True).check()
    with tab_b.expect_response(_autosaved) as refused:
        tab_b.get_by_role("group", name=chronology).get_by_label("Not applicable", exact=True).check()
    assert refused.value.status == 409
    tab_b.locator("#answer-conflicts").get_by_role("button", name=re.compile("^Use the saved answer")).click()
    expect(tab_b.get_by_role("group", name=chronology).get_by_label("Yes", exact=True)).to_be_checked()
    expect(tab_b.locator("#answer-conflicts .app-conflict")).to_have_count(0)
    check_accessibility(tab_b)
    tab_b.reload()
    expect(tab_b.get_by_role("group", name=chronology).get_by_label("Yes", exact=True)).to_be_checked()


def test_a_safeguarding_concern_started_is_kept_and_says_nobody_has_been_told(page: Page) -> None:
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)
    _start_audit(page, "Dip sample compliance checklist", row=3)
    page.get_by_role("link", name="Safeguarding").click()
    # The autosave script is a module, run once the page has loaded: an answer given before that is not sent.
    page.wait_for_load_state("load")
    concern = page.get_by_role("group", name=re.compile("immediate safeguarding concern", re.I))
    with page.expect_response(_autosaved) as saved:
        concern.get_by_label("Yes", exact=True).check()
    assert saved.value.status == 200, saved.value.text()
    draft = page.locator("#concern-draft")
    expect(draft).to_contain_text("Concern started, not yet sent: nobody has been told yet.")
    check_accessibility(page)
    # Something typed in another box is saved as it is typed.
    comments = page.locator(".app-question textarea").last
    with page.expect_response(_autosaved):
        comments.fill("Stopped to phone the team manager.")
    page.reload()
    expect(concern.get_by_label("Yes", exact=True)).to_be_checked()
    expect(page.locator(".app-question textarea").last).to_have_value("Stopped to phone the team manager.")
    expect(page.locator("#concern-draft")).to_contain_text("nobody has been told yet")
    # Describing it sends it.
    description = page.locator("#question-immediate_safeguarding_concern__explanation textarea")
    with page.expect_response(_autosaved) as sent:
        description.fill("Bruising seen on the file photo; told the team manager by phone.")
        description.blur()
    assert sent.value.status == 200
    recipient = page.get_by_label("Who must be told")
    if recipient.locator("option:checked").inner_text() == "Choose a person":
        # This case's team manager is not a user: still not sent, until someone is chosen.
        expect(page.locator("#concern-draft")).to_contain_text("To send it, choose who must be told")
        with page.expect_response(_autosaved) as chosen:
            recipient.select_option(index=1)
        assert chosen.value.status == 200, chosen.value.text()
    expect(page.locator("#escalation-part")).to_contain_text("Escalated to")
    expect(page.locator("#concern-draft")).to_have_count(0)
    check_accessibility(page)


def test_leaving_with_unsaved_typing_asks_first_and_typed_text_survives_a_reload(page: Page) -> None:
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)
    _start_audit(page, "Dip sample compliance checklist", row=4)
    page.get_by_role("link", name="Safeguarding").click()
    comments = page.locator(".app-question textarea").last
    comments.click()
    page.keyboard.type("Half a thought")
    dialogs: list[str] = []

    def stay(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.once("dialog", stay)
    page.get_by_role("link", name="Back to all sections").first.click()
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]
    expect(page.get_by_role("heading", name="Safeguarding")).to_be_visible()  # stayed, nothing lost
    # A second of quiet saves it; then leaving asks nothing and the text is there on return.
    expect(page.locator("#save-status")).to_have_text(SAVED_AT, timeout=5000)
    page.reload()
    expect(page.locator(".app-question textarea").last).to_have_value("Half a thought")
