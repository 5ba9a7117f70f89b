"""Persistence of foss records: queries and flushes, never a commit, never HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from flusk_common import KeysetPage, fetch_page, flush

from .models import Foss


def get(*, session: Session, foss_id: int) -> Foss | None:
    return session.get(Foss, foss_id)


def get_page(
    *, session: Session, limit: int, after: int | None, spdx_id: str | None = None
) -> KeysetPage[Foss]:
    """A page of records, only those under the license ``spdx_id`` if it is given."""
    statement = sa.select(Foss)
    if spdx_id is not None:
        statement = statement.where(Foss.license == spdx_id)
    return fetch_page(session, statement, key=Foss.id, limit=limit, after=after)


def create(*, session: Session, name: str, email: str, spdx_id: str | None = None) -> Foss:
    foss = Foss(name=name, email=email, license=spdx_id)
    session.add(foss)
    flush(session)
    return foss


def update(*, session: Session, foss: Foss, changes: Mapping[str, Any]) -> Foss:
    for field, value in changes.items():
        setattr(foss, field, value)
    flush(session)
    return foss


def delete(*, session: Session, foss: Foss) -> None:
    session.delete(foss)
    flush(session)
