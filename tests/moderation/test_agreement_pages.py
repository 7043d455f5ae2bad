"""The moderation agreement page and API over a hand-built set of moderated audits (rows inserted directly)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from app.accounts.models import User
from app.accounts.roles import Role
from app.audits.models import Audit, AuditAnswer
from app.moderation.agreement.kappa import agreement_of
from app.moderation.models import Moderation
from app.sampling.models import Cycle
from tests.factories import api_headers, login, make_audit, make_case, make_user, publish_templates
from tests.factories import page_text as _page_text

O, G, RI, I = "outstanding", "good", "requires_improvement", "inadequate"
NOVEMBER = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)

# Overall grades (auditor's, moderator's) in each cycle, and the assessment section's, where given.
ASHA_NOV = [(G, G), (G, G), (RI, RI), (O, O), (I, I)]  # perfect agreement
BEN_NOV = [(O, I), (G, G), (RI, O), (I, G), (G, RI)]  # poor agreement: flagged
ASHA_DEC = [(G, RI), (RI, RI)]
BEN_ASSESSMENT = [(G, I), (G, G), (RI, O), (I, I), (G, G)]  # 2 of 5 different: 40%
ASHA_ASSESSMENT = [(G, G)] * 5  # 0 of 5 different


def page_text(markup: str) -> str:
    return html.unescape(_page_text(markup))


@dataclass
class World:
    lead: User
    asha: User
    ben: User
    moderator: User
    november: Cycle
    december: Cycle


def _cycle(db, title: str, due: date) -> Cycle:
    cycle = Cycle(title=title, kind="deep_dive", template_key="case_file_audit", template_version=1, due_date=due)
    db.add(cycle)
    db.flush()
    return cycle


def moderated(
    db,
    world: World,
    *,
    auditor: User,
    cycle: Cycle,
    overall: tuple[str, str],
    assessment: tuple[str, str] | None = None,
    status: str = "decided",
    graded_at: datetime = NOVEMBER,
    template_key: str = "case_file_audit",
    agree_overall: bool | None = None,
    moderator: User | None = None,
) -> Audit:
    """An audit with the auditor's grades as answers and one moderation round with the moderator's grades."""
    audit = make_audit(db, case=make_case(db), auditor=auditor, actor=world.lead, template_key=template_key)
    audit.cycle_id = cycle.id
    audit.status = "completed" if status == "decided" else "in_moderation"
    db.add(audit)
    mine, theirs = overall
    answers = {"overall_grade": mine}
    section_grades = {}
    agreement = {"overall": mine == theirs if agree_overall is None else agree_overall}
    if assessment:
        answers["assessment__grade"] = assessment[0]
        section_grades["assessment"] = assessment[1]
        agreement["assessment"] = assessment[0] == assessment[1]
    if template_key == "case_file_audit":
        for key, value in answers.items():
            db.add(AuditAnswer(audit_id=audit.id, question_key=key, value=value))
    db.add(
        Moderation(
            audit_id=audit.id,
            round=1,
            reason="random",
            moderator_id=(moderator or world.moderator).id,
            status=status,
            section_grades=section_grades,
            overall_grade=None if status == "allocated" else theirs,
            agreement={} if status == "allocated" else agreement,
            graded_at=None if status == "allocated" else graded_at,
            decision="accept" if status == "decided" else None,
        )
    )
    db.flush()
    return audit


@pytest.fixture
def world(db) -> World:
    publish_templates(db)
    return World(
        lead=make_user(db, username="lead", roles=(Role.QA_LEAD,), full_name="Quinn Lead"),
        asha=make_user(db, username="asha", roles=(Role.AUDITOR,), full_name="Asha Auditor"),
        ben=make_user(db, username="ben", roles=(Role.AUDITOR,), full_name="Ben Brown"),
        moderator=make_user(db, username="mo", roles=(Role.MODERATOR,), full_name="Mo Moderator"),
        november=_cycle(db, "November deep dive", date(2026, 11, 30)),
        december=_cycle(db, "December deep dive", date(2026, 12, 31)),
    )


@pytest.fixture
def moderations(db, world):
    for overall, assessment in zip(ASHA_NOV, ASHA_ASSESSMENT, strict=True):
        moderated(db, world, auditor=world.asha, cycle=world.november, overall=overall, assessment=assessment)
    for i, (overall, assessment) in enumerate(zip(BEN_NOV, BEN_ASSESSMENT, strict=True)):
        # one of Ben's rounds is graded but not yet decided: it counts all the same
        moderated(
            db,
            world,
            auditor=world.ben,
            cycle=world.november,
            overall=overall,
            assessment=assessment,
            status="graded" if i == 0 else "decided",
        )
    for overall in ASHA_DEC:
        moderated(db, world, auditor=world.asha, cycle=world.december, overall=overall, graded_at=DECEMBER)
    # Not pairs: a round still waiting for the moderator's grades, and a dip sample (no grades at all).
    moderated(db, world, auditor=world.ben, cycle=world.november, overall=(O, I), status="allocated")
    moderated(
        db,
        world,
        auditor=world.ben,
        cycle=world.december,
        overall=(G, G),
        template_key="dip_sample",
        graded_at=DECEMBER,
    )
    return world


def _get_api(client, params: str = "", user: str = "lead"):
    return client.get(f"/api/v1/moderation/agreement{params}", headers=api_headers(client, user))


# --- API ---------------------------------------------------------------------------------------


def test_api_figures_for_one_cycle(client, moderations):
    world = moderations
    body = _get_api(client, f"?cycle_id={world.november.id}").json()
    expected = agreement_of(ASHA_NOV + BEN_NOV)
    assert body["n"] == 10
    assert body["rounds"] == 10  # the round still waiting for grades is not counted
    assert body["exact_agreement"] == pytest.approx(0.6)
    assert body["weighted_kappa"] == pytest.approx(expected.weighted_kappa)
    assert body["kappa_interval"] == pytest.approx(list(expected.interval))
    assert body["kappa_interval"][0] < body["weighted_kappa"] < body["kappa_interval"][1]
    assert "Fleiss, Cohen and Everitt (1969)" in body["method"]

    auditors = {a["name"]: a for a in body["by_auditor"]}
    assert set(auditors) == {"Asha Auditor", "Ben Brown"}
    asha, ben = auditors["Asha Auditor"], auditors["Ben Brown"]
    assert (asha["auditor_id"], asha["n"], asha["exact_agreement"], asha["flagged"]) == (world.asha.id, 5, 1.0, False)
    assert asha["weighted_kappa"] == pytest.approx(1.0)
    assert (ben["n"], ben["exact_agreement"], ben["flagged"], ben["status"]) == (5, pytest.approx(0.2), True, "flagged")
    assert ben["weighted_kappa"] == pytest.approx(agreement_of(BEN_NOV).weighted_kappa)
    assert ben["weighted_kappa"] < 0.4

    sections = {s["section_key"]: s for s in body["by_section"]}
    assert set(sections) == {"assessment"}
    assert sections["assessment"]["n"] == 10
    assert sections["assessment"]["disagreements"] == 2
    assert sections["assessment"]["exact_agreement"] == pytest.approx(0.8)
    assert sections["assessment"]["grade_question"] == "assessment__grade"
    assert sections["assessment"]["weighted_kappa"] == pytest.approx(
        agreement_of(ASHA_ASSESSMENT + BEN_ASSESSMENT).weighted_kappa
    )

    # Most disagreement: the overall grade (4 of 10 differ) before the assessment section (2 of 10).
    ranked = [(s["section_key"], s["disagreements"], s["n"]) for s in body["most_disagreement"]]
    assert ranked == [("overall", 4, 10), ("assessment", 2, 10)]
    assert body["most_disagreement"][0]["grade_question"] == "overall_grade"
    assert body["most_disagreement"][0]["recorded_disagreements"] == 4


def test_api_every_cycle_and_a_period(client, moderations):
    every = _get_api(client).json()
    assert every["n"] == 12 and every["cycle_id"] is None
    assert every["exact_agreement"] == pytest.approx(7 / 12)
    assert every["weighted_kappa"] == pytest.approx(agreement_of(ASHA_NOV + BEN_NOV + ASHA_DEC).weighted_kappa)
    asha = next(a for a in every["by_auditor"] if a["name"] == "Asha Auditor")
    assert asha["n"] == 7

    december = _get_api(client, "?from=2026-12-01&to=2026-12-31").json()
    assert december["n"] == 2 and december["from"] == "2026-12-01"
    assert [(a["name"], a["n"], a["status"], a["flagged"]) for a in december["by_auditor"]] == [
        ("Asha Auditor", 2, "not_enough_to_tell", False)
    ]
    assert _get_api(client, "?to=2026-11-30").json()["n"] == 10


def test_api_cycle_with_nothing_moderated_says_so(client, moderations, db):
    empty = _cycle(db, "January dip sample", date(2027, 1, 31))
    body = _get_api(client, f"?cycle_id={empty.id}").json()
    assert body["n"] == 0
    assert body["exact_agreement"] is None and body["weighted_kappa"] is None and body["kappa_interval"] is None
    assert body["note"] == "No moderated audits yet"
    assert body["by_auditor"] == [] and body["by_section"] == [] and body["most_disagreement"] == []


def test_api_refuses_bad_parameters_without_a_500(client, moderations):
    assert _get_api(client, "?cycle_id=999999").status_code == 404
    assert _get_api(client, "?cycle_id=999999").json() == {"detail": "Cycle 999999 not found"}
    for bad in (
        "?cycle_id=abc",
        "?cycle_id=0",
        "?cycle_id=99999999999",
        "?from=2026-13-01",
        "?to=yesterday",
        "?from=2026-12-02&to=2026-12-01",
        "?to=9999-12-31",
        "?from=0001-01-01",
    ):
        response = _get_api(client, bad)
        assert response.status_code == 422, (bad, response.text)
        assert "detail" in response.json()


def test_api_is_for_the_qa_lead_and_moderators_only(client, moderations):
    assert client.get("/api/v1/moderation/agreement").status_code == 401
    response = _get_api(client, user="asha")  # an auditor
    assert response.status_code == 403
    assert "QA lead" in response.json()["detail"]
    assert _get_api(client, user="mo").status_code == 200  # their own figures: below


# --- The page ------------------------------------------------------------------------------------


def test_page_shows_the_figures_and_flags_the_auditor(client, moderations):
    world = moderations
    login(client, "lead")
    response = client.get(f"/moderation/agreement?cycle_id={world.november.id}")
    assert response.status_code == 200
    text = page_text(response.text)
    kappa = agreement_of(ASHA_NOV + BEN_NOV)
    low, high = kappa.interval
    assert f"10 60% (6 of 10) {kappa.weighted_kappa:.2f} {low:.2f} to {high:.2f}" in text
    assert "Moderation agreement" in text and "in November deep dive" in text
    ben = agreement_of(BEN_NOV)
    assert (
        f"Ben Brown 5 20% {ben.weighted_kappa:.2f} ({ben.interval[0]:.2f} to {ben.interval[1]:.2f}) "
        "Low agreement: consider refresher training"
    ) in text
    assert "Asha Auditor 5 100% 1.00 (1.00 to 1.00) No concern" in text
    assert "D. Assessment 10 80%" in text
    assert "Overall grade overall_grade 4 of 10 40% 4 D. Assessment assessment__grade 2 of 10 20% 2" in text
    assert "Fleiss, Cohen and Everitt (1969)" in text
    # Tables carry captions and row headers, for screen readers.
    assert response.text.count("<caption") == 4
    assert '<th scope="row" class="govuk-table__header">Ben Brown</th>' in response.text
    # The cycle chosen stays chosen; the menu leads here.
    assert f'<option value="{world.november.id}" selected>' in response.text
    assert 'href="/moderation/agreement" aria-current="page"' in response.text
    assert response.text.count("govuk-service-navigation__item--active") == 1  # not "Moderation" as well


def test_page_across_cycles_and_too_few_to_judge(client, moderations):
    world = moderations
    login(client, "lead")
    text = page_text(client.get(f"/moderation/agreement?cycle_id={world.december.id}").text)
    assert "Asha Auditor 2 50%" in text and "Not enough moderated audits to tell" in text
    assert "Low agreement" not in text
    every = page_text(client.get("/moderation/agreement?cycle_id=").text)
    assert "across all cycles" in every and "12 58% (7 of 12)" in every


def test_page_empty_state(client, world):
    login(client, "lead")
    response = client.get("/moderation/agreement")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "No moderated audits yet" in text
    assert "once a moderator has graded an audit" in text
    assert "<table" not in response.text


def test_page_when_only_undefined_kappa(client, world, db):
    for _ in range(3):
        moderated(db, world, auditor=world.asha, cycle=world.november, overall=(G, G))
    login(client, "lead")
    text = page_text(client.get("/moderation/agreement").text)
    assert "3 100% (3 of 3) Undefined Not available" in text
    assert "Kappa is undefined" in text


def test_page_refuses_others_and_unknown_cycles(client, moderations):
    login(client, "asha")
    response = client.get("/moderation/agreement")
    assert response.status_code == 403
    assert "Ben Brown" not in response.text
    login(client, "lead")
    for bad in ("999999", "abc", "0", "-1", "9" * 30):
        assert client.get(f"/moderation/agreement?cycle_id={bad}").status_code == 404, bad


def test_anonymous_visitors_are_sent_to_sign_in(client, moderations):
    response = client.get("/moderation/agreement", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


# --- A moderator's own figures ----------------------------------------------------------------------


PAT_NOV = [(G, I), (G, G), (O, O)]  # a colleague's three rounds of Asha's audits: one different


@pytest.fixture
def colleague(db, moderations):
    """A second moderator, Pat, who graded three of Asha's November audits (Mo graded all the others)."""
    pat = make_user(db, username="pat", roles=(Role.MODERATOR,), full_name="Pat Peer")
    audits = [
        moderated(db, moderations, auditor=moderations.asha, cycle=moderations.november, overall=o, moderator=pat)
        for o in PAT_NOV
    ]
    return pat, audits


def test_a_moderator_sees_only_their_own_figures_on_the_page(client, moderations, colleague):
    _, pat_audits = colleague
    login(client, "mo")
    response = client.get("/moderation/agreement")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "Your moderation agreement" in text
    mine = agreement_of(ASHA_NOV + BEN_NOV + ASHA_DEC)
    low, high = mine.interval
    # Mo's 12 pairs, not the 15 of everyone (Pat's 3 are not theirs).
    assert f"12 58% (7 of 12) {mine.weighted_kappa:.2f} {low:.2f} to {high:.2f}" in text
    # Never the auditors' rows, nor a colleague's name or audits.
    for hidden in ("By auditor", "Asha Auditor", "Ben Brown", "Pat Peer", "Low agreement"):
        assert hidden not in text, hidden
    for audit in pat_audits:
        assert f'href="/audits/{audit.id}/moderation"' not in response.text
    # The audits where Mo disagreed with the auditor: four of Ben's in November and one of Asha's in December.
    assert "Audits where you disagreed with the auditor" in text
    assert response.text.count('href="/audits/') == 5
    # The menu offers the page to a moderator.
    assert 'href="/moderation/agreement" aria-current="page"' in response.text


def test_a_colleague_sees_their_own_figures_and_the_qa_lead_everyones(client, moderations, colleague):
    _, pat_audits = colleague
    login(client, "pat")
    response = client.get(f"/moderation/agreement?cycle_id={moderations.november.id}")
    text = page_text(response.text)
    assert response.status_code == 200 and "3 67% (2 of 3)" in text
    assert "Mo Moderator" not in text and "Asha Auditor" not in text
    assert f'href="/audits/{pat_audits[0].id}/moderation"' in response.text  # (good, inadequate): they disagreed
    assert response.text.count('href="/audits/') == 1
    # The QA lead's page is unchanged: everyone's pairs, the auditors' rows, no "you".
    login(client, "lead")
    lead = page_text(client.get("/moderation/agreement").text)
    assert "15 60% (9 of 15)" in lead and "Asha Auditor 10" in lead and "Ben Brown 5" in lead
    assert "Your moderation agreement" not in lead and "Audits where you disagreed" not in lead


def test_a_moderator_gets_only_their_own_figures_from_the_api(client, moderations, colleague):
    pat, pat_audits = colleague
    body = _get_api(client, user="mo").json()
    assert body["moderator_id"] == moderations.moderator.id
    assert body["n"] == 12 and body["exact_agreement"] == pytest.approx(7 / 12)
    assert body["by_auditor"] == []
    assert len(body["disagreements"]) == 5
    assert not {d["audit_id"] for d in body["disagreements"]} & {a.id for a in pat_audits}
    theirs = _get_api(client, user="pat").json()
    assert (theirs["n"], theirs["moderator_id"], theirs["by_auditor"]) == (3, pat.id, [])
    assert [(d["audit_id"], d["sections"]) for d in theirs["disagreements"]] == [(pat_audits[0].id, ["Overall grade"])]
    everyone = _get_api(client).json()
    assert everyone["n"] == 15 and everyone["moderator_id"] is None and len(everyone["by_auditor"]) == 2
