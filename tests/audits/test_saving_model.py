"""A model of saving answers, checked against the app: two or three clients (tabs) save random answers to one audit in
random interleavings, through the service, the JSON API and the form's autosave, and no accepted answer is ever lost
or overwritten by a client that had not seen it.

The model: each client knows, per question, the answer it was shown and the audit version it read it at. A save that
changes a question is accepted unless someone changed that question after the version the client read it at; an
accepted save moves the audit's version on and is the question's answer until another accepted save changes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import select

from app.audits import service
from app.audits.models import Audit, AuditAnswer
from app.errors import Conflict
from app.flows import audits as audit_flows
from tests.factories import api_headers, csrf_token, login, make_audit

QUESTIONS = ("chronology_up_to_date", "oversight_last_month", "child_voice_recorded")
VALUES = ("yes", "no", "na", None)
MACHINE_SETTINGS = settings(
    max_examples=12,
    stateful_step_count=18,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Client:
    """A tab: what it was shown of each question, and at which version."""

    shown: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(QUESTIONS))
    base: dict[str, int] = field(default_factory=lambda: dict.fromkeys(QUESTIONS, 1))


class Transport:
    """How a client's save reaches the app: returns "saved", "conflict" or "same" (nothing to save)."""

    per_question = True  # each question judged against the version it was read at (else: one version per save)

    def __init__(self, db, client, people) -> None:
        self.db, self.http, self.people = db, client, people

    def save(self, audit: Audit, changes: dict[str, Any], tab: Client) -> tuple[str, int]:
        raise NotImplementedError


class ServiceTransport(Transport):
    def save(self, audit, changes, tab):
        before = audit.version
        try:
            audit_flows.audit_answers_save(
                self.db,
                audit=audit,
                version=min(tab.base[k] for k in changes),
                based_on={k: tab.base[k] for k in changes},
                answers=changes,
                actor=self.people.auditor,
            )
        except Conflict:
            return "conflict", audit.version
        return ("saved" if audit.version > before else "same"), audit.version


class ApiTransport(Transport):
    """The JSON API has one version per save: the oldest of the questions sent."""

    per_question = False

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.headers = api_headers(self.http, "auditor")

    def save(self, audit, changes, tab):
        self.db.refresh(audit)
        before = audit.version
        response = self.http.put(
            f"/api/v1/audits/{audit.id}/answers",
            headers=self.headers,
            json={"version": min(tab.base[k] for k in changes), "answers": changes},
        )
        if response.status_code == 409:
            assert {c["question"] for c in response.json()["conflicts"]} <= set(changes)
            return "conflict", response.json()["version"]
        assert response.status_code == 200, response.text
        version = response.json()["version"]
        return ("saved" if version > before else "same"), version


class FormTransport(Transport):
    """The section page's autosave, as app-autosave.js sends it: each question with what it was shown and when."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        login(self.http, "auditor")

    def save(self, audit, changes, tab):
        self.db.refresh(audit)
        before = audit.version
        data: dict[str, Any] = {"_version": str(min(tab.base.values())), "_shown": list(changes)}
        for key, value in changes.items():
            if value is not None:
                data[key] = value
            data[f"_was-{key}"] = json.dumps(tab.shown[key])
            data[f"_base-{key}"] = str(tab.base[key])
        response = self.http.post(
            f"/audits/{audit.id}/sections/compliance/autosave",
            data=data,
            headers={"HX-Request": "true", "X-CSRF-Token": csrf_token(self.http)},
        )
        self.db.expire_all()
        self.db.refresh(audit)
        if response.status_code == 409:
            assert "also changed by someone else" in response.text
            return "conflict", audit.version
        assert response.status_code == 200, response.text
        return ("saved" if audit.version > before else "same"), audit.version


def _stored(db, audit) -> dict[str, Any]:
    db.expire_all()
    rows = db.execute(select(AuditAnswer).where(AuditAnswer.audit_id == audit.id)).scalars()
    found = {row.question_key: row.value for row in rows}
    return {key: found.get(key) for key in QUESTIONS}


def machine(db, transport: Transport, audit_factory):
    class Saving(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.audit = audit_factory()
            self.version = 1
            self.truth: dict[str, Any] = dict.fromkeys(QUESTIONS)
            self.changed_in: dict[str, int] = dict.fromkeys(QUESTIONS, 0)
            self.tabs = [Client() for _ in range(3)]

        @rule(
            tab=st.integers(0, 2),
            changes=st.dictionaries(st.sampled_from(QUESTIONS), st.sampled_from(VALUES), min_size=1, max_size=2),
        )
        def save(self, tab: int, changes: dict[str, Any]) -> None:
            client = self.tabs[tab]
            changes = {k: v for k, v in changes.items() if v != client.shown[k]}  # the client sends what it changed
            if not changes:
                return
            really = {k: v for k, v in changes.items() if v != self.truth[k]}
            oldest = min(client.base[k] for k in changes)
            read_at = {k: client.base[k] if transport.per_question else oldest for k in changes}
            stale = [k for k in really if self.changed_in[k] > read_at[k]]
            outcome, version = transport.save(self.audit, changes, client)
            if stale:
                assert outcome == "conflict", (changes, stale, outcome)
                return  # nothing saved; the tab keeps what it was shown (it never adopts the version silently)
            assert outcome == ("saved" if really else "same"), (changes, really, outcome)
            if really:
                self.version += 1
                for key, value in really.items():
                    self.truth[key] = value
                    self.changed_in[key] = self.version
            assert version == self.version
            for key, value in changes.items():
                client.shown[key], client.base[key] = value, self.version

        @rule(tab=st.integers(0, 2))
        def reload(self, tab: int) -> None:
            client = self.tabs[tab]
            client.shown = dict(self.truth)
            client.base = dict.fromkeys(QUESTIONS, self.version)

        @precondition(lambda self: any(v is not None for v in self.truth.values()))
        @rule(tab=st.integers(0, 2), key=st.sampled_from(QUESTIONS))
        def take_the_saved_answer(self, tab: int, key: str) -> None:
            """After a refused save the auditor may use the saved answer: the tab now knows it, as of now."""
            self.tabs[tab].shown[key] = self.truth[key]
            self.tabs[tab].base[key] = self.version

        @invariant()
        def nothing_accepted_is_lost(self) -> None:
            assert _stored(db, self.audit) == self.truth
            db.refresh(self.audit)
            assert self.audit.version == self.version

    return Saving


@pytest.fixture
def new_audit(db, templates, people, case):
    return lambda: make_audit(db, case=case, auditor=people.auditor, actor=people.lead)


@pytest.mark.parametrize("kind", [ServiceTransport, ApiTransport, FormTransport], ids=["service", "api", "form"])
def test_no_accepted_answer_is_lost_or_overwritten_by_a_stale_client(db, client, people, new_audit, kind):
    transport = kind(db, client, people)
    run_state_machine_as_test(machine(db, transport, new_audit), settings=MACHINE_SETTINGS)


def test_saves_of_different_questions_from_one_old_version_both_succeed(db, people, new_audit):
    audit = new_audit()
    audit_flows.audit_answers_save(
        db, audit=audit, version=1, answers={"chronology_up_to_date": "yes"}, actor=people.auditor
    )
    audit_flows.audit_answers_save(
        db, audit=audit, version=1, answers={"oversight_last_month": "no"}, actor=people.auditor
    )
    assert audit.version == 3
    assert _stored(db, audit) == {
        "chronology_up_to_date": "yes",
        "oversight_last_month": "no",
        "child_voice_recorded": None,
    }


def test_a_version_the_audit_never_had_is_refused(db, people, new_audit):
    audit = new_audit()
    with pytest.raises(Conflict, match="has no version 9"):
        audit_flows.audit_answers_save(
            db, audit=audit, version=9, answers={"chronology_up_to_date": "yes"}, actor=people.auditor
        )
    assert _stored(db, audit)["chronology_up_to_date"] is None


@pytest.mark.parametrize(
    ("question", "expected"),
    [("oversight_last_month", "saved"), ("chronology_up_to_date", "refused")],
    ids=["another-question", "the-same-question"],
)
def test_two_saves_at_once_are_judged_one_after_the_other(pytestconfig, tmp_path, question, expected):
    """Tab A's save is still in its transaction when tab B, which read the same version, saves: B waits for A (the
    audit row is locked before anything is compared), then saves another question, or is refused for the same one
    (listing the difference), never overwriting A's answer."""
    import threading

    from sqlmodel import Session

    from app.accounts.models import User
    from app.accounts.roles import Role
    from app.cli import alembic_upgrade
    from app.db import make_engine
    from tests.conftest import fresh_database_url
    from tests.factories import make_case, make_user, publish_templates

    url = fresh_database_url(pytestconfig, tmp_path, "answer_lock")
    alembic_upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as setup:
            publish_templates(setup)
            lead = make_user(setup, username="lead", roles=(Role.QA_LEAD,))
            auditor = make_user(setup, username="auditor", roles=(Role.AUDITOR,))
            audit_id = make_audit(setup, case=make_case(setup, child_id="LOCK0001"), auditor=auditor, actor=lead).id
            auditor_id = auditor.id
            setup.commit()
        first = Session(engine)
        audit = first.get(Audit, audit_id)
        actor = first.get(User, auditor_id)
        audit_flows.audit_answers_save(
            first, audit=audit, version=1, answers={"chronology_up_to_date": "yes"}, actor=actor
        )
        outcome: list[str] = []

        def second_tab() -> None:
            with Session(engine) as session:
                other = session.get(Audit, audit_id)
                try:
                    audit_flows.audit_answers_save(
                        session,
                        audit=other,
                        version=1,
                        answers={question: "no"},
                        actor=session.get(User, auditor_id),
                    )
                    session.commit()
                    outcome.append("saved")
                except service.AnswersConflict as exc:
                    outcome.append("refused" if [d.key for d in exc.differences] == [question] else "?")
                except Conflict:
                    outcome.append("refused without the differences")

        thread = threading.Thread(target=second_tab)
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive(), "the second save did not wait for the first"
        first.commit()
        first.close()
        thread.join(timeout=30)
        assert outcome == [expected]
        with Session(engine) as session:
            answers = _stored(session, session.get(Audit, audit_id))
            assert answers["chronology_up_to_date"] == "yes"
            assert answers["oversight_last_month"] == ("no" if expected == "saved" else None)
    finally:
        engine.dispose()
