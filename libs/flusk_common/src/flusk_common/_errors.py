"""Every error a Flusk service answers with, each rendered as RFC 9457 problem details.

Every class carries the HTTP ``status``, a stable machine ``code`` and a ``title``; its
name is its code's. The error handlers turn any of them into ``application/problem+json``::

    FluskError                      500 internal_error
     ├── BadRequest                 400 bad_request
     │    └── MalformedJSON         400 malformed_json
     ├── Unauthorized               401 unauthorized
     ├── NotFound                   404 not_found
     │    └── RecordNotFound        404 record_not_found
     ├── Conflict                   409 conflict
     ├── UnsupportedMediaType       415 unsupported_media_type
     ├── ValidationFailed           422 validation_failed
     ├── UpstreamError              502 upstream_error
     └── ServiceUnavailable         503 service_unavailable
          ├── DatabaseUnavailable   503 database_unavailable
          └── UpstreamUnavailable   503 upstream_unavailable

``UpstreamError`` and ``UpstreamUnavailable`` come from calls to other services (see
``service_client()``). ``ConfigurationError`` is not an HTTP error: it stops an app from
being created.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar


@dataclass(frozen=True)
class FieldError:
    """One invalid input: a JSON pointer into the request and what is wrong there."""

    pointer: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "detail": self.detail}


class ConfigurationError(Exception):
    """The app's configuration or its schema files are unusable; raised at app creation."""


class FluskError(Exception):
    """Base of every error a service answers with; unexpected failures are a plain 500."""

    status: int = 500
    code: str = "internal_error"
    title: str = "Internal Server Error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Iterable[FieldError] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.title
        self.errors = list(errors)
        self.headers = dict(headers or {})
        super().__init__(self.detail)


class BadRequest(FluskError):
    """The request cannot be understood at all."""

    status = 400
    code = "bad_request"
    title = "Bad Request"


class MalformedJSON(BadRequest):
    """The body is not a usable JSON object (syntax, encoding, depth, top-level type)."""

    code = "malformed_json"
    title = "Malformed JSON"


class Unauthorized(FluskError):
    """The API key is missing or wrong."""

    status = 401
    code = "unauthorized"
    title = "Unauthorized"


class NotFound(FluskError):
    """Nothing lives at this URL."""

    status = 404
    code = "not_found"
    title = "Not Found"


class RecordNotFound(NotFound):
    """The URL names a record that does not exist."""

    code = "record_not_found"
    title = "Record Not Found"


R = TypeVar("R")


def found(record: R | None, detail: str) -> R:
    """``record``, or a ``RecordNotFound`` (404) saying ``detail`` when there is none."""
    if record is None:
        raise RecordNotFound(detail)
    return record


class Conflict(FluskError):
    """The write conflicts with data already stored (a unique value taken, for one)."""

    status = 409
    code = "conflict"
    title = "Conflict"


class UnsupportedMediaType(FluskError):
    """The body is not sent as ``application/json``."""

    status = 415
    code = "unsupported_media_type"
    title = "Unsupported Media Type"


class ValidationFailed(FluskError):
    """The input is well-formed JSON but breaks the endpoint's schema; see ``errors``."""

    status = 422
    code = "validation_failed"
    title = "Validation Failed"


class ServiceUnavailable(FluskError):
    """A dependency of this service is down; the client may retry after ``retry_after``."""

    status = 503
    code = "service_unavailable"
    title = "Service Unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached or is too busy to answer."""

    code = "database_unavailable"
    title = "Database Unavailable"


class UpstreamUnavailable(ServiceUnavailable):
    """Another service could not be reached, or was too slow, even after retries."""

    code = "upstream_unavailable"
    title = "Upstream Service Unavailable"


class UpstreamError(FluskError):
    """Another service answered with an error; ``problem`` holds what it said.

    Left unhandled it is a 502: this service could not do its work because of the other.
    """

    status = 502
    code = "upstream_error"
    title = "Upstream Service Error"

    def __init__(
        self,
        service: str,
        upstream_status: int,
        problem: Mapping[str, Any],
        detail: str | None = None,
    ) -> None:
        self.service = service
        self.upstream_status = upstream_status
        self.problem = dict(problem)
        code = self.problem.get("code")
        self.upstream_code: str | None = code if isinstance(code, str) else None
        answer = "an error" if upstream_status >= 400 else "something that is not JSON"
        super().__init__(detail or f"The {service} service answered {answer} ({upstream_status}).")
