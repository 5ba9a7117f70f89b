"""Persistence of licenses: queries and flushes, never a commit, never HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from flusk_common import (
    Page,
    add_record,
    delete_record,
    fetch_record_page,
    read_record,
    update_record,
)

from .models import License


def get(*, session: Session, spdx_id: str) -> License | None:
    return session.get(License, spdx_id)


def read(*, session: Session, spdx_id: str) -> dict[str, Any] | None:
    """The license's fields as ``License.to_dict()`` gives them, without loading a ``License``."""
    return read_record(session, License, spdx_id)


def get_page(*, session: Session, limit: int, cursor: str | None = None) -> Page[dict[str, Any]]:
    """A page of licenses' fields in SPDX id order."""
    return fetch_record_page(session, License, key=License.spdx_id, limit=limit, cursor=cursor)


def create(*, session: Session, fields: Mapping[str, Any]) -> License:
    return add_record(session, License(**fields))


def update(*, session: Session, license_: License, changes: Mapping[str, Any]) -> License:
    return update_record(session, license_, changes)


def delete(*, session: Session, license_: License) -> None:
    delete_record(session, license_)
