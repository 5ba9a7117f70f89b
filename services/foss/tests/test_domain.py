"""The rules of foss records, against the test's database transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from conftest import foss_payload
from flusk_common import (
    DEFAULT_PAGE_SIZE,
    Conflict,
    RecordNotFound,
    ValidationFailed,
    encode_cursor,
)
from foss import domain


def create(session: Session, **overrides: Any) -> dict[str, Any]:
    return domain.create_foss(session=session, data=foss_payload(**overrides))


def test_create_foss_returns_plain_dict(db_session: Session) -> None:
    foss = create(db_session, name="Ada", email="Ada@Example.ORG")
    assert type(foss) is dict
    assert foss.keys() == {"id", "name", "email", "license", "created_at", "updated_at"}
    assert (foss["name"], foss["email"]) == ("Ada", "ada@example.org")
    assert isinstance(foss["created_at"], datetime)


def test_create_foss_email_conflict_ignores_case(db_session: Session) -> None:
    create(db_session, email="A@X.org")
    with pytest.raises(Conflict):
        create(db_session, email="a@x.org")


def test_get_foss(db_session: Session) -> None:
    foss = create(db_session)
    assert domain.get_foss(session=db_session, foss_id=foss["id"]) == foss


def test_get_foss_or_raise_unknown(db_session: Session) -> None:
    with pytest.raises(RecordNotFound) as caught:
        domain.get_foss_or_raise(session=db_session, foss_id=1_000_000)
    assert (caught.value.status, caught.value.code) == (404, "record_not_found")


def test_list_foss_empty(db_session: Session) -> None:
    assert domain.list_foss(session=db_session) == {"items": [], "next_cursor": None}


def test_list_foss_default_page_size(db_session: Session) -> None:
    for _ in range(DEFAULT_PAGE_SIZE + 1):
        create(db_session)
    page = domain.list_foss(session=db_session)
    assert len(page["items"]) == DEFAULT_PAGE_SIZE == 20
    assert page["next_cursor"] is not None


def test_list_foss_pages_with_cursors(db_session: Session) -> None:
    ids = [create(db_session)["id"] for _ in range(3)]
    first = domain.list_foss(session=db_session, limit=2)
    assert [foss["id"] for foss in first["items"]] == ids[:2]
    assert isinstance(first["next_cursor"], str)
    last = domain.list_foss(session=db_session, limit=2, cursor=first["next_cursor"])
    assert [foss["id"] for foss in last["items"]] == ids[2:]
    assert last["next_cursor"] is None


@pytest.mark.parametrize(
    "cursor", ["abc", "!!!", "", encode_cursor("1"), "W3RydWVd", "e30", "WzEsMl0"]
)
def test_list_foss_bad_cursor(db_session: Session, cursor: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        domain.list_foss(session=db_session, cursor=cursor)
    assert [error.pointer for error in caught.value.errors] == ["/cursor"]


def test_update_foss_changes_given_fields_only(db_session: Session) -> None:
    foss = create(db_session, name="Ada")
    updated = domain.update_foss(session=db_session, foss_id=foss["id"], changes={"name": "Grace"})
    assert updated == foss | {"name": "Grace", "updated_at": updated["updated_at"]}
    assert updated["updated_at"] >= foss["updated_at"]


def test_update_foss_lowercases_email(db_session: Session) -> None:
    foss = create(db_session)
    changes = {"email": "New@Example.ORG"}
    updated = domain.update_foss(session=db_session, foss_id=foss["id"], changes=changes)
    assert updated["email"] == "new@example.org"


def test_update_foss_unknown(db_session: Session) -> None:
    with pytest.raises(RecordNotFound):
        domain.update_foss(session=db_session, foss_id=1_000_000, changes={"name": "Grace"})


def test_replace_foss(db_session: Session) -> None:
    foss = create(db_session)
    data = {"name": "Grace", "email": "Grace@Example.org"}
    replaced = domain.replace_foss(session=db_session, foss_id=foss["id"], data=data)
    assert (replaced["id"], replaced["created_at"]) == (foss["id"], foss["created_at"])
    assert (replaced["name"], replaced["email"]) == ("Grace", "grace@example.org")


def test_replace_foss_email_conflict_ignores_case(db_session: Session) -> None:
    create(db_session, email="ada@example.org")
    foss = create(db_session)
    data = {"name": "Grace", "email": "ADA@example.org"}
    with pytest.raises(Conflict):
        domain.replace_foss(session=db_session, foss_id=foss["id"], data=data)


def test_delete_foss(db_session: Session) -> None:
    foss = create(db_session)
    domain.delete_foss(session=db_session, foss_id=foss["id"])
    with pytest.raises(RecordNotFound):
        domain.get_foss(session=db_session, foss_id=foss["id"])


def test_delete_foss_unknown(db_session: Session) -> None:
    with pytest.raises(RecordNotFound):
        domain.delete_foss(session=db_session, foss_id=1_000_000)
