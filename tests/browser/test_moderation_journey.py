"""Issue 6 in the browser: an audit with a safeguarding concern, from the auditor to a trusted final grade.

The auditor submits a dip sample with a safeguarding concern; the person she names acknowledges it; the
moderator answers the checklist blind (a dip sample has no grades), disagrees on one answer and returns it; the
auditor changes it and resubmits; the same moderator accepts it, and no grade is created; the case's worker reads
the findings and replies; the QA lead prints the record.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, Response, expect
from sqlalchemy import Engine
from sqlmodel import Session

from app.accounts import selectors as account_selectors
from app.db import make_engine
from app.demo.generator import DemoUser, demo_logins
from app.moderation.models import Moderation
from app.moderation.selectors import latest_round
from tests.browser.conftest import LiveServer, NewContext
from tests.browser.helpers import (
    SAVED_AT,
    check_accessibility,
    expect_error_summary,
    service_nav,
    sign_in,
    success_banner,
)
from tests.browser.setup_data import Setup, start_dip_sample
from tests.test_mail import SmtpServer

pytestmark = pytest.mark.browser

LOGINS = {u.username: u for u in demo_logins()}
QA_LEAD, AUDITOR, HEAD_OF_SERVICE, PRACTITIONER = (LOGINS[n] for n in ("qa.lead", "auditor", "hos", "practitioner"))
TEAM_MANAGER = LOGINS["s.ahmed"]  # the manager of the practitioner's team: told of a concern by identity
MODERATORS = ("moderator", "qa.lead")  # both have current moderator training in the demo department

TEMPLATE_TITLE = "Dip sample compliance checklist"
CONCERN = "Is there an immediate safeguarding concern for this child?"
DESCRIPTION = "Describe the concern, who you told and when"
COMPLIANCE = (
    "Is the chronology up to date (updated within the last 3 months)?",
    "Was the latest child and family assessment completed within 45 working days of referral?",
    "Is management oversight recorded in the last month?",
    "Is supervision about this child recorded within the last 6 weeks?",
    "Are the child's wishes and feelings recorded since the last review?",
    "Was the child's plan last reviewed within timescale?",
    "Was the child seen alone at the last statutory visit?",
    "Has the child been missing from home or care in the last 12 months?",
    "Was a return home interview offered within 72 hours of each return?",  # shown by the Yes just before
    "Was each return home interview completed (held with the child) within 72 hours of their return?",  # and this
)
SUPERVISION = COMPLIANCE[3]


def _engine(live_server: LiveServer) -> Engine:
    """The live server's own database (what is committed there is what the app sees)."""
    return make_engine(live_server.settings.database_url)


def _current_round(live_server: LiveServer, audit_id: int) -> tuple[int, DemoUser]:
    """The audit's newest moderation round: its number and its moderator (who must be a demo login)."""
    engine = _engine(live_server)
    try:
        with Session(engine) as session:
            moderation: Moderation | None = latest_round(session, audit_id=audit_id)
            assert moderation is not None, f"audit {audit_id} was not selected for moderation"
            assert moderation.moderator_id is not None, f"no moderator was allocated to audit {audit_id}"
            moderator = account_selectors.user_get(session, user_id=moderation.moderator_id)
            assert moderator is not None
            assert moderator.username in MODERATORS, f"unexpected moderator {moderator.username}"
            return moderation.round, LOGINS[moderator.username]
    finally:
        engine.dispose()


def _summary_value(page: Page, key: str):
    """The value of the summary-list row whose key is exactly `key`."""
    row = page.locator(".govuk-summary-list__row").filter(
        has=page.locator(".govuk-summary-list__key", has_text=re.compile(rf"^\s*{re.escape(key)}\s*$"))
    )
    return row.locator(".govuk-summary-list__value")


def _autosaved(response: Response) -> bool:
    return response.url.endswith("/autosave") and response.request.method == "POST"


def _answer(page: Page, question: str, choice: str, *, status: int = 200) -> None:
    """Choose an answer and wait for it to be saved as it is given (or refused, with `status`)."""
    page.wait_for_load_state("load")  # the autosave script runs once the page has loaded
    with page.expect_response(_autosaved) as saved:
        page.get_by_role("group", name=question).get_by_label(choice, exact=True).check()
    assert saved.value.status == status, saved.value.text()
    if status == 200:
        expect(page.locator("#save-status")).to_have_text(SAVED_AT)


def _open_my_audit(page: Page, setup: Setup, status: str) -> None:
    """From "My audits", open the audit (listed with `status`)."""
    service_nav(page).get_by_role("link", name="Audits").click()
    expect(page.get_by_role("heading", name="My audits")).to_be_visible()
    row = page.locator("#results tbody tr").filter(has_text=setup.child_id)
    expect(row).to_contain_text(status)
    check_accessibility(page)
    row.get_by_role("link", name=re.compile(rf"^{setup.child_id}\b")).click()
    expect(page).to_have_url(re.compile(rf"/audits/{setup.audit_id}$"))
    expect(page.get_by_role("heading", name=f"Audit of child {setup.child_id}", exact=True)).to_be_visible()
    check_accessibility(page)


def _submit(page: Page, setup: Setup) -> None:
    """From the last section: check the answers and submit."""
    expect(page.get_by_role("heading", name="Check your answers before submitting the audit")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Submit audit").click()
    expect(page).to_have_url(re.compile(rf"/audits/{setup.audit_id}$"))
    expect(page.locator(".govuk-panel")).to_contain_text("Audit submitted")


def _open_moderation(page: Page, setup: Setup, moderator: DemoUser, round_number: int) -> None:
    """The moderator's queue lists the round; open its grading page."""
    service_nav(page).get_by_role("link", name="Moderation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Moderation" if moderator.username == QA_LEAD.username else "Audits to moderate"
    )
    link = page.get_by_role(
        "link", name=f"{setup.child_id} ({TEMPLATE_TITLE}, audit {setup.audit_id}, round {round_number})", exact=True
    )
    row = page.locator("#results tbody tr").filter(has=link)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(AUDITOR.full_name)
    expect(row).to_contain_text("Waiting for grades")
    check_accessibility(page)
    link.click()
    expect(page).to_have_url(re.compile(rf"/audits/{setup.audit_id}/moderation$"))


def _answer_blind(page: Page, *, supervision: str) -> None:
    """Blind answering: the auditor's checklist answers are nowhere on the page until the moderator has saved theirs
    (whoever moderates, the QA lead included). The moderator answers Yes throughout, and `supervision` to it."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Answer the checklist")
    expect(page.get_by_text("The auditor's answers are hidden until you have saved yours")).to_be_visible()
    expect(page.get_by_role("table", name="Your answers and the auditor's")).to_have_count(0)
    expect(page.locator(".app-moderation-comparison")).to_have_count(0)  # not even an earlier round's
    expect(page.get_by_text("Auditor's answer", exact=True)).to_have_count(0)
    expect(page.get_by_role("heading", name="The auditor's answers, without their checklist answers")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Audit \d+$"))).to_have_count(0)  # no way round it
    expect(page.get_by_role("group", name="Your overall grade for the audit")).to_have_count(0)  # no grade to give
    check_accessibility(page)
    questions = page.locator("form[action$='/moderation/grade'] fieldset")
    for i in range(questions.count()):
        question = questions.nth(i)
        legend = question.locator("legend").inner_text().strip()
        question.get_by_label(supervision if legend == SUPERVISION else "Yes", exact=True).check()
    page.get_by_role("button", name="Save your answers and compare").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare your answers with the auditor's")
    comparison = page.get_by_role("table", name="Your answers and the auditor's")
    expect(comparison.get_by_role("row", name=re.compile("^" + re.escape(COMPLIANCE[0])))).to_contain_text("Same")
    check_accessibility(page)


def test_moderated_audit_with_a_safeguarding_concern_from_submission_to_the_workers_reply(
    new_context: NewContext, live_server: LiveServer, mail_server: SmtpServer
) -> None:
    setup = start_dip_sample(
        live_server, worker_name=PRACTITIONER.full_name, auditor_username=AUDITOR.username, last=True
    )

    # 1. Asha answers the checklist and raises a safeguarding concern.
    asha = new_context().new_page()
    sign_in(asha, AUDITOR.username, AUDITOR.full_name)
    _open_my_audit(asha, setup, "Not started")
    asha.get_by_role("link", name="Compliance checklist").click()
    expect(asha.get_by_role("heading", name="Compliance checklist")).to_be_visible()
    check_accessibility(asha)
    for question in COMPLIANCE:
        _answer(asha, question, "Yes")
    check_accessibility(asha)
    asha.get_by_role("button", name="Save and continue").click()

    expect(asha.get_by_role("heading", name="Safeguarding")).to_be_visible()
    check_accessibility(asha)
    _answer(asha, CONCERN, "Yes")  # kept as a draft: nobody is told until the concern is described
    expect(asha.locator("#concern-draft")).to_contain_text("Concern started, not yet sent: nobody has been told yet.")
    asha.get_by_role("button", name="Save and continue").click()
    expect(asha).to_have_url(re.compile(r"/sections/safeguarding#escalation-part$"))  # back to the concern
    expect(asha.locator("#concern-draft")).to_contain_text("To send it, describe the concern")
    check_accessibility(asha)
    # The case's team has a manager with an account: they are told, by identity (no one to choose).
    with asha.expect_response(_autosaved) as saved:
        asha.get_by_label(DESCRIPTION).fill(
            f"Bruising seen on the latest visit record; told {TEAM_MANAGER.full_name} by phone today."
        )
        asha.get_by_label(DESCRIPTION).blur()
    assert saved.value.status == 200, saved.value.text()
    question_block = asha.locator("#question-immediate_safeguarding_concern__explanation")
    expect(question_block).to_contain_text(f"Escalated to {TEAM_MANAGER.full_name}")
    expect(question_block).to_contain_text("They have not acknowledged it yet")
    check_accessibility(asha)
    asha.get_by_role("button", name="Save and continue").click()
    _submit(asha, setup)
    round_number, moderator = _current_round(live_server, setup.audit_id)
    assert round_number == 1
    expect(asha.locator("#moderation-panel")).to_contain_text(f"This audit is being moderated by {moderator.full_name}")
    expect(_summary_value(asha, "Status")).to_contain_text("In moderation")
    check_accessibility(asha)

    # 2. The team manager's email arrives (from the job queue's outbox run): the child's ID and a link, nothing
    # of the concern itself. She sees the escalation on her home page and acknowledges it, saying what was done.
    told_address = f"{TEAM_MANAGER.username}@example.org"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(told_address in r.recipients for r in mail_server.received):
        time.sleep(0.5)
    [alert] = [r for r in mail_server.received if told_address in r.recipients]
    assert setup.child_id in alert.body and "/escalations/" in alert.body
    assert "Bruising" not in alert.body and PRACTITIONER.full_name not in alert.body
    told = new_context().new_page()
    sign_in(told, TEAM_MANAGER.username, TEAM_MANAGER.full_name)
    banner = told.locator(".govuk-notification-banner").filter(has_text="waiting to be acknowledged")
    escalation_link = banner.get_by_role(
        "link",
        name=re.compile(rf"^Child {setup.child_id}: raised by {AUDITOR.full_name} .*, for {TEAM_MANAGER.full_name}$"),
    )
    expect(escalation_link).to_be_visible()
    escalation_link.click()
    expect(told.get_by_role("heading", level=1)).to_have_text(
        f"Immediate safeguarding concern for child {setup.child_id}"
    )
    expect(told.locator(".govuk-inset-text")).to_contain_text("Bruising seen on the latest visit record")
    check_accessibility(told)
    told.get_by_role("button", name="Acknowledge").click()
    expect_error_summary(told, "Select what was done about the concern")
    check_accessibility(told)
    told.get_by_label("Strategy discussion held").check()
    told.get_by_label("Note").fill("Spoke to the social worker; a strategy discussion is booked.")
    told.get_by_role("button", name="Acknowledge").click()
    expect(success_banner(told)).to_contain_text("Escalation acknowledged.")
    expect(_summary_value(told, "Status")).to_contain_text("Acknowledged")
    check_accessibility(told)
    told.get_by_role("link", name="Back to the home page").click()
    expect(told.get_by_text(f"Welcome, {TEAM_MANAGER.full_name}")).to_be_visible()
    expect(told.get_by_role("link", name=re.compile(rf"^Child {setup.child_id}: raised by"))).to_have_count(0)
    check_accessibility(told)

    # 3. The moderator answers the checklist blind, disagrees on supervision and returns the audit.
    mod = new_context().new_page()
    sign_in(mod, moderator.username, moderator.full_name)
    _open_moderation(mod, setup, moderator, 1)
    _answer_blind(mod, supervision="No")
    comparison = mod.get_by_role("table", name="Your answers and the auditor's")
    expect(comparison.get_by_role("row", name=re.compile("^" + re.escape(SUPERVISION)))).to_contain_text("Different")
    agree = mod.get_by_role("group", name=f"Do you agree with the auditor's answer to '{SUPERVISION}'?")
    expect(agree.get_by_label("Disagree", exact=True)).to_be_checked()  # suggested: the answers differ
    mod.get_by_label("Return it to the auditor").check()
    mod.get_by_role("button", name="Record the moderation").click()
    expect_error_summary(
        mod,
        f"Explain why you disagree with the auditor (you disagreed on '{SUPERVISION}')",
        "Give feedback for the auditor: what to change before they resubmit",
    )
    check_accessibility(mod)
    expect(agree.get_by_label("Disagree", exact=True)).to_be_checked()  # what was chosen is kept
    mod.get_by_label("Rationale").fill("Supervision is not on the file for the last 6 weeks.")
    mod.get_by_label("Learning for the auditor (optional)").fill("Check the supervision log, not only case notes.")
    expect(mod.get_by_label("Return it to the auditor")).to_be_checked()
    mod.get_by_label("Feedback for the auditor").fill("Recheck the supervision answer against the log.")
    mod.get_by_role("button", name="Record the moderation").click()
    expect(mod.get_by_role("heading", level=1)).to_have_text("Moderation")
    expect(_summary_value(mod, "Decision").first).to_contain_text("Returned to the auditor")
    check_accessibility(mod)

    # 4. Asha reads the feedback, changes an answer and resubmits: back to the same moderator.
    asha = new_context().new_page()
    sign_in(asha, AUDITOR.username, AUDITOR.full_name)
    _open_my_audit(asha, setup, "Returned")
    panel = asha.locator("#moderation-panel")
    expect(panel).to_contain_text("The moderator returned this audit: change it and submit it again.")
    expect(panel).to_contain_text("Recheck the supervision answer against the log.")
    expect(panel).to_contain_text("Check the supervision log, not only case notes.")
    asha.get_by_role("link", name="Compliance checklist").click()
    expect(asha.get_by_role("heading", name="Compliance checklist")).to_be_visible()
    _answer(asha, SUPERVISION, "No")
    check_accessibility(asha)
    asha.get_by_role("button", name="Save and continue").click()
    expect(asha.get_by_role("heading", name="Safeguarding")).to_be_visible()
    expect(asha.locator("#question-immediate_safeguarding_concern__explanation")).to_contain_text(
        f"acknowledged by {TEAM_MANAGER.full_name}"
    )
    check_accessibility(asha)
    asha.get_by_role("button", name="Save and continue").click()
    _submit(asha, setup)
    assert _current_round(live_server, setup.audit_id) == (2, moderator)
    expect(asha.locator("#moderation-panel")).to_contain_text(f"This audit is being moderated by {moderator.full_name}")
    check_accessibility(asha)

    # 5. The moderator answers round 2 blind and accepts: the audit is completed, with no grade invented.
    mod = new_context().new_page()
    sign_in(mod, moderator.username, moderator.full_name)
    _open_moderation(mod, setup, moderator, 2)
    expect(mod.get_by_role("heading", name="Earlier rounds")).to_be_visible()
    _answer_blind(mod, supervision="No")
    expect(
        mod.get_by_role("group", name=f"Do you agree with the auditor's answer to '{SUPERVISION}'?").get_by_label(
            "Agree", exact=True
        )
    ).to_be_checked()  # the same answer now
    mod.get_by_label("Rationale").fill("The supervision answer now matches the file.")
    mod.get_by_label("Accept the audit").check()
    mod.get_by_role("button", name="Record the moderation").click()
    expect(mod.get_by_role("heading", level=1)).to_have_text("Moderation")
    expect(mod.get_by_text(f"Audit {setup.audit_id} (Completed)")).to_be_visible()
    check_accessibility(mod)
    mod.get_by_role("link", name=f"Audit {setup.audit_id}", exact=True).click()
    expect(_summary_value(mod, "Status")).to_contain_text("Completed")
    expect(mod.locator("#moderation-panel")).to_contain_text(
        "Moderated and accepted (a checklist has no overall grade)."
    )
    check_accessibility(mod)

    # 6. Priya, the case's worker, reads the findings and replies.
    priya = new_context().new_page()
    sign_in(priya, PRACTITIONER.username, PRACTITIONER.full_name)
    priya.get_by_role("link", name=re.compile(rf"^Child {setup.child_id}: audit {setup.audit_id}, completed")).click()
    expect(priya.get_by_role("heading", name="Audit findings")).to_be_visible()
    expect(_summary_value(priya, "Final grade")).to_have_count(0)  # a checklist has no grade
    expect(_summary_value(priya, SUPERVISION)).to_contain_text("No")
    expect(priya.get_by_text("No replies yet.")).to_be_visible()
    check_accessibility(priya)
    priya.get_by_role("button", name="Add reply").click()
    expect_error_summary(priya, "Enter your reply to the findings")
    check_accessibility(priya)
    reply = "Supervision was held on time but recorded late; it is now on the file."
    priya.get_by_label("Add a reply to the findings").fill(reply)
    priya.get_by_role("button", name="Add reply").click()
    expect(success_banner(priya)).to_contain_text("Your reply has been added to the audit.")
    replies = priya.locator(".govuk-inset-text").filter(has_text=reply)
    expect(replies).to_have_count(1)
    expect(replies).to_contain_text(PRACTITIONER.full_name)
    check_accessibility(priya)

    # 7. The QA lead's printable record holds the moderation, the escalation and the reply.
    lead = new_context().new_page()
    sign_in(lead, QA_LEAD.username, QA_LEAD.full_name)
    lead.goto(f"/audits/{setup.audit_id}/print")
    expect(lead.get_by_role("heading", level=1)).to_have_text(f"Audit {setup.audit_id} of child {setup.child_id}")
    expect(lead.get_by_role("heading", name="M. Moderation")).to_be_visible()
    expect(lead.get_by_role("heading", name="Round 1", exact=True)).to_be_visible()
    expect(lead.get_by_role("heading", name="Round 2", exact=True)).to_be_visible()
    print_text = lead.locator(".app-print")
    for text in (
        "Returned to the auditor for rework",
        "Accepted: the auditor's answers stand",
        "Recheck the supervision answer against the log.",
        "Supervision is not on the file for the last 6 weeks.",
        "Bruising seen on the latest visit record",
        reply,
    ):
        expect(print_text).to_contain_text(text)
    check_accessibility(lead)
