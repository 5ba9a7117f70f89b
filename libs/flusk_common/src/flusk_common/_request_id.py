"""``X-Request-ID``: kept from the request when sane, made otherwise, echoed on every response."""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def current_request_id() -> str | None:
    """The id of the request being handled, or ``None`` outside a request."""
    if not has_request_context():
        return None
    if "flusk_request_id" not in g:
        g.flusk_request_id = _incoming_or_new()
    request_id: str = g.flusk_request_id
    return request_id


def is_sane(request_id: str) -> bool:
    """Whether an incoming request id is short and plain enough to keep and echo."""
    return _SANE.fullmatch(request_id) is not None


def _incoming_or_new() -> str:
    incoming = request.headers.get(HEADER, "")
    if is_sane(incoming):
        return incoming
    return uuid.uuid4().hex


def _set_request_id() -> None:
    current_request_id()


def _echo_request_id(response: Response) -> Response:
    request_id = current_request_id()
    if request_id is not None:
        response.headers[HEADER] = request_id
    return response


def init_request_id(app: Flask) -> None:
    app.before_request(_set_request_id)
    app.after_request(_echo_request_id)
