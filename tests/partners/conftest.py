"""A multi-agency audit with partner representatives of each agency, some of whom may not be assigned."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.accounts.roles import Role
from tests.factories import make_audit, make_case, make_team, make_user, publish_templates

AGREED = date(2027, 3, 31)  # after TEST_NOW (26 November 2026)
LAPSED = date(2026, 11, 25)


@pytest.fixture
def world(db) -> dict[str, Any]:
    publish_templates(db)
    team = make_team(db, name="Partnership team")
    lead = make_user(db, username="lead", roles=(Role.QA_LEAD,), full_name="Quinn Lead")
    auditor = make_user(db, username="auditor", roles=(Role.AUDITOR,), full_name="Ann Auditor")
    worker = make_user(db, username="worker", roles=(Role.PRACTITIONER,), team=team, full_name="Wes Worker")
    police = make_user(
        db,
        username="pc.roe",
        roles=(Role.PARTNER,),
        agency="police",
        partner_agreement_until=AGREED,
        full_name="Pat Roe",
    )
    police2 = make_user(
        db,
        username="pc.doe",
        roles=(Role.PARTNER,),
        agency="police",
        partner_agreement_until=AGREED,
        full_name="Jo Doe",
    )
    health = make_user(
        db,
        username="nurse",
        roles=(Role.PARTNER,),
        agency="health",
        partner_agreement_until=AGREED,
        full_name="Hal Nurse",
    )
    lapsed = make_user(
        db,
        username="lapsed",
        roles=(Role.PARTNER,),
        agency="police",
        partner_agreement_until=LAPSED,
        full_name="Old Agreement",
    )
    unsigned = make_user(db, username="unsigned", roles=(Role.PARTNER,), agency="police", full_name="No Agreement")
    case = make_case(db, child_id="MA0001", team=team)
    audit = make_audit(db, case=case, auditor=auditor, template_key="multi_agency", actor=lead)
    other_case = make_case(db, child_id="DS0001", team=team)
    dip = make_audit(db, case=other_case, auditor=auditor, template_key="dip_sample", actor=lead)
    return {
        "team": team,
        "lead": lead,
        "auditor": auditor,
        "worker": worker,
        "police": police,
        "police2": police2,
        "health": health,
        "lapsed": lapsed,
        "unsigned": unsigned,
        "case": case,
        "audit": audit,
        "dip": dip,
    }
