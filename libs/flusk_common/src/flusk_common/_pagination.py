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
from ._models import flush_pending, record_columns

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
CURSOR_MAX_LENGTH = 200

T = TypeVar("T")
K = TypeVar("K", int, str)


def _to_dict(item: Any) -> Any:
    return item if isinstance(item, dict) else item.to_dict()


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows, and the key to start the next page after (``None`` on the last)."""

    items: Sequence[T]
    next_key: Any

    def to_dict(self, render: Callable[[T], Any] = _to_dict) -> dict[str, Any]:
        """The list body: each item rendered (by default ``item.to_dict()``; a dict as it
        is), and the cursor."""
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
    rows = session.scalars(_page_statement(statement, key, limit, cursor)).all()
    return _page(rows, limit, lambda row: getattr(row, key.key))


def fetch_record_page(
    session: Session,
    model: type,
    *,
    key: InstrumentedAttribute[Any],
    limit: int,
    cursor: str | None = None,
    where: Sequence[sa.ColumnElement[bool]] = (),
) -> Page[dict[str, Any]]:
    """``fetch_page`` of ``model``'s records (those matching ``where``) as plain data.

    Each item is the dict ``to_dict()`` would give, as ``read_record`` reads it: no
    instance is built or tracked, and the statement is built once, for a first page and
    for a page after a cursor alike, so a deep page costs what the first one does.
    """
    flush_pending(session)
    parameters: dict[str, Any] = {_LIMIT: limit + 1}
    if cursor is not None:
        parameters[_AFTER] = decode_cursor(cursor, key_type=key.type.python_type)
    statement = _record_page_statement(model, key, after=cursor is not None)
    if where:
        statement = statement.where(*where)
    rows = session.execute(statement, parameters).all()
    return _page([row._asdict() for row in rows], limit, lambda record: record[key.key])


_AFTER = "flusk_after"
_LIMIT = "flusk_limit"
_RECORD_PAGES: dict[tuple[type, str, bool], sa.Select[Any]] = {}


def _record_page_statement(
    model: type, key: InstrumentedAttribute[Any], *, after: bool
) -> sa.Select[Any]:
    """The columns of ``model`` by ``key``, after ``:flusk_after`` if ``after``, built once."""
    cache_key = (model, key.key, after)
    statement = _RECORD_PAGES.get(cache_key)
    if statement is None:
        column: sa.ColumnElement[Any] = sa.inspect(model).columns[key.key]  # a Core statement
        statement = record_columns(model)
        if after:
            # A 64-bit bound, whatever the column's width: a cursor past its largest key is fine.
            bound_type = sa.BigInteger() if key.type.python_type is int else column.type
            statement = statement.where(column > sa.bindparam(_AFTER, type_=bound_type))
        limit = sa.bindparam(_LIMIT, type_=sa.Integer())
        statement = _RECORD_PAGES[cache_key] = statement.order_by(column).limit(limit)
    return statement


def _page_statement(
    statement: sa.Select[Any], key: InstrumentedAttribute[Any], limit: int, cursor: str | None
) -> sa.Select[Any]:
    if cursor is not None:
        after = decode_cursor(cursor, key_type=key.type.python_type)
        # A 64-bit bound, whatever the column's width: a cursor past its largest key is fine.
        bound = sa.literal(after, sa.BigInteger()) if isinstance(after, int) else after
        statement = statement.where(key > bound)
    return statement.order_by(None).order_by(key).limit(limit + 1)


def _page(rows: Sequence[T], limit: int, key_of: Callable[[T], Any]) -> Page[T]:
    if len(rows) <= limit:
        return Page(rows, None)
    page = rows[:limit]
    return Page(page, key_of(page[-1]))


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
