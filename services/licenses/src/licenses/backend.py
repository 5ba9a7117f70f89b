"""Persistence of licenses: queries and flushes, never a commit, never HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from flusk_common import KeysetPage, fetch_page, flush

from .models import License


def get(*, session: Session, spdx_id: str) -> License | None:
    return session.get(License, spdx_id)


def get_page(*, session: Session, limit: int, after: str | None) -> KeysetPage[License]:
    return fetch_page(session, sa.select(License), key=License.spdx_id, limit=limit, after=after)


def create(*, session: Session, fields: Mapping[str, Any]) -> License:
    license_ = License(**fields)
    session.add(license_)
    flush(session)
    return license_


def update(*, session: Session, license_: License, changes: Mapping[str, Any]) -> License:
    for field, value in changes.items():
        setattr(license_, field, value)
    flush(session)
    return license_


def delete(*, session: Session, license_: License) -> None:
    session.delete(license_)
    flush(session)
