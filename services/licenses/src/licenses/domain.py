"""The rules of licenses; returns plain data for the views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from flusk_common import (
    DEFAULT_PAGE_SIZE,
    FieldError,
    RecordNotFound,
    ValidationFailed,
    decode_cursor,
    encode_cursor,
)

from . import backend
from .models import SPDX_ID_PATTERN, License

# The fields a client owns; PUT replaces them all, an absent optional one becoming its default.
OPTIONAL_DEFAULTS: dict[str, Any] = {"osi_approved": False, "url": None}


def get_license_or_raise(*, session: Session, spdx_id: str) -> License:
    license_ = None
    if SPDX_ID_PATTERN.fullmatch(spdx_id):
        license_ = backend.get(session=session, spdx_id=spdx_id)
    if license_ is None:
        raise RecordNotFound(f"There is no license with SPDX id {spdx_id!r}.")
    return license_


def create_license(*, session: Session, data: Mapping[str, Any]) -> dict[str, Any]:
    return backend.create(session=session, fields={**OPTIONAL_DEFAULTS, **data}).to_dict()


def list_licenses(
    *, session: Session, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
) -> dict[str, Any]:
    """One page of licenses in SPDX id order."""
    after = decode_cursor(cursor, key_type=str) if cursor is not None else None
    if after is not None and not SPDX_ID_PATTERN.fullmatch(after):
        # Only a forged cursor holds a key no license can have (a NUL fails on PostgreSQL).
        raise ValidationFailed(
            "The cursor is not valid; use a next_cursor from a previous page.",
            errors=[FieldError("/cursor", "is not a valid cursor")],
        )
    page = backend.get_page(session=session, limit=limit, after=after)
    return {
        "items": [license_.to_dict() for license_ in page.items],
        "next_cursor": encode_cursor(page.next_key) if page.next_key is not None else None,
    }


def get_license(*, session: Session, spdx_id: str) -> dict[str, Any]:
    return get_license_or_raise(session=session, spdx_id=spdx_id).to_dict()


def update_license(*, session: Session, spdx_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change the given fields only (PATCH)."""
    license_ = get_license_or_raise(session=session, spdx_id=spdx_id)
    return backend.update(session=session, license_=license_, changes=changes).to_dict()


def replace_license(*, session: Session, spdx_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Replace every client-owned field (PUT); the id stays, it is the license's name."""
    license_ = get_license_or_raise(session=session, spdx_id=spdx_id)
    changes = {**OPTIONAL_DEFAULTS, **data}
    return backend.update(session=session, license_=license_, changes=changes).to_dict()


def delete_license(*, session: Session, spdx_id: str) -> None:
    license_ = get_license_or_raise(session=session, spdx_id=spdx_id)
    backend.delete(session=session, license_=license_)
