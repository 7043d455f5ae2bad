"""An honest refresher flag and moderation rate: "low agreement" only when the kappa's interval says so, and a higher
moderation rate for auditors with few moderated audits or low agreement (the rate used, and why, on the record)."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.audit_trail.models import AuditEvent
from app.config import Settings
from app.moderation import selection, selectors
from app.moderation.agreement.kappa import agreement_flag, agreement_of
from app.moderation.agreement.service import auditor_record
from app.moderation.models import Moderation
from app.moderation.selection import Rate, effective_rate
from tests.conftest import TEST_SECRET_KEY
from tests.factories import api_headers, login
from tests.factories import page_text as _page_text
from tests.moderation.conftest import new_audit, submit

O, G, RI, I = "outstanding", "good", "requires_improvement", "inadequate"
# Weighted kappa 0.15: over these 7 pairs the 95% interval runs from about -0.42 to 0.73 (it cannot tell), over
# the same pairs ten times (70) from about -0.03 to 0.33 (clearly below 0.4).
MIXED = [(G, G), (G, RI), (RI, G), (O, RI), (RI, RI), (I, RI), (G, O)]
AGREED = [(G, G), (RI, RI), (O, O), (I, I), (G, G), (RI, RI)]
DEFAULTS = Settings(environment="test", secret_key=TEST_SECRET_KEY)  # 5 moderated audits, raised to 50%
RULE = {"new_auditor_audits": 5, "raised_rate": 0.5, "low_kappa": 0.4}
# A raised rate of 100% (so whether it was raised is certain), and no raise for being new (what is left is agreement).
ALWAYS = Settings(
    environment="test", secret_key=TEST_SECRET_KEY, moderation_raised_rate=1.0, moderation_new_auditor_audits=0
)


def page_text(markup: str) -> str:
    return html.unescape(_page_text(markup))


# --- The rule (pure) ------------------------------------------------------------------------------------------


def test_a_new_auditor_gets_the_raised_rate():
    assert effective_rate(0.1, 0, None, **RULE) == Rate(0.5, "fewer than 5 moderated audits")
    assert effective_rate(0.1, 4, 0.95, **RULE) == Rate(0.5, "fewer than 5 moderated audits")
    assert effective_rate(0.0, 0, None, **{**RULE, "new_auditor_audits": 1}) == Rate(
        0.5, "fewer than 1 moderated audit"
    )


def test_low_agreement_at_the_top_of_its_interval_raises_the_rate():
    assert effective_rate(0.1, 30, 0.35, **RULE) == Rate(
        0.5, "low agreement with moderators (upper 95% bound of kappa 0.35, below 0.40)"
    )


@pytest.mark.parametrize(
    ("moderated", "upper"),
    [(5, 0.9), (40, None), (40, 0.4)],  # enough audits, and agreement fine, unknown, or at the threshold
)
def test_an_established_auditor_keeps_the_cycles_rate(moderated, upper):
    assert effective_rate(0.1, moderated, upper, **RULE) == Rate(0.1)


def test_the_rate_is_never_lowered_and_stays_between_0_and_1():
    assert effective_rate(0.8, 0, None, **RULE) == Rate(0.8)  # the cycle's is higher already: not "raised"
    assert effective_rate(0.5, 0, None, **RULE) == Rate(0.5)
    assert effective_rate(1.5, 0, None, **RULE) == Rate(1.0)
    assert effective_rate(-1, 0, None, **{**RULE, "raised_rate": 2}) == Rate(1.0, "fewer than 5 moderated audits")
    assert effective_rate(0.1, 0, None, **{**RULE, "new_auditor_audits": 0}) == Rate(0.1)  # the rule switched off


def test_the_flag_follows_the_interval_not_the_point_estimate():
    few, many = agreement_of(MIXED), agreement_of(MIXED * 10)
    assert few.weighted_kappa == pytest.approx(many.weighted_kappa)
    assert few.interval[0] < 0.4 < few.interval[1] and many.interval[1] < 0.4
    assert agreement_flag(few, min_pairs=5, low=0.4) == "not_enough_to_tell"
    assert agreement_flag(many, min_pairs=5, low=0.4) == "flagged"
    assert agreement_flag(agreement_of(AGREED), min_pairs=5, low=0.4) == "ok"
    assert agreement_flag(agreement_of(AGREED), min_pairs=7, low=0.4) == "not_enough_to_tell"


# --- Moderation history, and what submission makes of it -------------------------------------------------------


def _history(db, mw, pairs):
    """Completed audits of Asha's, each moderated once: (her overall grade, the moderator's)."""
    for mine, theirs in pairs:
        audit = new_audit(db, mw)
        audit.status, audit.final_grade = "completed", theirs
        db.add(audit)
        db.add(
            Moderation(
                audit_id=audit.id,
                round=1,
                reason="random",
                moderator_id=mw.max.id,
                status="decided",
                overall_grade=theirs,
                auditor_overall_grade=mine,
                agreement={"overall": mine == theirs},
                graded_at=datetime(2026, 11, 1, tzinfo=UTC),
                decision="accept",
            )
        )
    db.flush()


def test_the_auditors_record_counts_moderated_audits_and_their_agreement(db, mw):
    _history(db, mw, MIXED * 10)
    record = auditor_record(db, auditor_id=mw.auditor.id)
    assert record.moderated == 70
    assert record.kappa_upper(min_pairs=5) == pytest.approx(agreement_of(MIXED * 10).interval[1])
    assert record.kappa_upper(min_pairs=71) is None  # too few pairs to trust the interval
    assert auditor_record(db, auditor_id=mw.max.id).moderated == 0


def test_one_disagreement_is_too_little_to_raise_the_rate(db, mw):
    """A single pair's interval is degenerate (0 to 0): below the threshold, but no evidence of anything."""
    _history(db, mw, [(I, RI)])
    assert agreement_of([(I, RI)]).interval == (0.0, 0.0)
    audit = submit(db, new_audit(db, mw), mw.auditor, overall="good", settings=ALWAYS)  # the new-auditor rule off
    assert audit.status == "completed"


def test_a_new_auditors_audits_are_drawn_at_the_raised_rate_and_say_so(client, db, mw):
    audits = [submit(db, new_audit(db, mw), mw.auditor, overall="good", settings=DEFAULTS) for _ in range(8)]
    picked = [a for a in audits if a.status == "in_moderation"]
    for audit in audits:
        draw = selection.selection_draw(mw.cycle.id, audit.id, 1)
        assert (audit.status == "in_moderation") == (draw < 0.5)  # the cycle's rate is 0
    assert picked, "eight draws at 50% picked none: choose more audits"
    round_ = selectors.latest_round(db, audit_id=picked[0].id)
    assert (round_.reason, round_.selection_rate, round_.rate_raised_because) == (
        "random",
        0.5,
        "fewer than 5 moderated audits",
    )
    completed = next(a for a in audits if a.status == "completed")
    (event,) = db.execute(
        select(AuditEvent).where(AuditEvent.action == "audit.complete", AuditEvent.entity_id == str(completed.id))
    ).scalars()
    assert (event.after["rate"], event.after["rate_raised_because"]) == (0.5, "fewer than 5 moderated audits")

    login(client, "asha")
    for page in (f"/audits/{picked[0].id}", f"/audits/{picked[0].id}/moderation/panel"):
        assert "Picked at random. Rate raised to 50%: fewer than 5 moderated audits." in page_text(
            client.get(page).text
        )
    login(client, "lead")
    page = page_text(client.get(f"/audits/{picked[0].id}/moderation").text)
    assert (
        "Random selection (draw " in page and "against a rate of 50%, raised for fewer than 5 moderated audits)" in page
    )
    rounds = client.get(f"/api/v1/audits/{picked[0].id}/moderation", headers=api_headers(client, "lead")).json()
    assert rounds["rounds"][0]["rate_raised_because"] == "fewer than 5 moderated audits"


def test_an_audit_outside_a_cycle_is_never_drawn(db, mw):
    audit = submit(db, new_audit(db, mw, in_cycle=False), mw.auditor, overall="good", settings=DEFAULTS)
    assert audit.status == "completed"


def test_good_agreement_over_enough_audits_keeps_the_cycles_rate(db, mw):
    _history(db, mw, AGREED)  # six moderated audits, all agreed
    certain = Settings(environment="test", secret_key=TEST_SECRET_KEY, moderation_raised_rate=1.0)
    fine = submit(db, new_audit(db, mw), mw.auditor, overall="good", settings=certain)
    assert fine.status == "completed"


def test_low_agreement_raises_the_rate(db, mw):
    _history(db, mw, MIXED * 10)
    low = submit(db, new_audit(db, mw), mw.auditor, overall="good", settings=ALWAYS)
    assert low.status == "in_moderation"
    round_ = selectors.latest_round(db, audit_id=low.id)
    assert (round_.reason, round_.selection_rate) == ("random", 1.0)
    assert round_.rate_raised_because == (
        f"low agreement with moderators (upper 95% bound of kappa {agreement_of(MIXED * 10).interval[1]:.2f}, "
        "below 0.40)"
    )


def test_the_agreement_page_and_api_say_when_there_are_not_enough_audits_to_tell(client, db, mw):
    _history(db, mw, MIXED)
    body = client.get("/api/v1/moderation/agreement", headers=api_headers(client, "lead")).json()
    (asha,) = body["by_auditor"]
    assert (asha["n"], asha["status"], asha["flagged"]) == (7, "not_enough_to_tell", False)
    assert asha["status_label"] == "Not enough moderated audits to tell"
    low, high = asha["kappa_interval"]
    assert low < 0.4 < high
    login(client, "lead")
    text = page_text(client.get("/moderation/agreement").text)
    assert "Asha Auditor 7" in text and "Not enough moderated audits to tell" in text and "Low agreement" not in text
    assert "only when the interval says so" in text

    _history(db, mw, MIXED * 9)  # the same agreement over 70 audits: now the interval is clear
    body = client.get("/api/v1/moderation/agreement", headers=api_headers(client, "lead")).json()
    (asha,) = body["by_auditor"]
    assert (asha["n"], asha["status"], asha["flagged"]) == (70, "flagged", True)
    assert asha["kappa_interval"][1] < 0.4
    text = page_text(client.get("/moderation/agreement").text)
    assert "Low agreement: consider refresher training" in text
