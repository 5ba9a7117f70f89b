"""The foss tables."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flusk_common import SerializerMixin, Timestamps, new_metadata

NAME_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 320
SPDX_ID_MAX_LENGTH = 64


class Base(DeclarativeBase):
    metadata = new_metadata()


class Foss(Timestamps, SerializerMixin, Base):
    __tablename__ = "foss"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), unique=True)
    # The SPDX id of a license in the licenses service (checked there on every write).
    license: Mapped[str | None] = mapped_column(String(SPDX_ID_MAX_LENGTH), index=True)
