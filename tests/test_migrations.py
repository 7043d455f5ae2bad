"""The Alembic history: one head, upgrades cleanly, matches the models, and downgrades all the way back.

pytest-alembic's own collector is switched off in pyproject.toml (it breaks on pytest 9), so its
built-in tests are imported here and run against a fresh database of their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.config import Config
from pytest_alembic.tests import (  # noqa: F401  (collected by pytest from this module)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DatabaseError

from app.config import PROJECT_DIR
from app.db import make_engine
from tests.conftest import fresh_database_url

APP_TABLES = {
    "app_user",
    "audit_chain_head",
    "audit_event",
    "auth_token",
    "login_attempt",
    "service_area",
    "team",
    "training_record",
    "user_role",
}


@pytest.fixture
def alembic_config() -> Config:
    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.attributes["configure_logging"] = False
    return config


@pytest.fixture
def migrations_engine(pytestconfig, tmp_path) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url(pytestconfig, tmp_path, "migrations"))
    yield engine
    engine.dispose()


@pytest.fixture
def alembic_engine(migrations_engine) -> Iterator[Connection]:
    """What pytest-alembic migrates through.

    A connection on the fresh database's engine rather than the engine itself: pytest-alembic hands
    this object to env.py as `config.attributes["connection"]`, and env.py only accepts a Connection
    there (given an Engine, alembic's configure() refuses it).
    """
    with migrations_engine.connect() as connection:
        yield connection


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_upgrade_to_head_then_downgrade_to_base_leaves_no_tables(alembic_config, migrations_engine):
    with migrations_engine.begin() as connection:
        alembic_config.attributes["connection"] = connection
        command.upgrade(alembic_config, "head")
    assert _tables(migrations_engine) >= APP_TABLES

    with migrations_engine.begin() as connection:
        alembic_config.attributes["connection"] = connection
        command.downgrade(alembic_config, "base")
    assert _tables(migrations_engine) - {"alembic_version"} == set()

    with migrations_engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            leftovers = connection.execute(
                text(
                    "SELECT proname FROM pg_proc JOIN pg_namespace n ON n.oid = pronamespace "
                    "WHERE nspname = current_schema() AND proname = 'audit_event_append_only'"
                )
            ).all()
        else:
            leftovers = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
    assert leftovers == [], "the append-only trigger (and its function) are dropped too"


def test_upgrade_starts_the_chain_and_makes_the_trail_append_only(alembic_config, migrations_engine):
    with migrations_engine.begin() as connection:
        alembic_config.attributes["connection"] = connection
        command.upgrade(alembic_config, "head")
    with migrations_engine.begin() as connection:
        head = connection.execute(text("SELECT id, last_seq, last_hash FROM audit_chain_head")).one()
        assert tuple(head) == (1, 0, "0" * 64)
        connection.execute(
            text(
                "INSERT INTO audit_event (seq, occurred_at, actor_label, action, summary, prev_hash, hash) "
                "VALUES (1, CURRENT_TIMESTAMP, 'system', 'test', 'x', :zero, :zero)"
            ),
            {"zero": "0" * 64},
        )
    for statement in ("UPDATE audit_event SET summary = 'y'", "DELETE FROM audit_event"):
        with pytest.raises(DatabaseError, match="audit_event is append-only"):
            with migrations_engine.begin() as connection:
                connection.execute(text(statement))
    if migrations_engine.dialect.name == "postgresql":
        with pytest.raises(DatabaseError, match="audit_event is append-only"):
            with migrations_engine.begin() as connection:
                connection.execute(text("TRUNCATE audit_event"))
    with migrations_engine.connect() as connection:
        assert connection.execute(text("SELECT summary FROM audit_event")).scalar_one() == "x"


def test_cases_left_in_a_moved_teams_old_area_are_put_back_in_the_teams_area(alembic_config, migrations_engine):
    """Before app.flows.teams, moving a team left its cases in the old service area; the migration repairs them."""
    from sqlmodel import Session

    from app.accounts.models import ServiceArea, Team
    from app.cases.models import Case

    with migrations_engine.begin() as connection:
        alembic_config.attributes["connection"] = connection
        command.upgrade(alembic_config, "head")
    with Session(migrations_engine) as session:
        old, new = ServiceArea(name="Safeguarding"), ServiceArea(name="Children in Care")
        session.add_all([old, new])
        session.flush()
        team = Team(name="Moved team", service_area_id=new.id)
        session.add(team)
        session.flush()
        left_behind = Case(
            child_id="LEFT0001",
            source="csv",
            source_lists=["csv"],
            case_type="cin",
            status="open",
            facts_hash="0" * 64,
            team_id=team.id,
            service_area_id=old.id,
        )
        no_team = Case(
            child_id="NOTEAM01",
            source="csv",
            source_lists=["csv"],
            case_type="cin",
            status="open",
            facts_hash="1" * 64,
            service_area_id=old.id,
        )
        session.add_all([left_behind, no_team])
        session.commit()
        ids = (left_behind.id, no_team.id, old.id, new.id)

    with migrations_engine.begin() as connection:
        alembic_config.attributes["connection"] = connection
        command.downgrade(alembic_config, "3b8e1f0c2d47")
        command.upgrade(alembic_config, "head")
    with migrations_engine.connect() as connection:
        areas = dict(connection.execute(text("SELECT id, service_area_id FROM child_case")).all())
    left_id, no_team_id, old_id, new_id = ids
    assert areas == {left_id: new_id, no_team_id: old_id}  # a case with no team keeps the area it has


def test_grades_invented_for_dip_samples_are_cleared(alembic_config, migrations_engine):
    """Before dip samples were moderated on their answers, accepting one gave it an overall grade its template does
    not have (counted in the grade figures); the migration clears those, and only those."""
    from sqlmodel import Session

    from app.accounts.roles import Role
    from tests.factories import make_audit, make_case, make_user, publish_templates

    with migrations_engine.begin() as connection:
        alembic_config.attributes["connection"] = connection
        command.upgrade(alembic_config, "head")
    with Session(migrations_engine) as session:
        publish_templates(session)
        auditor = make_user(session, username="asha", roles=(Role.AUDITOR,))
        dip = make_audit(session, case=make_case(session), auditor=auditor, template_key="dip_sample")
        full = make_audit(session, case=make_case(session), auditor=auditor, template_key="case_file_audit")
        for audit in (dip, full):
            audit.status, audit.final_grade = "completed", "good"
            session.add(audit)
        session.commit()
        ids = (dip.id, full.id)

    with migrations_engine.begin() as connection:
        alembic_config.attributes["connection"] = connection
        command.downgrade(alembic_config, "e5c0b8d2a917")
        command.upgrade(alembic_config, "head")
    with migrations_engine.connect() as connection:
        grades = dict(connection.execute(text("SELECT id, final_grade FROM audit")).all())
    assert grades == {ids[0]: None, ids[1]: "good"}


def test_migration_files_sort_in_chain_order():
    """A newcomer reading migrations/versions top to bottom reads the chain from the first revision to the head
    (file names carry the date and a time: alembic.ini's file_template)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(Config(str(PROJECT_DIR / "alembic.ini")))
    chain = [s.path.rsplit("/", 1)[-1] for s in reversed(list(scripts.walk_revisions()))]
    assert chain == sorted(chain)
    assert len(chain) == len(set(chain)) and chain[0].endswith("accounts_and_audit_trail.py")


def test_the_managers_of_teams_are_given_the_team_manager_role(alembic_config, migrations_engine):
    """Team managers held the practitioner role before the team manager role decided who reads their team's audits;
    the migration gives it to every active manager of a team, and to no one else."""
    from sqlmodel import Session

    from app.accounts.roles import Role
    from tests.factories import make_team, make_user

    with migrations_engine.begin() as connection:
        alembic_config.attributes["connection"] = connection
        command.upgrade(alembic_config, "c9f5a1b3e6d0")
        command.upgrade(alembic_config, "head")
    with Session(migrations_engine) as session:
        team, gone = make_team(session, name="Team A"), make_team(session, name="Team B")
        manager = make_user(session, username="sana", roles=(Role.PRACTITIONER,), team=team)
        left = make_user(session, username="left", roles=(Role.PRACTITIONER,), active=False)
        worker = make_user(session, username="wes", roles=(Role.PRACTITIONER,), team=team)
        team.manager_id, gone.manager_id = manager.id, left.id
        session.add_all([team, gone])
        session.commit()
        ids = {"sana": manager.id, "left": left.id, "wes": worker.id}

    with migrations_engine.begin() as connection:
        alembic_config.attributes["connection"] = connection
        command.downgrade(alembic_config, "c9f5a1b3e6d0")
        command.upgrade(alembic_config, "head")
    with migrations_engine.connect() as connection:
        rows = connection.execute(text("SELECT user_id, role FROM user_role")).all()
    roles = {name: {role for user_id, role in rows if user_id == i} for name, i in ids.items()}
    assert roles == {"sana": {"practitioner", "team_manager"}, "left": {"practitioner"}, "wes": {"practitioner"}}
