"""A child's records on request (subject access): the ZIP holds everything the database has about the child, as JSON
and as a real PDF built from the same structure; the redacted variant names no member of staff but keeps the same
structure; only the QA lead may produce it, through the page or the API; an unknown child ID is named on the form;
every request is in the audit trail."""

from __future__ import annotations

import copy
import hashlib
import html
import io
import json
import re
import zipfile
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.accounts.roles import Agency, Role
from app.audit_trail.models import AuditEvent
from app.audit_trail.service import audit_record
from app.audits.models import Audit, AuditAnswer, AuditDueChange, AuditReply
from app.audits.partners.models import PanelMeeting, SectionPartner
from app.cases.models import Case, CaseFactCorrection, CaseImport, LegalHold
from app.escalations.models import Escalation, EscalationChase
from app.moderation.models import Moderation
from app.recommendations.models import Recommendation, RecommendationEvent, RecommendationTheme, Theme
from app.records.subject_access.collect import records_collect
from app.records.subject_access.redact import records_redact
from app.sampling.models import Cycle, Sample, SampleCase
from tests.conftest import TEST_NOW
from tests.factories import api_headers, login, make_audit, make_case, make_team, make_user, page_text, post_form

GRADED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
CHILD = "SAR0042"
# Every member of staff in the records, and what must never appear in the redacted variant: names and usernames.
STAFF = {
    "quinn.lead": "Quinn Leadbetter",
    "asha.auditor": "Asha Auditorson",
    "mo.moderator": "Morag Moderatova",
    "wendy.worker": "Wendy Workington",
    "manny.manager": "Manny Managerial",
    "hilda.head": "Hilda Headstrong",
    "pat.partner": "Patricia Partnerly",
    "rowan.owner": "Rowan Ownership",
}
ATTENDEE = "Dr Hugh Healthman"  # named at the panel meeting only, as the minutes give them
WORKER_CMS_ID = "CMS-W77"  # the case system's id for the worker


def _text(markup: str) -> str:
    return html.unescape(page_text(markup))


def _unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages).split())


def _shape(value: Any) -> Any:
    """The structure without its values: keys, list lengths and which values are people."""
    if isinstance(value, dict):
        if "person" in value and "name" in value:
            return "person" if value["person"] is not None else "not a person"
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


@pytest.fixture
def child(db, client):
    """A child whose case has everything: register facts from two imports, a correction, a sample, two audits (one
    completed, moderated, replied to, with a due date change, a partner's section and a panel meeting), recommendations
    with history, an escalation chased once, and views of the records in the audit trail."""
    from tests.factories import publish_templates

    publish_templates(db)
    team = make_team(db, name="Riverside CIN team")
    users = {}
    roles = {
        "quinn.lead": ((Role.QA_LEAD,), None),
        "asha.auditor": ((Role.AUDITOR,), None),
        "mo.moderator": ((Role.MODERATOR,), None),
        "wendy.worker": ((Role.PRACTITIONER,), team),
        "manny.manager": ((Role.TEAM_MANAGER,), team),
        "hilda.head": ((Role.HEAD_OF_SERVICE,), None),
        "pat.partner": ((Role.PARTNER,), None),
        "rowan.owner": ((Role.PRACTITIONER,), team),
    }
    for username, (held, in_team) in roles.items():
        users[username] = make_user(
            db,
            username=username,
            roles=held,
            team=in_team,
            full_name=STAFF[username],
            agency=Agency.POLICE.value if Role.PARTNER in held else None,
        )
    lead, auditor, moderator = users["quinn.lead"], users["asha.auditor"], users["mo.moderator"]
    worker, hos, partner, owner = users["wendy.worker"], users["hilda.head"], users["pat.partner"], users["rowan.owner"]
    case = make_case(
        db,
        child_id=CHILD,
        team=team,
        case_type="cp",
        worker=worker,
        worker_id=WORKER_CMS_ID,
        manager=users["manny.manager"],
        manager_name="Manny Managerial",
        gender="Female",
        birth_year=2015,
        birth_month=4,
    )
    other = make_case(db, child_id=CHILD + "0", team=team)  # an ID that begins with this child's: never theirs
    db.add(LegalHold(case_id=case.id, reason="Complaint to the Ombudsman about the plan", placed_by_id=lead.id))

    # Where the facts came from: the last import, and a full import that listed the case to close.
    last = CaseImport(
        format="csv",
        mode="all_or_nothing",
        status="committed",
        file_names=["register-november.csv"],
        file_hashes=["a" * 64],
        created_by_id=lead.id,
    )
    closing = CaseImport(
        format="annex_a",
        mode="all_or_nothing",
        full=True,
        status="discarded",
        file_names=["annex-a.xlsx"],
        file_hashes=["b" * 64],
        closing=[{"id": case.id, "child_id": CHILD, "case_type": "cp"}],
        errors=[{"sheet": "List 3", "row": 7, "column": "Date of birth", "value": CHILD, "message": "Not a date"}],
        created_by_id=lead.id,
    )
    unrelated = CaseImport(
        format="csv",
        mode="all_or_nothing",
        status="committed",
        file_names=["other.csv"],
        file_hashes=["c" * 64],
        closing=[{"id": other.id, "child_id": other.child_id, "case_type": "cin"}],
        created_by_id=lead.id,
    )
    db.add_all([last, closing, unrelated])
    db.flush()
    case.last_import_id = last.id
    db.add(case)
    db.add(
        CaseFactCorrection(
            case_id=case.id,
            field="missing_12m",
            old_value=3,
            new_value=1,
            source_value=3,
            reason="Two episodes were recorded twice",
            corrected_by_id=lead.id,
        )
    )
    cycle = Cycle(title="November dip sample", kind="dip_sample", template_key="dip_sample", template_version=1,
                  due_date=date(2026, 12, 31))  # fmt: skip
    db.add(cycle)
    db.flush()
    sample = Sample(cycle_id=cycle.id, method="random", seed=7, size=1, frame_size=40, frame_hash="d" * 64,
                    created_by_id=lead.id)  # fmt: skip
    db.add(sample)
    db.flush()
    db.add(SampleCase(sample_id=sample.id, case_id=case.id, stratum="cp"))

    # The completed, moderated audit.
    audit = make_audit(db, case=case, auditor=auditor, actor=lead, template_key="case_file_audit")
    answers = {
        "assessment_within_45_days": "no",
        "assessment_within_45_days__explanation": "Authorised on day 61. Discussed with Wendy Workington.",
        "assessment__grade": "requires_improvement",
        "overall_grade": "good",
        "overall_rationale": "Steady progress for the child",
    }
    for key, value in answers.items():
        db.add(AuditAnswer(audit_id=audit.id, question_key=key, value=value, updated_by_id=auditor.id))
    audit.status, audit.final_grade, audit.completed_at = "completed", "requires_improvement", GRADED
    db.add(audit)
    moderation = Moderation(
        audit_id=audit.id,
        round=1,
        reason="safeguarding",
        moderator_id=moderator.id,
        selected_by_id=lead.id,
        status="decided",
        section_grades={"assessment": "inadequate"},
        overall_grade="requires_improvement",
        agreement={"assessment": False, "overall": False},
        rationale="Asha Auditorson underweighted the delay.",
        learning="Weigh drift in the assessment more heavily.",
        decision="accept",
        feedback="Thank you.",
        graded_at=GRADED,
        decided_at=GRADED,
    )
    db.add(moderation)
    db.add(AuditReply(audit_id=audit.id, author_id=worker.id, text="The assessment is now complete."))
    db.add(
        AuditDueChange(
            audit_id=audit.id,
            old_due_date=date(2026, 11, 1),
            new_due_date=date(2026, 11, 15),
            reason="Case file closed during a hearing",
            changed_by_id=lead.id,
        )
    )
    db.add(SectionPartner(audit_id=audit.id, section_key="police", partner_id=partner.id, assigned_by_id=lead.id))
    db.add(
        PanelMeeting(
            audit_id=audit.id,
            held_on=date(2026, 11, 18),
            attendees=[{"agency": "police", "name": STAFF["pat.partner"]}, {"agency": "health", "name": ATTENDEE}],
            conclusion="Agreed the plan was drifting.",
            grade="requires_improvement",
            recorded_by_id=lead.id,
        )
    )
    # A second audit, started, with an answer to a question the form no longer has.
    second = make_audit(db, case=case, auditor=auditor, actor=lead, template_key="dip_sample")
    db.add(AuditAnswer(audit_id=second.id, question_key="retired_question", value="kept", updated_by_id=auditor.id))
    db.flush()

    # Recommendations with history and a theme.
    theme = Theme(name="Records request theme")
    db.add(theme)
    recommendation = Recommendation(
        text="Update the chronology",
        audit_id=audit.id,
        case_id=case.id,
        owner_id=owner.id,
        team_id=team.id,
        service_area_id=team.service_area_id,
        priority="high",
        due_date=date(2026, 12, 31),
        status="in_progress",
        raised_by_id=auditor.id,
    )
    db.add(recommendation)
    db.flush()
    db.add(RecommendationTheme(recommendation_id=recommendation.id, theme_id=theme.id))
    for action, by, note in (("raise", auditor, ""), ("start", owner, "Begun"), ("due_date", lead, "Court delay")):
        db.add(RecommendationEvent(recommendation_id=recommendation.id, action=action, note=note, actor_id=by.id))

    # A safeguarding escalation, chased to the head of service.
    escalation = Escalation(
        audit_id=audit.id,
        case_id=case.id,
        raised_by_id=auditor.id,
        recipient_id=worker.id,
        description="Unexplained bruising seen on a visit.",
    )
    db.add(escalation)
    db.flush()
    db.add(EscalationChase(escalation_id=escalation.id, step=2, recipient_ids=[hos.id]))
    db.flush()

    # What the audit trail says: a moderator's view, a summary that quotes a username, views through the pages, and
    # an event about the other child (whose ID begins with this one's).
    audit_record(
        db, actor=moderator, action="audit.view", summary=f"Viewed audit {audit.id}", entity_type="audit",
        entity_id=audit.id,
    )  # fmt: skip
    audit_record(
        db,
        actor=lead,
        action="moderation.allocate",
        summary=f"Round 1 of moderation of audit {audit.id} allocated to mo.moderator",
        entity_type="moderation",
        entity_id=moderation.id,
    )
    audit_record(db, actor=lead, action="case.view", summary=f"Viewed the case of child {other.child_id}",
                 entity_type="case", entity_id=other.id)  # fmt: skip
    login(client, "quinn.lead")
    assert client.get(f"/cases/{case.id}").status_code == 200
    assert client.get(f"/audits/{audit.id}/print").status_code == 200
    client.cookies.clear()
    db.expire_all()
    return {"case": case, "other": other, "audit": audit, "second": second, "users": users, "lead": lead}


def _collect(db, settings, child) -> dict[str, Any]:
    return records_collect(
        db,
        case=child["case"],
        produced_by=child["lead"],
        produced_at=TEST_NOW,
        today=date(2026, 11, 26),
        service_name=settings.service_name,
        timezone=settings.timezone,
    )


# --- What is collected -----------------------------------------------------------------------------------------------


def test_the_records_hold_every_row_the_database_has_about_the_child(db, settings, child):
    case = child["case"]
    records = _collect(db, settings, child)
    assert list(records) == [
        "about",
        "register",
        "imports",
        "corrections",
        "samples",
        "audits",
        "recommendations",
        "escalations",
        "access_log",
        "legal_holds",
        "people",
    ]
    json.dumps(records)  # JSON as it stands

    # The register, with the worker and manager as people.
    register = records["register"]
    assert register["child_id"] == CHILD and register["gender"] == "Female" and register["team"] == "Riverside CIN team"
    assert register["worker"]["name"] == STAFF["wendy.worker"] and register["worker_id"] == WORKER_CMS_ID
    assert register["manager"]["name"] == STAFF["manny.manager"]
    assert "worker_name" not in register and "worker_user_id" not in register

    # Imports: the last one, and the one that listed the case to close (with its problem), not the other child's.
    imports = {i["id"]: i for i in records["imports"]}
    assert imports[case.last_import_id]["how"] == ["the last import to write the case's facts"]
    assert imports[case.last_import_id]["files"] == [{"name": "register-november.csv", "sha256": "a" * 64}]
    assert imports[case.last_import_id]["imported_by"]["name"] == STAFF["quinn.lead"]
    (closing,) = [i for i in records["imports"] if i["id"] != case.last_import_id]
    assert closing["how"] == ["listed the case to close", "a problem with the child's row"]
    assert closing["problems"][0]["message"] == "Not a date"

    corrections = db.execute(select(CaseFactCorrection).where(CaseFactCorrection.case_id == case.id)).scalars().all()
    assert records["corrections"]["included"] is True
    assert [c["id"] for c in records["corrections"]["items"]] == [c.id for c in corrections]
    assert records["corrections"]["items"][0]["field"] == "missing_12m"
    assert records["corrections"]["items"][0]["corrected_by"]["name"] == STAFF["quinn.lead"]
    assert [s["cycle"] for s in records["samples"]] == ["November dip sample"]

    # Every audit, every answer, every round, reply and due date change.
    audits = db.execute(select(Audit).where(Audit.case_id == case.id)).scalars().all()
    assert {a["id"] for a in records["audits"]} == {a.id for a in audits}
    in_db = {
        (row.audit_id, row.question_key, json.dumps(row.value))
        for row in db.execute(select(AuditAnswer).where(AuditAnswer.audit_id.in_([a.id for a in audits]))).scalars()
    }
    in_records = {
        (a["id"], answer["question_key"], json.dumps(answer["value"]))
        for a in records["audits"]
        for answer in a["answers"]
    }
    assert in_records == in_db and len(in_db) >= 6  # the register's suggestions are rows too
    by_id = {a["id"]: a for a in records["audits"]}
    completed = by_id[child["audit"].id]
    explanation = next(a for a in completed["answers"] if a["question_key"] == "assessment_within_45_days__explanation")
    assert explanation["updated_by"]["name"] == STAFF["asha.auditor"] and explanation["section"]
    assert next(a for a in by_id[child["second"].id]["answers"])["question"] == "retired_question"
    assert completed["grades"]["auditor"]["overall"] == "good"
    assert completed["grades"]["final"]["overall"] == "requires_improvement"
    assert completed["grades"]["final"]["sections"] == [
        {"key": "assessment", "title": completed["grades"]["final"]["sections"][0]["title"], "grade": "inadequate",
         "label": "Inadequate"}
    ]  # fmt: skip
    assert by_id[child["second"].id]["grades"]["final"] is None
    (round_,) = completed["moderation"]
    assert round_["moderator"]["name"] == STAFF["mo.moderator"] and round_["decision"] == "accept"
    assert round_["comparison"] and round_["rationale"].startswith("Asha Auditorson")
    assert [r["text"] for r in completed["replies"]] == ["The assessment is now complete."]
    assert completed["replies"][0]["author"]["name"] == STAFF["wendy.worker"]
    assert [c["reason"] for c in completed["due_date_changes"]] == ["Case file closed during a hearing"]
    assert completed["section_partners"][0]["partner"]["name"] == STAFF["pat.partner"]
    attendees = completed["panel_meeting"]["attendees"]
    assert [a["attendee"]["name"] for a in attendees] == [STAFF["pat.partner"], ATTENDEE]
    assert attendees[0]["attendee"]["person"] == completed["section_partners"][0]["partner"]["person"]  # one person

    # Every recommendation and every event of its history.
    (recommendation,) = records["recommendations"]
    events = db.execute(select(RecommendationEvent.id)).scalars().all()
    assert {h["id"] for h in recommendation["history"]} == set(events)
    assert [h["by"]["name"] for h in recommendation["history"]] == [
        STAFF["asha.auditor"], STAFF["rowan.owner"], STAFF["quinn.lead"]
    ]  # fmt: skip
    assert (
        recommendation["themes"] == ["Records request theme"]
        and recommendation["owner"]["name"] == STAFF["rowan.owner"]
    )

    # The escalation and its chase.
    (escalation,) = records["escalations"]
    assert escalation["recipient"]["name"] == STAFF["wendy.worker"]
    assert [[p["name"] for p in c["told"]] for c in escalation["chases"]] == [[STAFF["hilda.head"]]]

    # The audit trail: the views through the pages and the moderator's, not the other child's case.
    trail = records["access_log"]
    actions = [(t["action"], t["actor"]["name"]) for t in trail]
    assert ("case.view", STAFF["quinn.lead"]) in actions
    assert ("audit.print", STAFF["quinn.lead"]) in actions
    assert ("audit.view", STAFF["mo.moderator"]) in actions
    assert ("moderation.allocate", STAFF["quinn.lead"]) in actions
    assert all(child["other"].child_id not in t["summary"] for t in trail)
    expected = db.execute(
        select(AuditEvent.id).where(AuditEvent.entity_type == "case", AuditEvent.entity_id == str(case.id))
    ).scalars()
    assert set(expected) <= {t["event_id"] for t in trail}

    # Everyone is listed once, with what they did here.
    people = {p["name"]: p for p in records["people"]}
    assert set(STAFF.values()) | {ATTENDEE} <= set(people)
    assert people[STAFF["asha.auditor"]]["roles"][0] == "auditor"
    assert "reply author" in people[STAFF["wendy.worker"]]["roles"]
    assert WORKER_CMS_ID in people[STAFF["wendy.worker"]]["also_known_as"]
    assert records["about"]["produced_by"]["name"] == STAFF["quinn.lead"]
    [hold] = records["legal_holds"]["items"]
    assert hold["reason"] == "Complaint to the Ombudsman about the plan" and hold["lifted_at"] is None
    assert hold["placed_by"]["name"] == STAFF["quinn.lead"]


# --- Redaction: a pure function of the structure ---------------------------------------------------------------------


def test_redaction_of_a_hand_made_structure():
    records = {
        "about": {
            "child_id": "C1",
            "variant": "full",
            "produced_at": "2026-11-26T12:00:00+00:00",
            "produced_by": {"person": "user-1", "name": "Quinn Lead"},
        },
        "register": {
            "child_id": "C1",
            "gender": "Female",
            "worker": {"person": "named-wendy-w", "name": "Wendy W"},
            "worker_id": "CMS-9",
        },
        "audits": [
            {
                "id": 3,
                "auditor": {"person": "user-2", "name": "Asha Smith"},
                "answers": [
                    {
                        "question_key": "notes",
                        "value": "Spoke to ASHA SMITH and CMS-9; the lead said the child (C1) is safe",
                        "updated_by": {"person": "user-2", "name": "Asha Smith"},
                        "updated_at": "2026-11-20T09:00:00+00:00",
                    }
                ],
            }
        ],
        "access_log": [
            {"actor": {"person": "user-1", "name": "Quinn Lead"}, "action": "x", "summary": "Allocated to asmith"},
            {"actor": {"person": None, "name": "system"}, "action": "y", "summary": "By lead for j.bloggs"},
        ],
        "people": [
            {"person": "named-wendy-w", "name": "Wendy W", "username": None, "also_known_as": ["CMS-9"],
             "roles": ["allocated worker"]},
            {"person": "user-2", "name": "Asha Smith", "username": "asmith", "also_known_as": [],
             "roles": ["auditor", "reply author"]},
            {"person": "user-1", "name": "Quinn Lead", "username": "lead", "also_known_as": [],
             "roles": ["produced these records"]},
            {"person": "user-3", "name": "Jo Bloggs", "username": "j.bloggs", "also_known_as": [],
             "roles": ["named in the audit trail"]},
        ],
    }  # fmt: skip
    kept = copy.deepcopy(records)
    redacted = records_redact(records)
    assert records == kept, "redaction changed what it was given"
    assert list(redacted) == list(records)
    worker, auditor = "Staff member A (allocated worker)", "Staff member B (auditor)"
    assert redacted["register"] == {
        "child_id": "C1",
        "gender": "Female",
        "worker": {"person": "staff-a", "name": worker},
        "worker_id": worker,
    }
    answer = redacted["audits"][0]["answers"][0]
    assert answer["value"] == f"Spoke to {auditor} and {worker}; the lead said the child (C1) is safe"
    assert answer["updated_by"] == redacted["audits"][0]["auditor"] == {"person": "staff-b", "name": auditor}
    assert answer["updated_at"] == "2026-11-20T09:00:00+00:00"
    assert redacted["about"]["produced_by"]["name"] == "Staff member C (produced these records)"
    assert redacted["about"]["variant"] == "redacted" and redacted["about"]["redaction"]
    # The trail's summaries quote usernames: every one goes, plain words included.
    assert redacted["access_log"][0]["summary"] == f"Allocated to {auditor}"
    assert redacted["access_log"][1] == {
        "actor": {"person": None, "name": "system"},
        "action": "y",
        "summary": "By Staff member C (produced these records) for Staff member D (named in the audit trail)",
    }
    assert redacted["people"] == [
        {"person": "staff-a", "name": worker, "roles": ["allocated worker"]},
        {"person": "staff-b", "name": auditor, "roles": ["auditor", "reply author"]},
        {"person": "staff-c", "name": "Staff member C (produced these records)", "roles": ["produced these records"]},
        {
            "person": "staff-d",
            "name": "Staff member D (named in the audit trail)",
            "roles": ["named in the audit trail"],
        },
    ]


def test_labels_run_past_z():
    from app.records.subject_access.redact import letters

    assert [letters(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"
    ]  # fmt: skip


def test_the_redacted_records_of_a_real_child_name_no_staff_and_keep_the_structure(db, settings, child):
    records = _collect(db, settings, child)
    kept = copy.deepcopy(records)
    redacted = records_redact(records)
    assert records == kept
    text = json.dumps(redacted, ensure_ascii=False)
    for username, full_name in STAFF.items():
        assert username not in text and full_name not in text, username
    assert ATTENDEE not in text and WORKER_CMS_ID not in text
    # The same structure: every section, row and person reference in place.
    assert {k: _shape(v) for k, v in redacted.items() if k not in ("about", "people")} == {
        k: _shape(v) for k, v in records.items() if k not in ("about", "people")
    }
    assert len(redacted["people"]) == len(records["people"])
    # One person, one label, everywhere.
    completed = next(a for a in redacted["audits"] if a["id"] == child["audit"].id)
    auditor = completed["auditor"]["name"]
    assert re.fullmatch(r"Staff member [A-Z]+ \(auditor\)", auditor)
    assert {a["updated_by"]["name"] for a in completed["answers"] if a["updated_by"]} == {auditor}
    assert redacted["recommendations"][0]["raised_by"]["name"] == auditor
    assert completed["moderation"][0]["rationale"] == f"{auditor} underweighted the delay."
    worker = redacted["register"]["worker"]["name"]
    assert redacted["register"]["worker_id"] == worker
    explanation = next(a for a in completed["answers"] if a["question_key"].endswith("__explanation"))
    assert explanation["value"] == f"Authorised on day 61. Discussed with {worker}."
    assert completed["replies"][0]["author"]["name"] == worker
    allocate = next(t for t in redacted["access_log"] if t["action"] == "moderation.allocate")
    assert allocate["summary"].endswith("allocated to " + completed["moderation"][0]["moderator"]["name"])
    # The child's own data stays.
    assert {k: v for k, v in redacted["register"].items() if k not in ("worker", "manager", "worker_id")} == {
        k: v for k, v in records["register"].items() if k not in ("worker", "manager", "worker_id")
    }
    assert redacted["about"]["child_id"] == CHILD and redacted["escalations"][0]["description"].startswith("Unexpl")


# --- Through the page and the API -------------------------------------------------------------------------------------


def _export_events(db, case) -> list[AuditEvent]:
    db.expire_all()
    return list(
        db.execute(
            select(AuditEvent).where(
                AuditEvent.action == "records_request.export", AuditEvent.entity_id == str(case.id)
            )
        ).scalars()
    )


def test_the_qa_lead_produces_the_full_records_from_the_page(client, db, child):
    case = child["case"]
    login(client, "quinn.lead")
    page = client.get(f"/records-requests?child_id={CHILD}")
    assert page.status_code == 200
    assert f'value="{CHILD}"' in page.text and "Produce the records" in page.text
    response = post_form(client, "/records-requests", {"child_id": CHILD.lower(), "variant": "full"})
    assert response.status_code == 200, _text(response.text)
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == f'attachment; filename="records-{CHILD}-full-2026-11-26.zip"'
    files = _unzip(response.content)
    assert set(files) == {"README.txt", "records.json", "records.pdf"}
    records = json.loads(files["records.json"])
    assert records["about"]["variant"] == "full" and records["about"]["child_id"] == CHILD
    assert {a["id"] for a in records["audits"]} == {child["audit"].id, child["second"].id}
    pdf = _pdf_text(files["records.pdf"])
    assert f"Records held about child {CHILD}" in pdf
    for name in (STAFF["asha.auditor"], STAFF["mo.moderator"], "Update the chronology", "Unexplained bruising"):
        assert name in pdf, name
    readme = files["README.txt"].decode()
    assert "Variant: full." in readme and STAFF["quinn.lead"] in readme and "26 November 2026, 12:00" in readme
    # The request is in the audit trail, with the variant and the file's SHA-256.
    (event,) = _export_events(db, case)
    assert event.entity_type == "case" and event.actor_id == child["lead"].id
    assert "full" in event.summary and CHILD in event.summary
    assert event.after["variant"] == "full"
    assert event.after["sha256"] == hashlib.sha256(response.content).hexdigest()


def test_the_redacted_records_through_the_api_name_no_staff(client, db, child):
    case = child["case"]
    headers = api_headers(client, "quinn.lead")
    full = client.post(f"/api/v1/cases/{case.id}/records-request?variant=full", headers=headers)
    response = client.post(f"/api/v1/cases/{case.id}/records-request?variant=redacted", headers=headers)
    assert full.status_code == response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert f"records-{CHILD}-redacted-2026-11-26.zip" in response.headers["content-disposition"]
    files = _unzip(response.content)
    records, pdf, readme = json.loads(files["records.json"]), _pdf_text(files["records.pdf"]), files["README.txt"]
    for text in (json.dumps(records, ensure_ascii=False), pdf, readme.decode()):
        for username, full_name in STAFF.items():
            assert username not in text and full_name not in text, (username, text[:200])
        assert ATTENDEE not in text and WORKER_CMS_ID not in text
    assert "Staff member" in pdf and CHILD in pdf and "Unexplained bruising" in pdf
    full_records = json.loads(_unzip(full.content)["records.json"])
    assert {k: _shape(v) for k, v in records.items() if k not in ("about", "people", "access_log")} == {
        k: _shape(v) for k, v in full_records.items() if k not in ("about", "people", "access_log")
    }
    # The full export made before this one is in this one's trail (as the service's own record of it).
    assert [t["action"] for t in records["access_log"]].count("records_request.export") == 1
    assert [e.after["variant"] for e in _export_events(db, case)] == ["full", "redacted"]


def test_an_unknown_or_missing_child_id_is_named_on_the_form(client, db, child):
    login(client, "quinn.lead")
    before = len(_export_events(db, child["case"]))
    response = post_form(client, "/records-requests", {"child_id": "NOSUCH99", "variant": "redacted"})
    assert response.status_code == 400
    text = _text(response.text)
    assert "There is a problem" in text
    assert "There is no child with the child ID NOSUCH99 in the register" in text
    assert 'href="#child_id"' in response.text and response.text.count('value="redacted" checked') == 1
    assert "<title>Error: Records request" in response.text
    empty = post_form(client, "/records-requests", {"child_id": " ", "variant": ""})
    assert empty.status_code == 400
    assert "Enter the child ID" in _text(empty.text)
    assert "Select which version of the records to produce" in _text(empty.text)
    assert 'href="#variant"' in empty.text
    # Another child's ID that this one begins is not this child; nor is a child ID too long to be one.
    assert post_form(client, "/records-requests", {"child_id": CHILD[:-1], "variant": "full"}).status_code == 400
    assert post_form(client, "/records-requests", {"child_id": "X" * 300, "variant": "full"}).status_code == 400
    assert len(_export_events(db, child["case"])) == before


def test_the_api_answers_bad_input_and_unknown_cases_in_its_own_way(client, db, child):
    headers = api_headers(client, "quinn.lead")
    case = child["case"]
    unknown = client.post("/api/v1/cases/999999/records-request?variant=full", headers=headers)
    assert unknown.status_code == 404 and unknown.json() == {"detail": "Case 999999 not found"}
    wrong = client.post(f"/api/v1/cases/{case.id}/records-request?variant=everything", headers=headers)
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["query", "variant"]
    missing = client.post(f"/api/v1/cases/{case.id}/records-request", headers=headers)
    assert missing.status_code == 422
    not_a_number = client.post("/api/v1/cases/abc/records-request?variant=full", headers=headers)
    assert not_a_number.status_code == 422
    assert _export_events(db, case) == []


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.QA_LEAD], ids=lambda r: r.value)
def test_no_other_role_may_produce_the_records(client, db, child, role):
    case = child["case"]
    make_user(db, username=f"only-{role.value}", roles=(role,), full_name=f"Only {role.value}")
    login(client, f"only-{role.value}")
    assert client.get("/records-requests").status_code == 403
    refused = post_form(client, "/records-requests", {"child_id": CHILD, "variant": "full"})
    assert refused.status_code == 403 and "You need the QA lead role" in _text(refused.text)
    headers = api_headers(client, f"only-{role.value}")
    api = client.post(f"/api/v1/cases/{case.id}/records-request?variant=full", headers=headers)
    assert api.status_code == 403 and "application/zip" not in api.headers["content-type"]
    assert _export_events(db, case) == []


def test_the_case_page_links_the_qa_lead_to_the_request_with_the_child_id(client, db, child):
    case = child["case"]
    login(client, "quinn.lead")
    page = client.get(f"/cases/{case.id}")
    assert f'href="/records-requests?child_id={CHILD}"' in page.text
    client.cookies.clear()
    login(client, "asha.auditor")  # may see the case (they audit it), not request its records
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200 and "/records-requests" not in page.text


def test_the_records_of_a_child_with_nothing_but_a_register_entry(client, db):
    lead = make_user(db, username="lone.lead", roles=(Role.QA_LEAD,), full_name="Lone Leader")
    make_case(db, child_id="BARE0001")
    login(client, "lone.lead")
    response = post_form(client, "/records-requests", {"child_id": "BARE0001", "variant": "redacted"})
    assert response.status_code == 200
    files = _unzip(response.content)
    records = json.loads(files["records.json"])
    assert records["audits"] == records["recommendations"] == records["escalations"] == records["imports"] == []
    assert records["people"] == [
        {"person": "staff-a", "name": "Staff member A (produced these records)", "roles": ["produced these records"]}
    ]
    pdf = _pdf_text(files["records.pdf"])
    assert "The case has not been audited." in pdf and lead.full_name not in pdf
    assert db.get(Case, db.execute(select(Case.id).where(Case.child_id == "BARE0001")).scalar_one()).child_id


def test_a_worker_the_register_names_who_also_replied_is_one_person_with_one_label(db, settings):
    from tests.factories import publish_templates

    publish_templates(db)
    lead = make_user(db, username="nina.lead", roles=(Role.QA_LEAD,), full_name="Nina Leadwell")
    auditor = make_user(db, username="otto.auditor", roles=(Role.AUDITOR,), full_name="Otto Auditwell")
    worker = make_user(db, username="nell.n", roles=(Role.PRACTITIONER,), full_name="Nell Namedonly")
    case = make_case(db, child_id="ONE0001", worker_name="Nell Namedonly")  # not mapped to her account
    audit = make_audit(db, case=case, auditor=auditor, actor=lead)
    db.add(AuditReply(audit_id=audit.id, author_id=worker.id, text="Sent as nell.n-reply.txt, see Otto Auditwell."))
    db.flush()
    records = records_collect(
        db, case=case, produced_by=lead, produced_at=TEST_NOW, today=date(2026, 11, 26),
        service_name=settings.service_name, timezone=settings.timezone,
    )  # fmt: skip
    assert records["register"]["worker"]["person"] == records["audits"][0]["replies"][0]["author"]["person"]
    redacted = records_redact(records)
    worker_label = redacted["register"]["worker"]["name"]
    assert worker_label == "Staff member A (allocated worker)"
    assert redacted["audits"][0]["replies"][0]["author"]["name"] == worker_label
    reply = redacted["audits"][0]["replies"][0]["text"]
    assert reply == f"Sent as {worker_label}-reply.txt, see {redacted['audits'][0]['auditor']['name']}."
    assert [p["roles"][0] for p in redacted["people"]] == ["allocated worker", "auditor", "produced these records"]
