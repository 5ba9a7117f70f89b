"""The rules of licenses; returns plain data for the views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from flusk_common import found

from . import backend
from .models import License


def create_license(*, session: Session, data: Mapping[str, Any]) -> dict[str, Any]:
    return backend.create(session=session, fields=data).to_dict()


def list_licenses(*, session: Session, limit: int, cursor: str | None = None) -> dict[str, Any]:
    """One page of licenses in SPDX id order."""
    return backend.get_page(session=session, limit=limit, cursor=cursor).to_dict()


def get_license(*, session: Session, spdx_id: str) -> dict[str, Any]:
    return found(backend.read(session=session, spdx_id=spdx_id), _missing(spdx_id))


def update_license(*, session: Session, spdx_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change the given fields only (PATCH)."""
    license_ = get_license_or_raise(session=session, spdx_id=spdx_id)
    return backend.update(session=session, license_=license_, changes=changes).to_dict()


def replace_license(*, session: Session, spdx_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Replace every field a client owns (PUT); the SPDX id stays, it is the license's name."""
    license_ = get_license_or_raise(session=session, spdx_id=spdx_id)
    return backend.update(session=session, license_=license_, changes=data).to_dict()


def delete_license(*, session: Session, spdx_id: str) -> None:
    license_ = get_license_or_raise(session=session, spdx_id=spdx_id)
    backend.delete(session=session, license_=license_)


def get_license_or_raise(*, session: Session, spdx_id: str) -> License:
    license_ = backend.get(session=session, spdx_id=spdx_id)
    return found(license_, _missing(spdx_id))


def _missing(spdx_id: str) -> str:
    return f"There is no license with SPDX id {spdx_id!r}."
