"""Keyset pagination: a page costs the same at row 10 as at row 10 million.

Pages are ordered by a unique key; the cursor is the last key of a page, as text, and
the next page starts after it. Clients treat it as opaque: they pass back what
``next_cursor`` gave. The list schema allows exactly the cursors a key can be, so every
cursor the document allows is accepted. Every list answers the same body::

    {"items": [...], "next_cursor": "<opaque>" | null}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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
        after = decode_cursor(cursor, key_type=key.type.python_type)
        # A 64-bit bound, whatever the column's width: a cursor past its largest key is fine.
        bound = sa.literal(after, sa.BigInteger()) if isinstance(after, int) else after
        statement = statement.where(key > bound)
    rows = session.scalars(statement.order_by(None).order_by(key).limit(limit + 1)).all()
    if len(rows) <= limit:
        return Page(rows, None)
    page = rows[:limit]
    return Page(page, getattr(page[-1], key.key))


# A cursor for an integer key: its decimal digits, at most 18 of them, so any cursor the
# schema allows is a number every database compares with a 64-bit key.
INTEGER_CURSOR_PATTERN = "^(0|[1-9][0-9]{0,17})$"
_INTEGER_CURSOR = re.compile(INTEGER_CURSOR_PATTERN.replace("$", r"\Z"))


def encode_cursor(key: int | str) -> str:
    """The cursor for a page that starts after ``key``: the key, as text."""
    return str(key)


def decode_cursor(cursor: str, *, key_type: type[K]) -> K:
    """The key ``cursor`` holds; a cursor no key can be is a 422 pointing at ``/cursor``.

    Any key is a fine cursor, stored or not: the page starts after where it would be.
    """
    if key_type is int and _INTEGER_CURSOR.match(cursor):
        return key_type(cursor)
    if key_type is str and cursor and "\x00" not in cursor:
        return key_type(cursor)
    raise ValidationFailed(
        "The cursor is not valid; use a next_cursor from a previous page.",
        errors=[FieldError("/cursor", "is not a valid cursor")],
    )
