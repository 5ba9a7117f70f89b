"""Every error becomes RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from ._errors import DatabaseUnavailable, FluskError, ValidationFailed
from ._json import dumps_bytes
from ._request_id import current_request_id
from ._writes import conflict_from_integrity_error

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:flusk:problem:"

log = logging.getLogger(__name__)


def problem_response(error: FluskError) -> Response:
    """Render ``error`` as a problem+json response."""
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + error.code,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
        "request_id": current_request_id(),
    }
    if error.errors:
        body["errors"] = [field_error.as_dict() for field_error in error.errors]
    return Response(
        dumps_bytes(body), status=error.status, mimetype=PROBLEM_MEDIA_TYPE, headers=error.headers
    )


# Stable codes for the errors Werkzeug raises; status phrases change between Python versions.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    409: "conflict",
    410: "gone",
    411: "length_required",
    412: "precondition_failed",
    413: "request_entity_too_large",
    414: "request_uri_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    417: "expectation_failed",
    422: "unprocessable_entity",
    428: "precondition_required",
    429: "too_many_requests",
    431: "request_header_fields_too_large",
    500: "internal_error",
    501: "not_implemented",
    503: "service_unavailable",
}


def code_for(status: int) -> str:
    """The stable code of an HTTP error status."""
    return _HTTP_CODES.get(status) or f"http_{status}"


def _detail(status: int, exc: HTTPException) -> str | None:
    """Our words for the errors routing and Werkzeug raise, each naming what to change."""
    if status == 404:
        return "Nothing lives at this URL; check the path (the service's document lists them)."
    if status == 405:
        return "This URL does not take this method; Allow lists the ones it takes."
    if status == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return f"The body is larger than the limit of {limit} bytes."
    return exc.description


def _from_http_exception(exc: HTTPException) -> FluskError:
    """Translate a Werkzeug error (404, 405, 413, ...) into the same shape as ours."""
    status = exc.code or 500
    error = FluskError(_detail(status, exc))
    error.status = status
    error.code = code_for(status)
    error.title = HTTPStatus(status).phrase
    if status == 405:
        allow = dict(exc.get_headers()).get("Allow")
        if allow:
            error.headers["Allow"] = allow
    return error


def _handle_flusk_error(exc: FluskError) -> Response:
    if exc.status >= 500:
        log.error("%s: %s", exc.code, exc.detail, exc_info=exc)
    return problem_response(exc)


def _handle_http_exception(exc: HTTPException) -> Response:
    return problem_response(_from_http_exception(exc))


def _handle_integrity_error(exc: sa_exc.IntegrityError) -> Response:
    return problem_response(conflict_from_integrity_error(exc))


def _handle_data_error(exc: sa_exc.DataError) -> Response:
    log.warning("database refused a value: %s", exc.orig)
    return problem_response(ValidationFailed("The database cannot store a value of this request."))


def _handle_database_unavailable(exc: sa_exc.SQLAlchemyError) -> Response:
    log.error("database unavailable", exc_info=exc)
    retry_after: int = current_app.config["RETRY_AFTER"]
    return problem_response(
        DatabaseUnavailable("The database is unavailable; retry later.", retry_after=retry_after)
    )


def _handle_unexpected(exc: Exception) -> Response:
    log.error("unhandled exception", exc_info=exc)
    return problem_response(FluskError("An unexpected error occurred."))


def init_problems(app: Flask) -> None:
    app.register_error_handler(FluskError, _handle_flusk_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(sa_exc.IntegrityError, _handle_integrity_error)
    app.register_error_handler(sa_exc.DataError, _handle_data_error)
    for unavailable in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        app.register_error_handler(unavailable, _handle_database_unavailable)
    app.register_error_handler(Exception, _handle_unexpected)
