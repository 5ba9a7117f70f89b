"""Building blocks for a service's typed SQLAlchemy models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> sa.MetaData:
    """Metadata with stable constraint names, so migrations can alter them everywhere."""
    return sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware datetime stored and returned in UTC, on SQLite as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _created_at(context: DefaultExecutionContext) -> datetime:
    """A new row was updated when it was created: the same instant, to the microsecond."""
    parameters: dict[str, Any] = context.get_current_parameters()  # type: ignore[no-untyped-call]
    created: datetime | None = parameters.get("created_at")
    return created or utcnow()


class Timestamps:
    """``created_at`` and ``updated_at``, set by the server, never by the client."""

    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=sa.func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=_created_at, server_default=sa.func.now(), onupdate=utcnow
    )


def serialize(
    instance: object,
    *,
    only: tuple[str, ...] | None = None,
    exclude: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The column attributes of a mapped ``instance`` as a dict, narrowed by only/exclude."""
    mapper = sa.inspect(instance, raiseerr=True).mapper
    names = [attribute.key for attribute in mapper.column_attrs]
    unknown = set(only or ()).union(exclude).difference(names)
    if unknown:
        raise ValueError(f"{type(instance).__name__} has no columns {sorted(unknown)}")
    selected = [name for name in names if (only is None or name in only) and name not in exclude]
    return {name: getattr(instance, name) for name in selected}


class SerializerMixin:
    """Adds ``to_dict(only=..., exclude=...)`` to a mapped class."""

    def to_dict(
        self, *, only: tuple[str, ...] | None = None, exclude: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        return serialize(self, only=only, exclude=exclude)
