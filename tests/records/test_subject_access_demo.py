"""A records request for a child of the demo (a year of audits, moderation and recommendations), checked against the
database: every audit, answer, moderation round, recommendation and its history, and every trail event about the
child, in the ZIP's JSON; the PDF and the trail event are there too."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.accounts.models import User
from app.audit_trail.models import AuditEvent
from app.audit_trail.service import commit_and_link
from app.audits.models import Audit, AuditAnswer
from app.cases.models import Case
from app.cli import alembic_upgrade
from app.db import make_engine
from app.moderation.models import Moderation
from app.recommendations.models import Recommendation, RecommendationEvent
from app.records.subject_access.service import records_request_produce
from tests.conftest import fresh_database_url, make_test_settings
from tests.test_demo_completed import load_demo


def test_a_demo_childs_records_match_the_database(pytestconfig, tmp_path) -> None:
    url = fresh_database_url(pytestconfig, tmp_path, "records_demo")
    alembic_upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as db:
            load_demo(db)
            commit_and_link(db)
            lead = db.execute(select(User).where(User.username == "qa.lead")).unique().scalar_one()
            # a demo child with a moderated audit, and the most recommendations among those
            moderated = select(Audit.case_id).join(Moderation, col(Moderation.audit_id) == Audit.id)
            case_id = db.execute(
                select(Audit.case_id)
                .outerjoin(Recommendation, col(Recommendation.case_id) == Audit.case_id)
                .where(col(Audit.case_id).in_(moderated))
                .group_by(Audit.case_id)
                .order_by(func.count(Recommendation.id).desc(), Audit.case_id)
                .limit(1)
            ).scalar_one()
            case = db.get(Case, case_id)
            settings = make_test_settings(url)

            produced = records_request_produce(db, case=case, variant="full", actor=lead, settings=settings)
            commit_and_link(db)

            files = zipfile.ZipFile(io.BytesIO(produced.content))
            assert sorted(files.namelist()) == ["README.txt", "records.json", "records.pdf"]
            assert files.read("records.pdf").startswith(b"%PDF")
            records = json.loads(files.read("records.json"))
            assert records["register"]["child_id"] == case.child_id

            audits = db.execute(select(Audit).where(Audit.case_id == case_id)).scalars().all()
            assert sorted(a["id"] for a in records["audits"]) == sorted(a.id for a in audits)
            for audit in audits:
                got = next(a for a in records["audits"] if a["id"] == audit.id)
                answers = db.execute(select(AuditAnswer).where(AuditAnswer.audit_id == audit.id)).scalars().all()
                assert {(x["question_key"], json.dumps(x["value"])) for x in got["answers"]} == {
                    (x.question_key, json.dumps(x.value)) for x in answers
                }
                rounds = db.execute(select(Moderation.id).where(Moderation.audit_id == audit.id)).scalars().all()
                assert sorted(m["id"] for m in got["moderation"]) == sorted(rounds)
            recs = db.execute(select(Recommendation).where(Recommendation.case_id == case_id)).scalars().all()
            assert recs and sorted(r["id"] for r in records["recommendations"]) == sorted(r.id for r in recs)
            for rec in recs:
                history = db.execute(
                    select(RecommendationEvent.id).where(RecommendationEvent.recommendation_id == rec.id)
                ).scalars()
                got = next(r for r in records["recommendations"] if r["id"] == rec.id)
                assert sorted(h["id"] for h in got["history"]) == sorted(history)
            exported = db.execute(
                select(AuditEvent).where(
                    AuditEvent.action == "records_request.export", AuditEvent.entity_id == str(case_id)
                )
            ).scalar_one()
            assert exported.after["sha256"] == produced.sha256 and exported.actor_id == lead.id
    finally:
        engine.dispose()
