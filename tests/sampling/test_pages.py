"""The programme pages over HTTP: cycles, drawing a sample (preview, then confirm), adding a case, allocation."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.roles import Role, TrainingKind
from app.audit_templates.selectors import template_latest
from app.audits.models import Audit
from app.cases.models import Case
from app.sampling import service
from app.sampling.models import Cycle, Sample, SampleCase
from app.sampling.schemas import CycleCreate, SampleSpec
from tests.factories import (
    add_training,
    csrf_token,
    login,
    make_audit,
    make_case,
    make_team,
    make_user,
    post_form,
    publish_templates,
)
from tests.factories import page_text as _page_text


def page_text(markup: str) -> str:
    return html.unescape(_page_text(markup))


def count(db, model) -> int:
    return db.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def world(db, client):
    publish_templates(db)
    today = client.app.state.settings.today()
    lead = make_user(db, username="lead", roles=(Role.QA_LEAD,), full_name="Quinn Lead")
    north, south = make_team(db, name="North Team"), make_team(db, name="South Team")
    ana = make_user(db, username="ana", full_name="Ana Able", roles=(Role.AUDITOR,), team=north)
    ben = make_user(db, username="ben", full_name="Ben Bright", roles=(Role.AUDITOR,), team=south)
    for auditor in (ana, ben):
        add_training(db, auditor, TrainingKind.AUDITOR, today - timedelta(days=30), today + timedelta(days=700))
    cases = [
        make_case(db, child_id=f"PG{i:03d}", team=north if i < 8 else south, case_type="cp" if i % 2 else "cin")
        for i in range(12)
    ]
    make_case(db, child_id="PGCLOSED", team=north, status="closed")
    cycle = service.cycle_create(
        db,
        data=CycleCreate(
            title="December dip", kind="dip_sample", template_key="dip_sample", due_date=today + timedelta(days=30)
        ),
        actor=lead,
        dates=client.app.state.settings.due_date_rules(),
    )
    return {
        "today": today,
        "lead": lead,
        "ana": ana,
        "ben": ben,
        "north": north,
        "south": south,
        "cases": cases,
        "cycle": cycle,
    }


def _sample_form(**overrides: object) -> dict[str, object]:
    form: dict[str, object] = {
        "_sent": "1",
        "method": "stratified",
        "size": "6",
        "strata_by": "team",
        "min_per_stratum": "2",
        "exclude_closed": "yes",
        "exclude_audited": "yes",
        "audited_within_days": "365",
        "exclude_in_open_sample": "yes",
        "action": "preview",
    }
    form.update(overrides)
    return form


def _stored_sample(db, world, size: int = 6):
    return service.sample_create(
        db,
        cycle=world["cycle"],
        spec=SampleSpec(method="random", size=size, seed=7),
        today=world["today"],
        actor=world["lead"],
    )


# --- Programme and cycles --------------------------------------------------------------------------


@pytest.fixture(params=[date(2026, 1, 2), date(2026, 6, 15), date(2026, 12, 6), date(2026, 12, 31)], ids=str)
def programme_day(request, set_clock):
    """The day the QA lead looks: early and late in the year (a cycle due in 30 days may fall in the next one)."""
    set_clock(datetime.combine(request.param, time(12), tzinfo=UTC))
    return request.param


def test_programme_lists_the_years_cycles_with_progress(programme_day, client, db, world):
    assert world["today"] == programme_day
    login(client, "lead")
    sample = _stored_sample(db, world, size=2)
    case_ids = service.sample_case_ids(db, sample=sample)
    late = world["today"] - timedelta(days=1)
    template = template_latest(db, key="dip_sample")
    for case_id in case_ids:
        db.add(
            Audit(
                case_id=case_id,
                cycle_id=world["cycle"].id,
                sample_id=sample.id,
                template_version_id=template.id,
                template_key="dip_sample",
                template_version=template.version,
                auditor_id=world["ana"].id,
                due_date=late,
            )
        )
    db.flush()
    due_year = world["cycle"].due_date.year
    this_year = page_text(client.get("/programme").text)
    assert f"{programme_day.year}" in this_year
    assert ("December dip" in this_year) == (due_year == programme_day.year)
    text = page_text(client.get(f"/programme?year={due_year}").text)
    assert "December dip" in text and "Dip sample" in text and "dip_sample v2" in text
    assert "Sampling" in text  # the status once a sample is drawn
    assert "2 allocated, 0 submitted, 0 completed, 2 overdue" in text
    other_year = world["cycle"].due_date.year - 3
    assert f"No cycles due in {other_year}" in page_text(client.get(f"/programme?year={other_year}").text)
    assert client.get("/programme?year=banana").status_code == 200


def test_creating_a_cycle_names_every_missing_field_and_keeps_what_was_typed(client, db, world):
    login(client, "lead")
    assert "Create an audit cycle" in page_text(client.get("/programme/new").text)
    response = post_form(
        client,
        "/programme/new",
        {
            "title": "Missing children",
            "moderation_rate": "lots",
            "due_date-day": "31",
            "due_date-month": "2",
            "due_date-year": "2027",
        },
    )
    assert response.status_code == 400
    text = page_text(response.text)
    assert "There is a problem" in text
    for message in (
        "Select the kind of cycle",
        "Select the template the audits will use",
        "Due date must be a real date",
        "Moderation rate must be a number from 0 to 100",
    ):
        assert message in text
    assert 'value="Missing children"' in response.text
    assert 'href="#due_date-day"' in response.text
    assert count(db, Cycle) == 1


def test_creating_a_cycle_pins_the_template_version_and_shows_it(client, db, world):
    login(client, "lead")
    response = post_form(
        client,
        "/programme/new",
        {
            "title": "Missing children thematic",
            "kind": "thematic",
            "template_key": "dip_sample",
            "theme": "Return interviews",
            "due_date-day": "30",
            "due_date-month": "6",
            "due_date-year": "2027",
            "moderation_rate": "20",
        },
    )
    assert response.status_code == 303
    cycle = db.execute(select(Cycle).where(Cycle.title == "Missing children thematic")).scalar_one()
    assert (cycle.kind, cycle.template_version, cycle.moderation_rate) == ("thematic", 2, 0.2)
    text = page_text(client.get(response.headers["location"]).text)
    assert "Cycle created" in text and "Return interviews" in text and "30 June 2027" in text
    assert 'href="/templates/dip_sample/2">' in client.get(response.headers["location"]).text
    assert "20% of submitted audits" in text
    assert cycle.blind_moderation is False and "Open: moderators see the auditor's grades" in text  # box left empty


def test_moderation_is_blind_first_unless_the_qa_lead_switches_it_off(client, db, world):
    login(client, "lead")
    form = client.get("/programme/new").text
    assert re.search(r'name="blind_moderation"[^>]*value="yes"[^>]*checked', form)  # ticked by default
    response = post_form(
        client,
        "/programme/new",
        {
            "title": "Blind cycle",
            "kind": "dip_sample",
            "template_key": "dip_sample",
            "blind_moderation": "yes",
            "due_date-day": "30",
            "due_date-month": "6",
            "due_date-year": "2027",
        },
    )
    assert response.status_code == 303
    cycle = db.execute(select(Cycle).where(Cycle.title == "Blind cycle")).scalar_one()
    assert cycle.blind_moderation is True
    assert "Blind first" in page_text(client.get(response.headers["location"]).text)
    copy = service.cycle_copy(db, cycle=cycle, actor=world["lead"], dates=client.app.state.settings.due_date_rules())
    assert copy.blind_moderation is True


def test_due_date_before_the_start_is_refused_on_the_form(client, db, world):
    login(client, "lead")
    response = post_form(
        client,
        "/programme/new",
        {
            "title": "Backwards",
            "kind": "deep_dive",
            "template_key": "dip_sample",
            "start_date-day": "2",
            "start_date-month": "6",
            "start_date-year": "2027",
            "due_date-day": "1",
            "due_date-month": "6",
            "due_date-year": "2027",
        },
    )
    assert response.status_code == 400
    assert "The due date must be on or after the start date" in page_text(response.text)


def test_copy_as_next_month_creates_a_cycle_a_month_on(client, db, world):
    login(client, "lead")
    response = post_form(client, f"/programme/{world['cycle'].id}/copy")
    assert response.status_code == 303
    copy = db.execute(select(Cycle).where(Cycle.title == "December dip (next month)")).scalar_one()
    assert response.headers["location"].startswith(f"/programme/{copy.id}")
    assert copy.due_date > world["cycle"].due_date
    assert "Cycle copied for next month" in page_text(client.get(response.headers["location"]).text)


def test_closing_a_cycle_asks_first_then_frees_its_cases_for_other_samples(client, db, world):
    login(client, "lead")
    cycle = world["cycle"]
    service.sample_create(
        db, cycle=cycle, spec=SampleSpec(method="random", size=5, seed=1), today=date(2026, 11, 26), actor=world["lead"]
    )
    before = service.sample_draw(db, spec=SampleSpec(method="random", size=5, seed=1), today=date(2026, 11, 26))
    assert before.exclusions["in_open_sample"] == 5
    ask = client.get(f"/programme/{cycle.id}/close")
    assert "Are you sure you want to close this cycle?" in page_text(ask.text)
    assert db.get(Cycle, cycle.id).status != "closed"  # asking changes nothing
    response = post_form(client, f"/programme/{cycle.id}/close")
    assert response.status_code == 303
    db.refresh(cycle)
    assert cycle.status == "closed"
    after = service.sample_draw(db, spec=SampleSpec(method="random", size=5, seed=1), today=date(2026, 11, 26))
    assert after.exclusions["in_open_sample"] == 0
    page = page_text(client.get(f"/programme/{cycle.id}").text)
    assert "Close this cycle" not in page and "Draw a sample" not in page
    assert post_form(client, f"/programme/{cycle.id}/close").status_code == 303  # a second click is harmless


def test_unknown_cycle_and_sample_are_404(client, world):
    login(client, "lead")
    assert client.get("/programme/999999").status_code == 404
    assert client.get("/samples/999999").status_code == 404
    assert client.get("/programme/abc").status_code in (400, 404, 422)


# --- Drawing a sample ----------------------------------------------------------------------------------


def test_the_sample_form_shows_precision_and_exclusion_counts(client, world):
    login(client, "lead")
    url = f"/programme/{world['cycle'].id}/samples/new"
    text = page_text(client.get(url).text)
    assert "Enter a sample size" in text and "12 cases to draw from" in text
    assert "1 case would be removed" in text  # the closed case
    partial = client.get(url + "?_sent=1&method=random&size=6&exclude_closed=yes", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text
    assert "n = 6 gives ±" in page_text(partial.text) and "for a frame of 12" in page_text(partial.text)
    # Junk in the query never breaks the page.
    odd = client.get(url + "?_sent=1&size=lots&team_ids=x&case_types=nope&seed=-1", headers={"HX-Request": "true"})
    assert odd.status_code == 200


def test_preview_stores_nothing_and_confirm_stores_the_previewed_cases(client, db, world):
    login(client, "lead")
    url = f"/programme/{world['cycle'].id}/samples/new"
    preview = post_form(client, url, _sample_form())
    assert preview.status_code == 200, page_text(preview.text)[:400]
    assert count(db, Sample) == 0 and count(db, SampleCase) == 0
    text = page_text(preview.text)
    assert "Preview: 6 cases from 12" in text and "North Team" in text and "South Team" in text
    assert "Closed cases: 1 removed" in text
    previewed = sorted(set(re.findall(r"PG\d{3}", text)))
    assert len(previewed) == 6
    seed = re.search(r'name="seed" value="(\d+)"', preview.text).group(1)  # the confirm form's hidden seed
    frame_hash = re.search(r'name="frame_hash" value="([0-9a-f]{64})"', preview.text).group(1)

    confirm = post_form(client, url, _sample_form(seed=seed, frame_hash=frame_hash, action="confirm"))
    assert confirm.status_code == 303
    sample = db.execute(select(Sample)).scalar_one()
    assert confirm.headers["location"].startswith(f"/samples/{sample.id}")
    stored = sorted(
        db.execute(
            select(Case.child_id)
            .join(SampleCase, SampleCase.case_id == Case.id)
            .where(SampleCase.sample_id == sample.id)
        ).scalars()
    )
    assert stored == previewed
    assert (sample.seed, sample.frame_hash, sample.frame_size) == (int(seed), frame_hash, 12)
    markup = client.get(confirm.headers["location"]).text
    assert f'<span class="app-hash">{frame_hash}</span>' in markup  # markup, not escaped text
    page = page_text(markup)
    assert seed in page and frame_hash in page and "Stratified" in page and "Team, at least 2 each" in page


def test_a_changed_frame_after_the_preview_is_shown_not_stored(client, db, world):
    login(client, "lead")
    url = f"/programme/{world['cycle'].id}/samples/new"
    response = post_form(client, url, _sample_form(seed="5", frame_hash="0" * 64, action="confirm"))
    assert response.status_code == 409
    assert "The register changed after your preview" in page_text(response.text)
    assert count(db, Sample) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"size": "3", "min_per_stratum": "2", "method": "stratified"}, "minimum"),
        ({"method": "", "size": ""}, "Select how to draw the sample"),
        ({"size": "lots"}, "Sample size must be a whole number"),
        ({"size": "0"}, "Sample size must be between 1 and 5,000"),
        ({"strata_by": ""}, "Choose what to stratify by"),
        ({"method": "random", "missing_12m_at_least": "2"}, "Choose Thematic"),
        ({"seed": "99999999999"}, "Seed must be"),
        ({"audited_within_days": "0"}, "Days since the last audit must be between 1 and 3,650"),
        (
            {"method": "thematic", "stepped_down_within_months": "0"},
            "Months since the step-down must be between 1 and 120",
        ),
    ],
)
def test_sample_errors_are_shown_and_nothing_typed_is_lost(client, db, world, changes, message):
    login(client, "lead")
    form = _sample_form(**changes, case_types=["cp"])
    response = post_form(client, f"/programme/{world['cycle'].id}/samples/new", form)
    assert response.status_code == 400
    text = page_text(response.text)
    assert "There is a problem" in text and message.lower() in text.lower()
    assert 'value="cp" checked' in response.text
    if changes.get("size"):
        assert f'value="{changes["size"]}"' in response.text
    assert count(db, Sample) == 0


def test_a_thematic_sample_draws_only_from_the_filtered_cases(client, db, world):
    login(client, "lead")
    url = f"/programme/{world['cycle'].id}/samples/new"
    response = post_form(
        client,
        url,
        _sample_form(
            method="thematic",
            strata_by="",
            min_per_stratum="",
            size="50",
            case_types=["cp"],
            team_ids=[str(world["north"].id)],
        ),
    )
    assert response.status_code == 200
    text = page_text(response.text)
    assert "Preview: 4 cases from 4" in text  # PG001, 3, 5, 7: CP in the north team, all of them


def test_a_thematic_sample_of_step_downs_to_early_help(client, db, world):
    today = world["today"]
    weeks_ago = (today - timedelta(days=20)).isoformat()
    stepped = make_case(
        db,
        child_id="PGSTEP",
        team=world["north"],
        case_type="early_help",
        involvements={"List 3": {"start": weeks_ago, "end": weeks_ago}, "List 2": {"start": weeks_ago, "end": None}},
    )
    login(client, "lead")
    response = post_form(
        client,
        f"/programme/{world['cycle'].id}/samples/new",
        _sample_form(
            method="thematic",
            strata_by="",
            min_per_stratum="",
            size="5",
            stepped_down_within_months="3",
            action="confirm",
            seed="11",
        ),
    )
    assert response.status_code == 303
    sample = db.execute(select(Sample)).scalar_one()
    assert service.sample_case_ids(db, sample=sample) == [stepped.id]
    text = page_text(client.get(response.headers["location"]).text)
    assert "stepped down from referral to early help in the last 3 months" in text


# --- Adding a case by hand --------------------------------------------------------------------------------


def test_adding_a_case_by_hand_needs_a_reason(client, db, world):
    login(client, "lead")
    sample = _stored_sample(db, world, size=2)
    outside = make_case(db, child_id="HAND001", team=world["south"])
    response = post_form(client, f"/samples/{sample.id}/cases", {"child_id": "HAND001", "reason": "   "})
    assert response.status_code == 400
    assert "Give the reason for adding this case by hand" in page_text(response.text)
    assert 'value="HAND001"' in response.text
    unknown = post_form(client, f"/samples/{sample.id}/cases", {"child_id": "NOPE", "reason": "Complaint"})
    assert "There is no case with the child ID" in page_text(unknown.text)
    added = post_form(client, f"/samples/{sample.id}/cases", {"child_id": "HAND001", "reason": "Complaint received"})
    assert added.status_code == 303
    row = db.execute(select(SampleCase).where(SampleCase.case_id == outside.id)).scalar_one()
    assert row.manual_reason == "Complaint received"
    assert "Added by hand: Complaint received" in page_text(client.get(f"/samples/{sample.id}").text)


# --- Allocation ---------------------------------------------------------------------------------------------


def _allocation_form(page: str) -> dict[str, str]:
    """The allocation as proposed: each select's chosen auditor, and the due date."""
    form = {}
    for name, body in re.findall(
        r'<select class="govuk-select[^"]*" id="(auditor-\d+)" name="auditor-\d+"[^>]*>(.*?)</select>', page, flags=re.S
    ):
        chosen = re.search(r'<option value="(\d*)" selected', body)
        form[name] = chosen.group(1) if chosen else ""
    for part, value in re.findall(r'name="due_date-(day|month|year)"[^>]*value="(\d+)"', page):
        form[f"due_date-{part}"] = value
    return form


def test_the_allocation_review_proposes_confirms_and_lists_the_audits(client, db, world):
    login(client, "lead")
    sample = _stored_sample(db, world)
    page = client.get(f"/samples/{sample.id}").text
    form = _allocation_form(page)
    assert len([k for k in form if k.startswith("auditor-")]) == 6
    assert all(form[k] for k in form if k.startswith("auditor-"))
    assert "Ana Able (" in page and "in this cycle)" in page
    response = post_form(
        client,
        f"/samples/{sample.id}/allocate",
        {**form, "due_date-day": "1", "due_date-month": "3", "due_date-year": "2027"},
    )
    assert response.status_code == 303, page_text(response.text)[:500]
    audits = db.execute(select(Audit).where(Audit.sample_id == sample.id)).scalars().all()
    assert len(audits) == 6 and {a.due_date for a in audits} == {date(2027, 3, 1)}
    text = page_text(client.get(f"/samples/{sample.id}").text)
    assert "Audits created" in text and "1 March 2027" in text and "Not started" in text
    # The auditor sees theirs in "My audits" with the due date.
    client.cookies.clear()
    login(client, "ana")
    mine = page_text(client.get("/audits").text)
    assert "My audits" in mine and "1 March 2027" in mine


def test_a_changed_allocation_is_checked_again_and_the_row_is_named(client, db, world):
    login(client, "lead")
    sample = _stored_sample(db, world)
    form = _allocation_form(client.get(f"/samples/{sample.id}").text)
    north_case = next(c for c in world["cases"] if c.team_id == world["north"].id and f"auditor-{c.id}" in form)
    form[f"auditor-{north_case.id}"] = str(world["ana"].id)  # Ana is in the north team: a conflict
    response = post_form(client, f"/samples/{sample.id}/allocate", form)
    assert response.status_code == 400
    text = page_text(response.text)
    assert f"Child {north_case.child_id}: Ana Able cannot audit this case" in text
    assert f'href="#auditor-{north_case.id}"' in response.text
    assert f'id="auditor-{north_case.id}-error"' in response.text
    assert count(db, Audit) == 0
    # What was chosen is kept for correcting.
    assert re.search(
        rf'id="auditor-{north_case.id}".*?<option value="{world["ana"].id}" selected', response.text, flags=re.S
    )


def test_nothing_chosen_or_junk_is_refused_politely(client, db, world):
    login(client, "lead")
    sample = _stored_sample(db, world, size=2)
    form = {k: "" for k in _allocation_form(client.get(f"/samples/{sample.id}").text) if k.startswith("auditor-")}
    response = post_form(client, f"/samples/{sample.id}/allocate", form)
    assert response.status_code == 400 and "Choose an auditor for at least one case" in page_text(response.text)
    junk = post_form(client, f"/samples/{sample.id}/allocate", dict.fromkeys(form, "x") | {"due_date-day": "99"})
    assert junk.status_code == 400 and "select an auditor from the list" in page_text(junk.text)
    assert "The due date must be a real date" in page_text(junk.text)
    assert count(db, Audit) == 0


def test_expired_training_is_not_offered_and_says_why(client, db, world):
    old = make_user(db, username="olu", full_name="Olu Old", roles=(Role.AUDITOR,))
    add_training(db, old, TrainingKind.AUDITOR, date(2020, 1, 1), date(2021, 3, 3))
    login(client, "lead")
    sample = _stored_sample(db, world, size=2)
    page = client.get(f"/samples/{sample.id}").text
    assert "Olu Old: auditor training expired on" in page_text(page)
    assert "Olu Old (" not in page


# --- Who may, and CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["ana"])
def test_not_a_qa_lead_is_refused(client, db, world, username):
    sample = _stored_sample(db, world, size=2)
    login(client, username)
    for url in (
        "/programme",
        "/programme/new",
        f"/programme/{world['cycle'].id}",
        f"/programme/{world['cycle'].id}/samples/new",
        f"/samples/{sample.id}",
    ):
        assert client.get(url).status_code == 403, url
    assert post_form(client, f"/programme/{world['cycle'].id}/samples/new", _sample_form()).status_code == 403
    assert count(db, Audit) == 0


def test_a_form_without_its_csrf_token_is_refused(client, db, world):
    login(client, "lead")
    url = f"/programme/{world['cycle'].id}/samples/new"
    response = client.post(url, data=_sample_form(action="confirm", seed="5"), follow_redirects=False)
    assert response.status_code == 403
    assert count(db, Sample) == 0
    copied = client.post(f"/programme/{world['cycle'].id}/copy", data={"csrf_token": "nope"}, follow_redirects=False)
    assert copied.status_code == 403 and count(db, Cycle) == 1
    assert csrf_token(client)  # the page's own token still works


def test_the_cycle_page_lists_overdue_audits_by_auditor(client, db, world):
    today = world["today"]
    late, on_time, done = (
        make_audit(db, case=world["cases"][i], auditor=world["ana"], actor=world["lead"]) for i in range(3)
    )
    for audit, due, status in (
        (late, today - timedelta(days=4), "in_progress"),
        (on_time, today, "allocated"),
        (done, today - timedelta(days=9), "submitted"),
    ):
        audit.cycle_id, audit.due_date, audit.status = world["cycle"].id, due, status
        db.add(audit)
    db.flush()
    login(client, "lead")
    text = page_text(client.get(f"/programme/{world['cycle'].id}").text)
    overdue = text.split("Overdue audits", 1)[1]
    assert "Ana Able" in overdue and "PG000" in overdue and "4" in overdue
    assert world["cases"][1].child_id not in overdue and world["cases"][2].child_id not in overdue
