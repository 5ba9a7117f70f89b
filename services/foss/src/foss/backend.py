"""Persistence of foss records: queries and flushes, never a commit, never HTTP."""

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

from .models import Foss


def get(*, session: Session, foss_id: int) -> Foss | None:
    return session.get(Foss, foss_id)


def read(*, session: Session, foss_id: int) -> dict[str, Any] | None:
    """The record's fields as ``Foss.to_dict()`` gives them, without loading a ``Foss``."""
    return read_record(session, Foss, foss_id)


def get_page(
    *,
    session: Session,
    limit: int,
    cursor: str | None = None,
    license: str | None = None,  # noqa: A002 - the query parameter's name
) -> Page[dict[str, Any]]:
    """A page of records' fields, only those under ``license`` (an SPDX id) if it is given."""
    where = [] if license is None else [Foss.license == license]
    return fetch_record_page(session, Foss, key=Foss.id, limit=limit, cursor=cursor, where=where)


def create(*, session: Session, fields: Mapping[str, Any]) -> Foss:
    return add_record(session, Foss(**fields))


def update(*, session: Session, foss: Foss, changes: Mapping[str, Any]) -> Foss:
    return update_record(session, foss, changes)


def delete(*, session: Session, foss: Foss) -> None:
    delete_record(session, foss)
