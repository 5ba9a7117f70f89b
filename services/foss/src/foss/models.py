"""The foss tables."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flusk_common import SerializerMixin, Timestamps, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Foss(Timestamps, SerializerMixin, Base):
    __tablename__ = "foss"
    # Keys never reused on SQLite: a deleted newest record's id is not handed out again.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # The SPDX id of a license in the licenses service (checked there on every write).
    license: Mapped[str | None] = mapped_column(String(64), index=True)
