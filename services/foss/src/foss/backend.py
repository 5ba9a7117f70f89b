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


def get_page(*, session: Session, limit: int, after: int | None) -> KeysetPage[Foss]:
    return fetch_page(session, sa.select(Foss), key=Foss.id, limit=limit, after=after)


def create(*, session: Session, name: str, email: str) -> Foss:
    foss = Foss(name=name, email=email)
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
