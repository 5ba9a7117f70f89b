"""The rules of foss records; returns plain data for the views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from flusk_common import DEFAULT_PAGE_SIZE, RecordNotFound, decode_cursor, encode_cursor

from . import backend
from .models import Foss


def _normalized(data: Mapping[str, Any]) -> dict[str, Any]:
    """Emails are compared without regard to case, so they are stored in lower case."""
    fields = dict(data)
    if "email" in fields:
        fields["email"] = fields["email"].lower()
    return fields


def get_foss_or_raise(*, session: Session, foss_id: int) -> Foss:
    foss = backend.get(session=session, foss_id=foss_id)
    if foss is None:
        raise RecordNotFound(f"There is no foss with id {foss_id}.")
    return foss


def create_foss(*, session: Session, data: Mapping[str, Any]) -> dict[str, Any]:
    fields = _normalized(data)
    return backend.create(session=session, name=fields["name"], email=fields["email"]).to_dict()


def list_foss(
    *, session: Session, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
) -> dict[str, Any]:
    after = decode_cursor(cursor, key_type=int) if cursor is not None else None
    page = backend.get_page(session=session, limit=limit, after=after)
    return {
        "items": [foss.to_dict() for foss in page.items],
        "next_cursor": encode_cursor(page.next_key) if page.next_key is not None else None,
    }


def get_foss(*, session: Session, foss_id: int) -> dict[str, Any]:
    return get_foss_or_raise(session=session, foss_id=foss_id).to_dict()


def update_foss(*, session: Session, foss_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change the given fields only (PATCH)."""
    foss = get_foss_or_raise(session=session, foss_id=foss_id)
    return backend.update(session=session, foss=foss, changes=_normalized(changes)).to_dict()


def replace_foss(*, session: Session, foss_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """Replace every client-owned field (PUT); the schema requires them all."""
    foss = get_foss_or_raise(session=session, foss_id=foss_id)
    fields = _normalized(data)
    changes = {"name": fields["name"], "email": fields["email"]}
    return backend.update(session=session, foss=foss, changes=changes).to_dict()


def delete_foss(*, session: Session, foss_id: int) -> None:
    foss = get_foss_or_raise(session=session, foss_id=foss_id)
    backend.delete(session=session, foss=foss)
