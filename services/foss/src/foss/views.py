"""HTTP routes of /foss: read the request, call the domain, return data."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, url_for

from flusk_common import Resource, get_session, query_params, request_body

from . import domain
from .models import Foss

resource = Resource(Foss, schema="foss.json")
blueprint = Blueprint("foss", __name__, url_prefix="/foss")


@blueprint.post("")
@resource.create
def create_foss() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Create a foss record."""
    record = domain.create_foss(session=get_session(), data=request_body())
    return record, 201, {"Location": url_for(".get_foss", foss_id=record["id"])}


@blueprint.get("")
@resource.list(filters=["license"])
def list_foss() -> dict[str, Any]:
    """One page of foss records, oldest first."""
    return domain.list_foss(session=get_session(), **query_params())


@blueprint.get("/<foss:foss_id>")
@resource.read
def get_foss(foss_id: int) -> dict[str, Any]:
    """One foss record."""
    return domain.get_foss(session=get_session(), foss_id=foss_id)


@blueprint.patch("/<foss:foss_id>")
@resource.update
def update_foss(foss_id: int) -> dict[str, Any]:
    """Change some fields of a foss record."""
    return domain.update_foss(session=get_session(), foss_id=foss_id, changes=request_body())


@blueprint.put("/<foss:foss_id>")
@resource.replace
def replace_foss(foss_id: int) -> dict[str, Any]:
    """Replace a foss record."""
    return domain.replace_foss(session=get_session(), foss_id=foss_id, data=request_body())


@blueprint.delete("/<foss:foss_id>")
@resource.delete
def delete_foss(foss_id: int) -> tuple[str, int]:
    """Delete a foss record."""
    domain.delete_foss(session=get_session(), foss_id=foss_id)
    return "", 204
