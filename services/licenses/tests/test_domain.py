"""The rules of licenses, against the test's database transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from conftest import MALFORMED_IDS, license_payload
from flusk_common import (
    DEFAULT_PAGE_SIZE,
    RecordNotFound,
    ValidationFailed,
    encode_cursor,
)
from licenses import domain

MIT_URL = "https://spdx.org/licenses/MIT.html"


def create(session: Session, **overrides: Any) -> dict[str, Any]:
    return domain.create_license(session=session, data=license_payload(**overrides))


def without_timestamps(license_: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in license_.items() if not key.endswith("_at")}


# create


def test_create_license_fills_defaults(db_session: Session) -> None:
    license_ = domain.create_license(
        session=db_session, data={"spdx_id": "MIT", "name": "MIT License"}
    )
    assert type(license_) is dict
    assert license_.keys() == {"spdx_id", "name", "osi_approved", "url", "created_at", "updated_at"}
    assert without_timestamps(license_) == {
        "spdx_id": "MIT",
        "name": "MIT License",
        "osi_approved": False,
        "url": None,
    }
    assert isinstance(license_["created_at"], datetime)


def test_create_license_all_fields(db_session: Session) -> None:
    data = {"spdx_id": "MIT", "name": "MIT License", "osi_approved": True, "url": MIT_URL}
    license_ = domain.create_license(session=db_session, data=data)
    assert without_timestamps(license_) == data


def test_create_license_keeps_data(db_session: Session) -> None:
    data = {"spdx_id": "MIT", "name": "MIT License"}
    domain.create_license(session=db_session, data=data)
    assert data == {"spdx_id": "MIT", "name": "MIT License"}
    assert domain.OPTIONAL_DEFAULTS == {"osi_approved": False, "url": None}


# get


def test_get_license(db_session: Session) -> None:
    license_ = create(db_session, spdx_id="Apache-2.0")
    assert domain.get_license(session=db_session, spdx_id="Apache-2.0") == license_


def test_get_license_or_raise_unknown(db_session: Session, statements: list[str]) -> None:
    create(db_session, spdx_id="MIT")
    statements.clear()
    with pytest.raises(RecordNotFound) as caught:
        domain.get_license_or_raise(session=db_session, spdx_id="mit")
    assert (caught.value.status, caught.value.code) == (404, "record_not_found")
    assert len(statements) == 1


@pytest.mark.parametrize("spdx_id", MALFORMED_IDS)
def test_get_license_malformed_id_without_query(
    db_session: Session, statements: list[str], spdx_id: str
) -> None:
    with pytest.raises(RecordNotFound) as caught:
        domain.get_license(session=db_session, spdx_id=spdx_id)
    assert caught.value.code == "record_not_found"
    assert statements == []


# list


def test_list_licenses_empty(db_session: Session) -> None:
    assert domain.list_licenses(session=db_session) == {"items": [], "next_cursor": None}


def test_list_licenses_default_page_size(db_session: Session) -> None:
    for _ in range(DEFAULT_PAGE_SIZE + 1):
        create(db_session)
    page = domain.list_licenses(session=db_session)
    assert len(page["items"]) == DEFAULT_PAGE_SIZE == 20
    assert page["next_cursor"] is not None


def test_list_licenses_pages_in_spdx_id_order(db_session: Session) -> None:
    for spdx_id in ["Zlib", "MIT", "0BSD", "Apache-2.0", "GPL-3.0-only"]:
        create(db_session, spdx_id=spdx_id)
    first = domain.list_licenses(session=db_session, limit=2)
    assert [license_["spdx_id"] for license_ in first["items"]] == ["0BSD", "Apache-2.0"]
    assert first["next_cursor"] == encode_cursor("Apache-2.0")
    second = domain.list_licenses(session=db_session, limit=2, cursor=first["next_cursor"])
    assert [license_["spdx_id"] for license_ in second["items"]] == ["GPL-3.0-only", "MIT"]
    last = domain.list_licenses(session=db_session, limit=2, cursor=second["next_cursor"])
    assert [license_["spdx_id"] for license_ in last["items"]] == ["Zlib"]
    assert last["next_cursor"] is None


def test_list_licenses_items_are_plain_dicts(db_session: Session) -> None:
    license_ = create(db_session)
    assert domain.list_licenses(session=db_session)["items"] == [license_]


@pytest.mark.parametrize(
    "cursor",
    [
        "abc",
        "!!!",
        "",
        "e30",  # {}
        "W3RydWVd",  # [true]
        encode_cursor(1),
        encode_cursor("not valid!"),
        encode_cursor("x\x00"),
        encode_cursor("a" * 65),
    ],
)
def test_list_licenses_bad_cursor(db_session: Session, cursor: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        domain.list_licenses(session=db_session, cursor=cursor)
    assert [error.pointer for error in caught.value.errors] == ["/cursor"]


# update (PATCH) and replace (PUT)


def test_update_license_changes_given_fields_only(db_session: Session) -> None:
    license_ = create(db_session, spdx_id="MIT", osi_approved=True, url=MIT_URL)
    changes = {"name": "The MIT License"}
    updated = domain.update_license(session=db_session, spdx_id="MIT", changes=changes)
    assert updated == license_ | {"name": "The MIT License", "updated_at": updated["updated_at"]}
    assert updated["updated_at"] >= license_["updated_at"]


def test_update_license_clears_url(db_session: Session) -> None:
    license_ = create(db_session, spdx_id="MIT", osi_approved=True, url=MIT_URL)
    updated = domain.update_license(session=db_session, spdx_id="MIT", changes={"url": None})
    assert without_timestamps(updated) == without_timestamps(license_) | {"url": None}


def test_update_license_unknown(db_session: Session) -> None:
    with pytest.raises(RecordNotFound):
        domain.update_license(session=db_session, spdx_id="MIT", changes={"name": "MIT"})


def test_replace_license_resets_absent_fields(db_session: Session) -> None:
    license_ = create(db_session, spdx_id="MIT", osi_approved=True, url=MIT_URL)
    data = {"name": "The MIT License"}
    replaced = domain.replace_license(session=db_session, spdx_id="MIT", data=data)
    assert replaced == license_ | {
        "name": "The MIT License",
        "osi_approved": False,
        "url": None,
        "updated_at": replaced["updated_at"],
    }


def test_replace_license_all_fields(db_session: Session) -> None:
    license_ = create(db_session, spdx_id="MIT")
    data = {"name": "The MIT License", "osi_approved": True, "url": MIT_URL}
    replaced = domain.replace_license(session=db_session, spdx_id="MIT", data=data)
    assert (replaced["spdx_id"], replaced["created_at"]) == ("MIT", license_["created_at"])
    assert without_timestamps(replaced) == {"spdx_id": "MIT"} | data


def test_replace_license_unknown(db_session: Session) -> None:
    with pytest.raises(RecordNotFound):
        domain.replace_license(session=db_session, spdx_id="MIT", data={"name": "MIT"})


# delete


def test_delete_license(db_session: Session) -> None:
    create(db_session, spdx_id="MIT")
    kept = create(db_session, spdx_id="ISC")
    domain.delete_license(session=db_session, spdx_id="MIT")
    with pytest.raises(RecordNotFound):
        domain.get_license(session=db_session, spdx_id="MIT")
    assert domain.get_license(session=db_session, spdx_id="ISC") == kept


@pytest.mark.parametrize("spdx_id", ["MIT", "not valid!"])
def test_delete_license_unknown(db_session: Session, spdx_id: str) -> None:
    with pytest.raises(RecordNotFound):
        domain.delete_license(session=db_session, spdx_id=spdx_id)
