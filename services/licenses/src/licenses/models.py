"""The licenses table."""

from __future__ import annotations

import re

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flusk_common import SerializerMixin, Timestamps, new_metadata

SPDX_ID_MAX_LENGTH = 64
# An SPDX license identifier: letters, digits, '.', '-' and '+' (MIT, Apache-2.0, GPL-2.0+).
SPDX_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,63}")
NAME_MAX_LENGTH = 200
URL_MAX_LENGTH = 500


class Base(DeclarativeBase):
    metadata = new_metadata()


class License(Timestamps, SerializerMixin, Base):
    """A license, keyed by its SPDX identifier (``MIT``, ``Apache-2.0``)."""

    __tablename__ = "licenses"

    spdx_id: Mapped[str] = mapped_column(String(SPDX_ID_MAX_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    osi_approved: Mapped[bool] = mapped_column(default=False)
    url: Mapped[str | None] = mapped_column(String(URL_MAX_LENGTH))
