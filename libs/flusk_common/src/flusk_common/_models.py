"""Building blocks for a service's typed SQLAlchemy models, and their records as plain data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, Session, mapped_column

from ._errors import ConfigurationError

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


_COLUMN_NAMES: dict[type, tuple[str, ...]] = {}


def _column_names(model: type) -> tuple[str, ...]:
    """The column attributes of a mapped class, read from its mapper once."""
    names = _COLUMN_NAMES.get(model)
    if names is None:
        mapper: sa.orm.Mapper[Any] = sa.inspect(model)
        names = _COLUMN_NAMES[model] = tuple(attribute.key for attribute in mapper.column_attrs)
    return names


def serialize(
    instance: object,
    *,
    only: tuple[str, ...] | None = None,
    exclude: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The column attributes of a mapped ``instance`` as a dict, narrowed by only/exclude."""
    names = _column_names(type(instance))
    unknown = set(only or ()).union(exclude).difference(names)
    if unknown:
        raise ValueError(f"{type(instance).__name__} has no columns {sorted(unknown)}")
    if only is None and not exclude:
        return {name: getattr(instance, name) for name in names}
    selected = [name for name in names if (only is None or name in only) and name not in exclude]
    return {name: getattr(instance, name) for name in selected}


class SerializerMixin:
    """Adds ``to_dict(only=..., exclude=...)`` to a mapped class."""

    def to_dict(
        self, *, only: tuple[str, ...] | None = None, exclude: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        return serialize(self, only=only, exclude=exclude)


_KEY = "flusk_key"
_COLUMNS: dict[type, sa.Select[Any]] = {}
_BY_KEY: dict[type, sa.Select[Any]] = {}


def record_columns(model: type) -> sa.Select[Any]:
    """A select of ``model``'s columns, each named as its attribute: rows as ``to_dict()``.

    Built once per model: a statement made anew on each read would cost as much again.
    """
    statement = _COLUMNS.get(model)
    if statement is None:
        mapper: sa.orm.Mapper[Any] = sa.inspect(model)
        columns = [attribute.columns[0].label(attribute.key) for attribute in mapper.column_attrs]
        statement = _COLUMNS[model] = sa.select(*columns)
    return statement


def _by_key(model: type) -> sa.Select[Any]:
    statement = _BY_KEY.get(model)
    if statement is None:
        mapper: sa.orm.Mapper[Any] = sa.inspect(model)
        if len(mapper.primary_key) != 1:
            raise ConfigurationError(f"{model.__name__} needs a primary key of one column")
        key = mapper.primary_key[0] == sa.bindparam(_KEY)
        statement = _BY_KEY[model] = record_columns(model).where(key)
    return statement


def flush_pending(session: Session) -> None:
    """Flush the session's changes, as a query of the models would; one of columns does not."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()


def read_record(session: Session, model: type, key: Any) -> dict[str, Any] | None:
    """The fields of the ``model`` record whose primary key is ``key``, or ``None``.

    The dict ``to_dict()`` of the loaded model would give (the same names, order and
    values), for about half the work of ``session.get()``, which builds an instance and
    tracks it in the session. For answers that only show a record; a write loads the model.
    """
    flush_pending(session)
    row = session.execute(_by_key(model), {_KEY: key}).first()
    return None if row is None else row._asdict()
