from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, request, url_for

from flusk_common import (
    RecordNotFound,
    Resource,
    add_record,
    delete_record,
    fetch_page,
    flush_or_conflict,
    get_session,
    query_params,
    request_body,
    service_client,
    update_record,
)

from .models import Gadget, Part, Widget

blueprint = Blueprint("widgets", __name__, url_prefix="/widgets")
gadget = Resource(Gadget, schema="gadget.json")
gadgets = Blueprint("gadgets", __name__, url_prefix="/gadgets")


@gadgets.post("")
@gadget.create
def create_gadget() -> tuple[dict[str, Any], int, dict[str, str]]:
    record = add_record(get_session(), Gadget(**request_body()))
    return record.to_dict(), 201, {"Location": url_for(".get_gadget", gadget_id=record.id)}


@gadgets.get("")
@gadget.list(filters=["colour"])
def list_gadgets() -> dict[str, Any]:
    params = query_params()
    statement = sa.select(Gadget)
    if "colour" in params:
        statement = statement.where(Gadget.colour == params["colour"])
    page = fetch_page(
        get_session(), statement, key=Gadget.id, limit=params["limit"], cursor=params.get("cursor")
    )
    return page.to_dict()


def _gadget(gadget_id: int) -> Gadget:
    record = get_session().get(Gadget, gadget_id)
    if record is None:
        raise RecordNotFound(f"There is no gadget with id {gadget_id}.")
    return record


@gadgets.get("/<gadget:gadget_id>")
@gadget.read
def get_gadget(gadget_id: int) -> dict[str, Any]:
    return _gadget(gadget_id).to_dict()


@gadgets.patch("/<gadget:gadget_id>")
@gadget.update
def update_gadget(gadget_id: int) -> dict[str, Any]:
    return update_record(get_session(), _gadget(gadget_id), request_body()).to_dict()


@gadgets.put("/<gadget:gadget_id>")
@gadget.replace
def replace_gadget(gadget_id: int) -> dict[str, Any]:
    return update_record(get_session(), _gadget(gadget_id), request_body()).to_dict()


@gadgets.delete("/<gadget:gadget_id>")
@gadget.delete
def delete_gadget(gadget_id: int) -> tuple[str, int]:
    delete_record(get_session(), _gadget(gadget_id))
    return "", 204


@blueprint.post("")
def create_widget() -> tuple[dict[str, Any], int, dict[str, str]]:
    session = get_session()
    widget = Widget(**request_body())
    session.add(widget)
    flush_or_conflict(session)
    return widget.to_dict(), 201, {"Location": url_for(".get_widget", widget_id=widget.id)}


@blueprint.get("")
def list_widgets() -> dict[str, Any]:
    params = query_params()
    page = fetch_page(
        get_session(),
        sa.select(Widget),
        key=Widget.id,
        limit=params.get("limit", 20),
        cursor=params.get("cursor"),
    )
    return page.to_dict()


@blueprint.get("/<id:widget_id>")
def get_widget(widget_id: int) -> dict[str, Any]:
    widget = get_session().get(Widget, widget_id)
    if widget is None:
        raise RecordNotFound(f"There is no widget with id {widget_id}.")
    return widget.to_dict()


@blueprint.post("/<id:widget_id>/parts")
def create_part(widget_id: int) -> tuple[dict[str, Any], int]:
    """Adds a part without checking its widget: the database checks it, at commit."""
    session = get_session()
    part = Part(widget_id=widget_id)
    session.add(part)
    flush_or_conflict(session)
    return part.to_dict(), 201


@blueprint.post("/search")
def search_widgets() -> dict[str, Any]:
    """Takes a body with nested objects, arrays and formats, to exercise validation."""
    return {"query": request_body()}


@blueprint.get("/values")
def values() -> dict[str, Any]:
    """Values the JSON encoder must handle."""
    return {
        "aware": datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone(timedelta(hours=2))),
        "naive": datetime(2026, 1, 2, 3, 4, 5),
        "utc": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "decimal": Decimal("12.30"),
    }


@blueprint.get("/boom")
def boom() -> dict[str, Any]:
    raise RuntimeError("secret internal detail: db password hunter2")


@blueprint.post("/unflushed")
def create_widget_unflushed() -> tuple[str, int]:
    """Leaves the flush to the commit, as a view that forgets ``flush()`` would."""
    get_session().add(Widget(**request_body()))
    return "", 204


@blueprint.post("/doomed")
def create_widget_doomed() -> None:
    """Writes a widget, then fails: none of it may be committed."""
    session = get_session()
    session.add(Widget(**request_body()))
    flush_or_conflict(session)
    raise RuntimeError("failed after writing")


@blueprint.patch("/<id:widget_id>")
def update_widget(widget_id: int) -> dict[str, Any]:
    """Reads, then writes: on SQLite, concurrent updates need the write lock taken up front."""
    session = get_session()
    widget = session.get(Widget, widget_id)
    if widget is None:
        raise RecordNotFound(f"There is no widget with id {widget_id}.")
    for name, value in request_body().items():
        setattr(widget, name, value)
    flush_or_conflict(session)
    return widget.to_dict()


@blueprint.post("/unencodable")
def create_widget_unencodable() -> dict[str, Any]:
    """Writes a widget, then answers with a value no JSON encoder takes."""
    session = get_session()
    session.add(Widget(**request_body()))
    flush_or_conflict(session)
    return {"widget": object()}


@blueprint.get("/client")
def client() -> dict[str, Any]:
    """The client as the app sees it, after the trusted proxies' X-Forwarded-* headers."""
    return {"remote_addr": request.remote_addr, "scheme": request.scheme, "host": request.host}


@blueprint.post("/relay")
def relay() -> dict[str, Any]:
    """Makes the call the body describes to the ``peer`` service, and answers what it said."""
    call = request_body()
    answer = service_client("peer").request(call["method"], call["path"], json=call.get("json"))
    return {"answer": answer}
