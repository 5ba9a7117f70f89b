"""The licenses table."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flusk_common import SerializerMixin, Timestamps, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class License(Timestamps, SerializerMixin, Base):
    """A license, keyed by its SPDX identifier (``MIT``, ``Apache-2.0``)."""

    __tablename__ = "licenses"

    spdx_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    osi_approved: Mapped[bool] = mapped_column(default=False)
    url: Mapped[str | None] = mapped_column(String(500))
