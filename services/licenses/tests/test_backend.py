"""Persistence of licenses, against the test's database transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from conftest import add_license
from flusk_common import Conflict
from licenses import backend
from licenses.models import License


@pytest.fixture
def own_session(flusk_engine: sa.Engine) -> Iterator[Session]:
    """A session on a connection of its own, outside the test's transaction."""
    with Session(flusk_engine) as session:
        yield session
        session.rollback()


def test_create_license(db_session: Session) -> None:
    fields = {"spdx_id": "MIT", "name": "MIT License"}
    license_ = backend.create(session=db_session, fields=fields)
    assert (license_.spdx_id, license_.osi_approved, license_.url) == ("MIT", False, None)
    stored = db_session.execute(sa.select(License.__table__).where(License.spdx_id == "MIT")).one()
    assert (stored.name, stored.osi_approved, stored.url) == ("MIT License", False, None)


def test_create_license_all_fields(db_session: Session) -> None:
    url = "https://spdx.org/licenses/ISC.html"
    fields = {"spdx_id": "ISC", "name": "ISC License", "osi_approved": True, "url": url}
    license_ = backend.create(session=db_session, fields=fields)
    assert license_.to_dict(exclude=("created_at", "updated_at")) == fields


def test_create_license_flushes_without_commit(own_session: Session) -> None:
    license_ = add_license(own_session)
    assert own_session.in_transaction()
    own_session.rollback()
    assert own_session.get(License, license_.spdx_id) is None


def test_create_license_duplicate_spdx_id(db_session: Session) -> None:
    add_license(db_session, spdx_id="MIT")
    db_session.expunge_all()  # the row is in the database, as when another request made it
    with pytest.raises(Conflict) as caught:
        add_license(db_session, spdx_id="MIT", name="Another name")
    assert [error.pointer for error in caught.value.errors] == ["/spdx_id"]


def test_get_license(db_session: Session) -> None:
    license_ = add_license(db_session)
    assert backend.get(session=db_session, spdx_id=license_.spdx_id) is license_


def test_get_license_unknown(db_session: Session) -> None:
    add_license(db_session, spdx_id="MIT")
    assert backend.get(session=db_session, spdx_id="NoSuch-1.0") is None


def test_get_page_license_in_spdx_id_order(db_session: Session) -> None:
    for spdx_id in ["MIT", "Apache-2.0", "GPL-3.0-only", "BSD-3-Clause"]:
        add_license(db_session, spdx_id=spdx_id)
    first = backend.get_page(session=db_session, limit=3, after=None)
    assert [license_.spdx_id for license_ in first.items] == [
        "Apache-2.0",
        "BSD-3-Clause",
        "GPL-3.0-only",
    ]
    assert first.next_key == "GPL-3.0-only"
    last = backend.get_page(session=db_session, limit=3, after=first.next_key)
    assert [license_.spdx_id for license_ in last.items] == ["MIT"]
    assert last.next_key is None


def test_get_page_license_after_unstored_key(db_session: Session) -> None:
    for spdx_id in ["Apache-2.0", "BSD-3-Clause", "MIT"]:
        add_license(db_session, spdx_id=spdx_id)
    page = backend.get_page(session=db_session, limit=5, after="B")
    assert [license_.spdx_id for license_ in page.items] == ["BSD-3-Clause", "MIT"]


def test_get_page_license_exact_fit(db_session: Session) -> None:
    ids = [add_license(db_session).spdx_id for _ in range(2)]
    page = backend.get_page(session=db_session, limit=2, after=None)
    assert [license_.spdx_id for license_ in page.items] == ids
    assert page.next_key is None


def test_update_license(db_session: Session) -> None:
    license_ = add_license(db_session, spdx_id="MIT", name="MIT License", osi_approved=True)
    changes = {"name": "The MIT License", "url": "https://opensource.org/license/mit"}
    backend.update(session=db_session, license_=license_, changes=changes)
    db_session.expire(license_)
    assert license_.to_dict(exclude=("created_at", "updated_at")) == {
        "spdx_id": "MIT",
        "name": "The MIT License",
        "osi_approved": True,
        "url": "https://opensource.org/license/mit",
    }


def test_delete_license(db_session: Session) -> None:
    license_ = add_license(db_session)
    other = add_license(db_session)
    backend.delete(session=db_session, license_=license_)
    assert db_session.scalars(sa.select(License.spdx_id)).all() == [other.spdx_id]
