"""Writes flushed at once, so that a violated constraint is a ``Conflict`` naming the field.

A backend writes through these and never commits: the app commits once, after the view.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from ._errors import Conflict, FieldError

# PostgreSQL: 'Key (email)=(a@b.c) already exists.'   SQLite: 'UNIQUE constraint failed: foss.email'
_POSTGRES_KEY = re.compile(r"Key \(([^)]*)\)=")
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")


def _unique_columns(exc: sa_exc.IntegrityError) -> list[str]:
    diag = getattr(exc.orig, "diag", None)
    if diag is not None:
        if getattr(exc.orig, "sqlstate", None) != "23505":
            return []
        match = _POSTGRES_KEY.match(diag.message_detail or "")
        return [column.strip() for column in match.group(1).split(",")] if match else []
    match = _SQLITE_UNIQUE.search(str(exc.orig))
    if not match:
        return []
    return [qualified.strip().rsplit(".", 1)[-1] for qualified in match.group(1).split(",")]


def conflict_from_integrity_error(exc: sa_exc.IntegrityError) -> Conflict:
    """A ``Conflict`` for ``exc``, pointing at the fields of a violated unique constraint."""
    columns = _unique_columns(exc)
    if not columns:
        return Conflict("The request conflicts with data already stored.")
    return Conflict(
        f"A record with this {', '.join(columns)} already exists.",
        errors=[FieldError(f"/{column}", "is already taken") for column in columns],
    )


R = TypeVar("R")


def flush_or_conflict(session: Session) -> None:
    """Flush pending changes; a unique value already taken becomes a ``Conflict`` (409)."""
    try:
        session.flush()
    except sa_exc.IntegrityError as exc:
        raise conflict_from_integrity_error(exc) from exc


def add_record(session: Session, record: R) -> R:
    """Add ``record`` and flush it, so its id is known; a taken unique value is a 409."""
    session.add(record)
    flush_or_conflict(session)
    return record


def update_record(session: Session, record: R, changes: Mapping[str, Any]) -> R:
    """Set each of ``changes`` on ``record`` and flush; a taken unique value is a 409."""
    for name, value in changes.items():
        setattr(record, name, value)
    flush_or_conflict(session)
    return record


def delete_record(session: Session, record: object) -> None:
    """Delete ``record`` and flush; a row that others still reference is a 409."""
    session.delete(record)
    flush_or_conflict(session)
