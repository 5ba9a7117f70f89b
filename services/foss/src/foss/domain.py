"""The rules of foss records; returns plain data for the views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from flusk_common import (
    Conflict,
    FieldError,
    UpstreamError,
    ValidationFailed,
    check_email,
    found,
    service_client,
)

from . import backend
from .models import Foss


def canonical_email(email: str) -> str:
    """One spelling per address, so uniqueness holds: ``Ada@Example.ORG`` is ``ada@example.org``.

    Unicode is normalized (a composed and a decomposed ``é`` are one letter), full-width
    letters in the domain become ASCII, an IDNA domain (``xn--``) is written in Unicode,
    and the whole address is compared without regard to case. The schema has already
    checked that it is an address.
    """
    lowered = check_email(email).normalized.lower()
    try:
        return check_email(lowered).normalized  # lower case can lengthen it (İ is two letters)
    except ValueError:
        raise ValidationFailed(
            "The address is not one in lower case.",
            errors=[FieldError("/email", "must be a valid email in lower case")],
        ) from None


def _normalized(data: Mapping[str, Any]) -> dict[str, Any]:
    fields = dict(data)
    if "email" in fields:
        fields["email"] = canonical_email(fields["email"])
    return fields


def check_license(spdx_id: str | None) -> None:
    """A license must be in the licenses service's catalogue; no license, no call.

    An unreachable licenses service raises ``UpstreamUnavailable`` (503 with Retry-After);
    it is asked before the database is touched, so nothing is written and no database
    connection or lock is held while licenses is slow.
    """
    if spdx_id is None:
        return
    try:
        answer = service_client("licenses").get(f"/licenses/{quote(spdx_id, safe='')}")
    except UpstreamError as error:
        if error.upstream_code != "record_not_found":
            raise  # not an answer about the license: licenses failed (502)
        # The body is valid; what it names does not exist now: a conflict with the catalogue.
        raise Conflict(
            f"There is no license {spdx_id!r} in the licenses catalogue.",
            errors=[FieldError("/license", "is not a known license")],
        ) from None
    if not isinstance(answer, dict) or answer.get("spdx_id") != spdx_id:
        raise UpstreamError(
            "licenses", 200, {}, detail="The licenses service answered about another license."
        )


def create_foss(*, session: Session, data: Mapping[str, Any]) -> dict[str, Any]:
    fields = _normalized(data)
    check_license(fields["license"])
    return backend.create(session=session, fields=fields).to_dict()


def list_foss(
    *,
    session: Session,
    limit: int,
    cursor: str | None = None,
    license: str | None = None,  # noqa: A002 - named after the query parameter
) -> dict[str, Any]:
    """One page of foss records, oldest first; only those under ``license`` if given."""
    return backend.get_page(session=session, limit=limit, cursor=cursor, license=license).to_dict()


def get_foss(*, session: Session, foss_id: int) -> dict[str, Any]:
    fields = backend.read(session=session, foss_id=foss_id)
    return found(fields, _missing(foss_id))


def update_foss(*, session: Session, foss_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change the given fields only (PATCH)."""
    fields = _normalized(changes)
    if "license" in fields:
        check_license(fields["license"])
    foss = get_foss_or_raise(session=session, foss_id=foss_id)
    return backend.update(session=session, foss=foss, changes=fields).to_dict()


def replace_foss(*, session: Session, foss_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """Replace every field a client owns (PUT)."""
    fields = _normalized(data)
    check_license(fields["license"])
    foss = get_foss_or_raise(session=session, foss_id=foss_id)
    return backend.update(session=session, foss=foss, changes=fields).to_dict()


def delete_foss(*, session: Session, foss_id: int) -> None:
    foss = get_foss_or_raise(session=session, foss_id=foss_id)
    backend.delete(session=session, foss=foss)


def get_foss_or_raise(*, session: Session, foss_id: int) -> Foss:
    foss = backend.get(session=session, foss_id=foss_id)
    return found(foss, _missing(foss_id))


def _missing(foss_id: int) -> str:
    return f"There is no foss with id {foss_id}."
