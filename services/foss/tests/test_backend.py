"""Persistence of foss records, against the test's database transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from conftest import add_foss
from flusk_common import Conflict
from foss import backend
from foss.models import Foss


@pytest.fixture
def own_session(flusk_engine: sa.Engine) -> Iterator[Session]:
    """A session on a connection of its own, outside the test's transaction."""
    with Session(flusk_engine) as session:
        yield session
        session.rollback()


def test_create_foss(db_session: Session) -> None:
    foss = backend.create(session=db_session, name="Ada", email="ada@example.org")
    assert foss.id is not None
    assert db_session.scalars(sa.select(Foss.email).where(Foss.id == foss.id)).one() == (
        "ada@example.org"
    )


def test_create_foss_flushes_without_commit(own_session: Session) -> None:
    foss = backend.create(session=own_session, name="Ada", email="uncommitted@example.org")
    assert own_session.in_transaction()
    own_session.rollback()
    assert own_session.get(Foss, foss.id) is None


def test_create_foss_duplicate_email(db_session: Session) -> None:
    add_foss(db_session, email="ada@example.org")
    with pytest.raises(Conflict) as caught:
        add_foss(db_session, email="ada@example.org")
    assert [error.pointer for error in caught.value.errors] == ["/email"]


def test_get_foss(db_session: Session) -> None:
    foss = add_foss(db_session)
    assert backend.get(session=db_session, foss_id=foss.id) is foss


def test_get_foss_unknown(db_session: Session) -> None:
    assert backend.get(session=db_session, foss_id=1_000_000) is None


def test_get_page_foss(db_session: Session) -> None:
    ids = [add_foss(db_session).id for _ in range(3)]
    first = backend.get_page(session=db_session, limit=2, after=None)
    assert [foss.id for foss in first.items] == ids[:2]
    assert first.next_key == ids[1]
    last = backend.get_page(session=db_session, limit=2, after=first.next_key)
    assert [foss.id for foss in last.items] == ids[2:]
    assert last.next_key is None


def test_get_page_foss_exact_fit(db_session: Session) -> None:
    ids = [add_foss(db_session).id for _ in range(2)]
    page = backend.get_page(session=db_session, limit=2, after=None)
    assert [foss.id for foss in page.items] == ids
    assert page.next_key is None


def test_update_foss(db_session: Session) -> None:
    foss = add_foss(db_session, name="Ada", email="ada@example.org")
    backend.update(session=db_session, foss=foss, changes={"name": "Grace"})
    db_session.expire(foss)
    assert (foss.name, foss.email) == ("Grace", "ada@example.org")


def test_update_foss_duplicate_email(db_session: Session) -> None:
    add_foss(db_session, email="ada@example.org")
    other = add_foss(db_session)
    with pytest.raises(Conflict):
        backend.update(session=db_session, foss=other, changes={"email": "ada@example.org"})


def test_delete_foss(db_session: Session) -> None:
    foss = add_foss(db_session)
    backend.delete(session=db_session, foss=foss)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Foss)) == 0
