"""HTTP routes of /licenses: read the request, call the domain, return data."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, url_for

from flusk_common import Resource, get_session, query_params, request_body

from . import domain
from .models import License

resource = Resource(License, schema="license.json")
blueprint = Blueprint("licenses", __name__, url_prefix="/licenses")


@blueprint.post("")
@resource.create
def create_license() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Add a license to the catalogue."""
    record = domain.create_license(session=get_session(), data=request_body())
    return record, 201, {"Location": url_for(".get_license", spdx_id=record["spdx_id"])}


@blueprint.get("")
@resource.list
def list_licenses() -> dict[str, Any]:
    """One page of licenses, in SPDX id order."""
    return domain.list_licenses(session=get_session(), **query_params())


@blueprint.get("/<license:spdx_id>")
@resource.read
def get_license(spdx_id: str) -> dict[str, Any]:
    """One license."""
    return domain.get_license(session=get_session(), spdx_id=spdx_id)


@blueprint.patch("/<license:spdx_id>")
@resource.update
def update_license(spdx_id: str) -> dict[str, Any]:
    """Change some fields of a license."""
    return domain.update_license(session=get_session(), spdx_id=spdx_id, changes=request_body())


@blueprint.put("/<license:spdx_id>")
@resource.replace
def replace_license(spdx_id: str) -> dict[str, Any]:
    """Replace a license's fields."""
    return domain.replace_license(session=get_session(), spdx_id=spdx_id, data=request_body())


@blueprint.delete("/<license:spdx_id>")
@resource.delete
def delete_license(spdx_id: str) -> tuple[str, int]:
    """Remove a license from the catalogue."""
    domain.delete_license(session=get_session(), spdx_id=spdx_id)
    return "", 204
