"""The rules of foss records; returns plain data for the views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from flusk_common import (
    DEFAULT_PAGE_SIZE,
    FieldError,
    RecordNotFound,
    ServiceProblem,
    ValidationFailed,
    decode_cursor,
    encode_cursor,
    service_client,
)

from . import backend
from .models import Foss


def _normalized(data: Mapping[str, Any]) -> dict[str, Any]:
    """Emails are compared without regard to case, so they are stored in lower case."""
    fields = dict(data)
    if "email" in fields:
        fields["email"] = fields["email"].lower()
    return fields


def check_license(spdx_id: str | None) -> None:
    """A license must be in the licenses service's catalogue; no license, no call.

    An unreachable licenses service raises ``ServiceUnreachable`` (503 with Retry-After);
    it is asked before the database is touched, so nothing is written and no database
    connection or lock is held while licenses is slow.
    """
    if spdx_id is None:
        return
    try:
        service_client("licenses").get(f"/licenses/{quote(spdx_id, safe='')}")
    except ServiceProblem as problem:
        if problem.upstream_code != "record_not_found":
            raise  # not an answer about the license: licenses failed (502)
        raise ValidationFailed(
            f"There is no license {spdx_id!r} in the licenses catalogue.",
            errors=[FieldError("/license", "is not a known license")],
        ) from None


def get_foss_or_raise(*, session: Session, foss_id: int) -> Foss:
    foss = backend.get(session=session, foss_id=foss_id)
    if foss is None:
        raise RecordNotFound(f"There is no foss with id {foss_id}.")
    return foss


def create_foss(*, session: Session, data: Mapping[str, Any]) -> dict[str, Any]:
    fields = _normalized(data)
    check_license(fields.get("license"))
    return backend.create(
        session=session, name=fields["name"], email=fields["email"], spdx_id=fields.get("license")
    ).to_dict()


def list_foss(
    *,
    session: Session,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
    license: str | None = None,  # noqa: A002 - named after the query parameter
) -> dict[str, Any]:
    """One page of foss records, oldest first; only those under ``license`` if given."""
    after = decode_cursor(cursor, key_type=int) if cursor is not None else None
    page = backend.get_page(session=session, limit=limit, after=after, spdx_id=license)
    return {
        "items": [foss.to_dict() for foss in page.items],
        "next_cursor": encode_cursor(page.next_key) if page.next_key is not None else None,
    }


def get_foss(*, session: Session, foss_id: int) -> dict[str, Any]:
    return get_foss_or_raise(session=session, foss_id=foss_id).to_dict()


def update_foss(*, session: Session, foss_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change the given fields only (PATCH)."""
    fields = _normalized(changes)
    if "license" in fields:
        check_license(fields["license"])
    foss = get_foss_or_raise(session=session, foss_id=foss_id)
    return backend.update(session=session, foss=foss, changes=fields).to_dict()


def replace_foss(*, session: Session, foss_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """Replace every client-owned field (PUT); an absent license means none."""
    fields = _normalized(data)
    check_license(fields.get("license"))
    foss = get_foss_or_raise(session=session, foss_id=foss_id)
    changes = {"name": fields["name"], "email": fields["email"], "license": fields.get("license")}
    return backend.update(session=session, foss=foss, changes=changes).to_dict()


def delete_foss(*, session: Session, foss_id: int) -> None:
    foss = get_foss_or_raise(session=session, foss_id=foss_id)
    backend.delete(session=session, foss=foss)
