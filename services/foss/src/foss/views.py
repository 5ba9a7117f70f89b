"""HTTP routes of /foss: read the request, call the domain, return data."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, url_for

from flusk_common import get_session, query_params, request_body

from . import domain

blueprint = Blueprint("foss", __name__, url_prefix="/foss")


@blueprint.post("")
def create_foss() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Create a foss record."""
    foss = domain.create_foss(session=get_session(), data=request_body())
    return foss, 201, {"Location": url_for(".get_foss", foss_id=foss["id"])}


@blueprint.get("")
def list_foss() -> dict[str, Any]:
    """One page of foss records, oldest first."""
    return domain.list_foss(session=get_session(), **query_params())


@blueprint.get("/<id:foss_id>")
def get_foss(foss_id: int) -> dict[str, Any]:
    """One foss record."""
    return domain.get_foss(session=get_session(), foss_id=foss_id)


@blueprint.patch("/<id:foss_id>")
def update_foss(foss_id: int) -> dict[str, Any]:
    """Change some fields of a foss record."""
    return domain.update_foss(session=get_session(), foss_id=foss_id, changes=request_body())


@blueprint.put("/<id:foss_id>")
def replace_foss(foss_id: int) -> dict[str, Any]:
    """Replace a foss record."""
    return domain.replace_foss(session=get_session(), foss_id=foss_id, data=request_body())


@blueprint.delete("/<id:foss_id>")
def delete_foss(foss_id: int) -> tuple[str, int]:
    """Delete a foss record."""
    domain.delete_foss(session=get_session(), foss_id=foss_id)
    return "", 204
