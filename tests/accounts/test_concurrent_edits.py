"""Two people save the same user (or team) at once, both from a form read at the same version: one change is
kept, the other is refused with Conflict, and nothing is overwritten silently.

Real connections and transactions on a database of the test's own (each edit commits). On PostgreSQL the second
edit reads the row at the old version while the first is still open, then waits on the row lock; the version claim
(UPDATE ... WHERE version = :read, app.db.claim_version) then matches nothing. Comparing the version in Python and
writing `version + 1` afterwards let both pass there. On SQLite the second transaction waits at BEGIN instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app.accounts import service
from app.accounts.models import Team, User
from app.accounts.schemas import TeamUpdate, UserUpdate
from app.cli import alembic_upgrade
from app.db import make_engine
from app.errors import Conflict
from tests.conftest import fresh_database_url, using_postgres
from tests.factories import make_team, make_user


@pytest.fixture
def own_engine(pytestconfig, tmp_path) -> Iterator[Engine]:
    url = fresh_database_url(pytestconfig, tmp_path, "concurrent_edits")
    alembic_upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _edit_user(session: Session, row_id: int, version: int, name: str) -> None:
    user = session.get(User, row_id)
    assert user is not None
    service.user_update(session, user=user, data=UserUpdate(version=version, full_name=name), actor=None)


def _edit_team(session: Session, row_id: int, version: int, name: str) -> None:
    team = session.get(Team, row_id)
    assert team is not None
    service.team_update(session, team=team, data=TeamUpdate(version=version, name=name), actor=None)


@pytest.mark.parametrize(
    ("model", "edit"),
    [(User, _edit_user), (Team, _edit_team)],
    ids=["user", "team"],
)
def test_two_edits_from_the_same_version_one_wins_one_is_refused(
    pytestconfig, own_engine: Engine, model: type[User] | type[Team], edit: Callable[[Session, int, int, str], None]
):
    engine = own_engine
    with Session(engine) as setup:
        row: User | Team = (
            make_user(setup, username="asha", full_name="Asha Patel")
            if model is User
            else make_team(setup, name="Team One")
        )
        row_id, version = row.id, row.version
        setup.commit()

    first = Session(engine)
    edit(first, row_id, version, "First Editor")  # claimed, not yet committed
    seen: list[int] = []
    outcome: list[str] = []

    def second_editor() -> None:
        with Session(engine) as session:
            stored = session.get(model, row_id)
            assert stored is not None
            seen.append(stored.version)
            try:
                edit(session, row_id, version, "Second Editor")
                session.commit()
                outcome.append("saved")
            except Conflict:
                session.rollback()
                outcome.append("refused")

    thread = threading.Thread(target=second_editor)
    try:
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive(), "the second edit did not wait for the first"
        first.commit()
    finally:
        first.close()
        thread.join(timeout=30)
    assert not thread.is_alive()

    assert outcome == ["refused"]
    if using_postgres(pytestconfig):
        assert seen == [version], "the second editor should have read the row before the first committed"
    with Session(engine) as session:
        stored = session.get(model, row_id)
        assert stored is not None
        name = stored.full_name if isinstance(stored, User) else stored.name
        assert (name, stored.version) == ("First Editor", version + 1)


def test_many_edits_at_once_from_the_same_version_exactly_one_is_kept(own_engine: Engine):
    engine = own_engine
    with Session(engine) as setup:
        user = make_user(setup, username="asha", full_name="Asha Patel")
        user_id, version = user.id, user.version
        setup.commit()
    editors = 6
    start = threading.Barrier(editors)
    results: dict[str, str] = {}

    def editor(name: str) -> None:
        start.wait(timeout=30)
        with Session(engine) as session:
            try:
                _edit_user(session, user_id, version, name)
                session.commit()
                results[name] = "saved"
            except Conflict:
                session.rollback()
                results[name] = "refused"

    threads = [threading.Thread(target=editor, args=(f"Editor {n}",)) for n in range(editors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    saved = [name for name, result in results.items() if result == "saved"]
    assert len(results) == editors and len(saved) == 1
    with Session(engine) as session:
        stored = session.get(User, user_id)
        assert stored is not None
        assert (stored.full_name, stored.version) == (saved[0], version + 1)
