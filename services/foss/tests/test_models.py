"""The foss table as the models declare it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from conftest import add_foss
from foss.models import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, Foss

TABLE = Foss.__table__


def test_declare_foss_columns() -> None:
    assert [column.name for column in TABLE.columns] == [
        "id",
        "name",
        "email",
        "license",
        "created_at",
        "updated_at",
    ]
    assert [column.name for column in TABLE.primary_key] == ["id"]
    assert [column.name for column in TABLE.columns if column.nullable] == ["license"]
    assert [index.name for index in TABLE.indexes] == ["ix_foss_license"]


def test_declare_foss_string_lengths() -> None:
    assert TABLE.c.name.type.length == NAME_MAX_LENGTH == 200
    assert TABLE.c.email.type.length == EMAIL_MAX_LENGTH == 320


def test_declare_foss_unique_email() -> None:
    uniques = [c for c in TABLE.constraints if isinstance(c, sa.UniqueConstraint)]
    assert [(c.name, [column.name for column in c.columns]) for c in uniques] == [
        ("uq_foss_email", ["email"])
    ]


@pytest.mark.parametrize("name", ["created_at", "updated_at"])
def test_declare_foss_server_timestamps(name: str) -> None:
    column = TABLE.c[name]
    assert column.server_default is not None
    assert column.type.impl.timezone is True


def test_insert_foss_timestamps_from_server(db_session: Session) -> None:
    db_session.execute(sa.text("INSERT INTO foss (name, email) VALUES ('Ada', 'ada@example.org')"))
    foss = db_session.scalars(sa.select(Foss).where(Foss.email == "ada@example.org")).one()
    assert foss.created_at.tzinfo == UTC
    assert foss.updated_at.tzinfo == UTC


def test_insert_foss_duplicate_email(db_session: Session) -> None:
    db_session.add_all([Foss(name="Ada", email="a@x.org"), Foss(name="Bob", email="a@x.org")])
    with pytest.raises(sa.exc.IntegrityError):
        db_session.flush()


def test_update_foss_moves_updated_at(db_session: Session) -> None:
    foss = add_foss(db_session)
    before = foss.updated_at
    foss.name = "Renamed"
    db_session.flush()
    db_session.expire(foss)
    assert foss.updated_at > before
    assert foss.created_at <= before


def test_read_foss_timestamps_in_utc(db_session: Session) -> None:
    foss = add_foss(db_session)
    db_session.expire(foss)
    assert foss.created_at.tzinfo == UTC
    assert abs(datetime.now(UTC) - foss.created_at).total_seconds() < 60


def test_serialize_foss_to_dict(db_session: Session) -> None:
    foss = add_foss(db_session, name="Ada", email="ada@example.org")
    data = foss.to_dict()
    assert data == {
        "id": foss.id,
        "name": "Ada",
        "email": "ada@example.org",
        "license": None,
        "created_at": foss.created_at,
        "updated_at": foss.updated_at,
    }
    assert foss.to_dict(only=("id", "name")) == {"id": foss.id, "name": "Ada"}
    assert foss.to_dict(exclude=("created_at", "updated_at", "license")).keys() == {
        "id",
        "name",
        "email",
    }


def test_serialize_foss_unknown_column(db_session: Session) -> None:
    with pytest.raises(ValueError, match="password"):
        add_foss(db_session).to_dict(only=("password",))
