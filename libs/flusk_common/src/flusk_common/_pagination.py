"""Keyset pagination: a page costs the same at row 10 as at row 10 million.

Pages are ordered by a unique key; the opaque cursor carries the last key of a page,
and the next page starts after it. Every list answers the same body::

    {"items": [...], "next_cursor": "<opaque>" | null}
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from ._errors import FieldError, ValidationFailed

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
CURSOR_MAX_LENGTH = 200

T = TypeVar("T")
K = TypeVar("K", int, str)


def _to_dict(item: Any) -> Any:
    return item.to_dict()


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows, and the key to start the next page after (``None`` on the last)."""

    items: Sequence[T]
    next_key: Any

    def to_dict(self, render: Callable[[T], Any] = _to_dict) -> dict[str, Any]:
        """The list body: each item rendered (``item.to_dict()`` by default), and the cursor."""
        return {
            "items": [render(item) for item in self.items],
            "next_cursor": None if self.next_key is None else encode_cursor(self.next_key),
        }


def fetch_page(
    session: Session,
    statement: sa.Select[tuple[T]],
    *,
    key: InstrumentedAttribute[Any],
    limit: int,
    cursor: str | None = None,
) -> Page[T]:
    """Up to ``limit`` rows of ``statement``, after the key ``cursor`` holds (if any).

    Rows are ordered by ``key`` alone; any ordering ``statement`` has is replaced. A
    cursor that no earlier page gave is a 422 pointing at ``/cursor``.
    """
    if cursor is not None:
        statement = statement.where(key > decode_cursor(cursor, key_type=key.type.python_type))
    rows = session.scalars(statement.order_by(None).order_by(key).limit(limit + 1)).all()
    if len(rows) <= limit:
        return Page(rows, None)
    page = rows[:limit]
    return Page(page, getattr(page[-1], key.key))


def encode_cursor(key: int | str) -> str:
    """An opaque, URL-safe cursor for a page that starts after ``key``."""
    return base64.urlsafe_b64encode(orjson.dumps([key])).rstrip(b"=").decode()


def _is_key(value: object, key_type: type[K]) -> bool:
    """Whether ``value`` is a ``key_type`` a database column can hold (64-bit ints, no NUL)."""
    if type(value) is not key_type:
        return False
    if isinstance(value, str):
        return "\x00" not in value
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
