"""A model that has drifted from schemas/gadget.json: the resource check must name each field."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flusk_common import SerializerMixin, Timestamps, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class DriftedGadget(Timestamps, SerializerMixin, Base):
    __tablename__ = "drifted_gadget"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))  # the schema allows 100 characters
    colour: Mapped[str] = mapped_column(sa.String(20))  # not nullable, and no default
    weight: Mapped[float | None] = mapped_column()  # not in the schema
    # quantity: in the schema, but no column
