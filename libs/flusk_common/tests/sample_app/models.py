from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flusk_common import SerializerMixin, Timestamps, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Widget(Timestamps, SerializerMixin, Base):
    __tablename__ = "widget"
    # Keys never reused on SQLite: a deleted newest record's id is not handed out again.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    price: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))


class Part(SerializerMixin, Base):
    """Its widget is checked only at commit (a deferred foreign key), to make commits fail."""

    __tablename__ = "part"
    # Keys never reused on SQLite: a deleted newest record's id is not handed out again.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[int] = mapped_column(
        sa.ForeignKey("widget.id", deferrable=True, initially="DEFERRED")
    )


class Gadget(Timestamps, SerializerMixin, Base):
    """A resource defined once, in schemas/gadget.json."""

    __tablename__ = "gadget"
    # Keys never reused on SQLite: a deleted newest record's id is not handed out again.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    quantity: Mapped[int] = mapped_column(default=1, server_default="1")
    colour: Mapped[str | None] = mapped_column(sa.String(20))
