"""The public API of flusk_common is exactly the names in __all__ (as httpx checks its own)."""

from __future__ import annotations

import types

import flusk_common

PUBLIC_NAMES = [
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "DEFAULT_PAGE_SIZE",
    "Database",
    "DatabaseUnavailable",
    "FieldError",
    "FluskError",
    "KeysetPage",
    "MAX_PAGE_SIZE",
    "MAX_RECORD_ID",
    "MalformedJSON",
    "NotFound",
    "RecordNotFound",
    "SETTINGS",
    "SerializerMixin",
    "ServiceApp",
    "ServiceClient",
    "ServiceProblem",
    "ServiceUnavailable",
    "ServiceUnreachable",
    "Timestamps",
    "UTCDateTime",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationFailed",
    "configure_logging",
    "create_engine",
    "create_service_app",
    "current_request_id",
    "decode_cursor",
    "encode_cursor",
    "fetch_page",
    "flush",
    "get_database",
    "get_session",
    "load_settings",
    "logging_config",
    "new_metadata",
    "query_params",
    "request_body",
    "run_migrations",
    "serialize",
    "service_client",
]


def test_export_exact_public_names() -> None:
    assert sorted(flusk_common.__all__) == PUBLIC_NAMES


def test_export_each_name_once() -> None:
    assert len(set(flusk_common.__all__)) == len(flusk_common.__all__)


def test_define_every_exported_name() -> None:
    missing = [name for name in flusk_common.__all__ if not hasattr(flusk_common, name)]
    assert missing == []


def test_export_every_public_attribute() -> None:
    public = {
        name
        for name, value in vars(flusk_common).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(flusk_common.__all__)
