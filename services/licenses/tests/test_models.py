"""The licenses table as the models declare it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from conftest import add_license
from licenses.models import (
    NAME_MAX_LENGTH,
    SPDX_ID_MAX_LENGTH,
    SPDX_ID_PATTERN,
    URL_MAX_LENGTH,
    License,
)

TABLE = License.__table__


def test_declare_license_columns() -> None:
    assert [column.name for column in TABLE.columns] == [
        "spdx_id",
        "name",
        "osi_approved",
        "url",
        "created_at",
        "updated_at",
    ]
    assert [column.name for column in TABLE.primary_key] == ["spdx_id"]
    assert [column.name for column in TABLE.columns if column.nullable] == ["url"]


def test_declare_license_string_lengths() -> None:
    assert TABLE.c.spdx_id.type.length == SPDX_ID_MAX_LENGTH == 64
    assert TABLE.c.name.type.length == NAME_MAX_LENGTH == 200
    assert TABLE.c.url.type.length == URL_MAX_LENGTH == 500


def test_declare_license_no_other_constraints() -> None:
    assert [type(c).__name__ for c in TABLE.constraints] == ["PrimaryKeyConstraint"]
    assert TABLE.primary_key.name == "pk_licenses"


def test_declare_license_osi_approved_default() -> None:
    column = TABLE.c.osi_approved
    assert isinstance(column.type, sa.Boolean)
    assert column.default is not None
    assert column.default.arg is False


@pytest.mark.parametrize("name", ["created_at", "updated_at"])
def test_declare_license_server_timestamps(name: str) -> None:
    column = TABLE.c[name]
    assert column.server_default is not None
    assert column.type.impl.timezone is True


@pytest.mark.parametrize(
    "spdx_id", ["MIT", "0BSD", "Apache-2.0", "GPL-2.0+", "LicenseRef-x.y", "a" * 64]
)
def test_match_license_spdx_id(spdx_id: str) -> None:
    assert SPDX_ID_PATTERN.fullmatch(spdx_id)


@pytest.mark.parametrize(
    "spdx_id", ["", "-MIT", ".MIT", "+", "Apache 2.0", "MIT\n", "GPL/2", "é", "a" * 65]
)
def test_match_license_spdx_id_invalid(spdx_id: str) -> None:
    assert SPDX_ID_PATTERN.fullmatch(spdx_id) is None


def test_insert_license_defaults(db_session: Session) -> None:
    db_session.add(License(spdx_id="MIT", name="MIT License"))
    db_session.flush()
    db_session.expire_all()
    license_ = db_session.get(License, "MIT")
    assert license_ is not None
    assert (license_.osi_approved, license_.url) == (False, None)


def test_insert_license_timestamps_from_server(db_session: Session) -> None:
    db_session.execute(
        sa.text(
            "INSERT INTO licenses (spdx_id, name, osi_approved) VALUES ('ISC', 'ISC License', true)"
        )
    )
    license_ = db_session.scalars(sa.select(License).where(License.spdx_id == "ISC")).one()
    assert license_.osi_approved is True
    assert license_.created_at.tzinfo == UTC
    assert license_.updated_at.tzinfo == UTC


def test_insert_license_duplicate_spdx_id(db_session: Session) -> None:
    insert = sa.text(
        "INSERT INTO licenses (spdx_id, name, osi_approved) VALUES (:id, :name, false)"
    )
    db_session.execute(insert, {"id": "MIT", "name": "MIT License"})
    with pytest.raises(sa.exc.IntegrityError):
        db_session.execute(insert, {"id": "MIT", "name": "Another"})


def test_update_license_moves_updated_at(db_session: Session) -> None:
    license_ = add_license(db_session)
    before = license_.updated_at
    license_.name = "Renamed"
    db_session.flush()
    db_session.expire(license_)
    assert license_.updated_at > before
    assert license_.created_at <= before


def test_read_license_timestamps_in_utc(db_session: Session) -> None:
    license_ = add_license(db_session)
    db_session.expire(license_)
    assert license_.created_at.tzinfo == UTC
    assert abs(datetime.now(UTC) - license_.created_at).total_seconds() < 60


def test_serialize_license_to_dict(db_session: Session) -> None:
    license_ = add_license(
        db_session,
        spdx_id="Apache-2.0",
        name="Apache License 2.0",
        osi_approved=True,
        url="https://spdx.org/licenses/Apache-2.0.html",
    )
    assert license_.to_dict() == {
        "spdx_id": "Apache-2.0",
        "name": "Apache License 2.0",
        "osi_approved": True,
        "url": "https://spdx.org/licenses/Apache-2.0.html",
        "created_at": license_.created_at,
        "updated_at": license_.updated_at,
    }
    assert license_.to_dict(only=("spdx_id", "name")) == {
        "spdx_id": "Apache-2.0",
        "name": "Apache License 2.0",
    }
    assert license_.to_dict(exclude=("created_at", "updated_at")).keys() == {
        "spdx_id",
        "name",
        "osi_approved",
        "url",
    }


def test_serialize_license_defaults_to_dict(db_session: Session) -> None:
    data = add_license(db_session).to_dict()
    assert (data["osi_approved"], data["url"]) == (False, None)


def test_serialize_license_unknown_column(db_session: Session) -> None:
    with pytest.raises(ValueError, match=r"\['id'\]"):
        add_license(db_session).to_dict(only=("id",))
