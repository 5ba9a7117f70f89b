"""The foss tables."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flusk_common import SerializerMixin, Timestamps, new_metadata

NAME_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 320


class Base(DeclarativeBase):
    metadata = new_metadata()


class Foss(Timestamps, SerializerMixin, Base):
    __tablename__ = "foss"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), unique=True)
