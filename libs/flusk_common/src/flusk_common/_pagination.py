"""Keyset pagination: a page costs the same at row 10 as at row 10 million.

Pages are ordered by a unique key; the opaque cursor carries the last key of a page,
and the next page starts after it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from ._exceptions import FieldError, ValidationFailed

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

T = TypeVar("T")
K = TypeVar("K", int, str)


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    """One page of rows, and the key to start the next page after (``None`` on the last)."""

    items: Sequence[T]
    next_key: Any


def fetch_page(
    session: Session,
    statement: sa.Select[tuple[T]],
    *,
    key: InstrumentedAttribute[Any],
    limit: int,
    after: Any = None,
) -> KeysetPage[T]:
    """Up to ``limit`` rows of ``statement`` whose ``key`` is greater than ``after``.

    Rows are ordered by ``key`` alone; any ordering ``statement`` has is replaced.
    """
    if after is not None:
        statement = statement.where(key > after)
    rows = session.scalars(statement.order_by(None).order_by(key).limit(limit + 1)).all()
    if len(rows) <= limit:
        return KeysetPage(rows, None)
    page = rows[:limit]
    return KeysetPage(page, getattr(page[-1], key.key))


def encode_cursor(key: int | str) -> str:
    """An opaque, URL-safe cursor for a page that starts after ``key``."""
    return base64.urlsafe_b64encode(orjson.dumps([key])).rstrip(b"=").decode()


def _is_key(value: object, key_type: type[K]) -> bool:
    """Whether ``value`` is a ``key_type`` that a database column can hold (ints: 64 bits)."""
    if type(value) is not key_type:
        return False
    return not isinstance(value, int) or -(2**63) <= value < 2**63


def decode_cursor(cursor: str, *, key_type: type[K]) -> K:
    """The key inside ``cursor``; a cursor not made by ``encode_cursor`` is a 422."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        decoded = None
    if isinstance(decoded, list) and len(decoded) == 1 and _is_key(decoded[0], key_type):
        key: K = decoded[0]
        return key
    raise ValidationFailed(
        "The cursor is not valid; use a next_cursor from a previous page.",
        errors=[FieldError("/cursor", "is not a valid cursor")],
    )
