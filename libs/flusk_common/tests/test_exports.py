"""The public API of flusk_common is exactly the names in __all__ (as httpx checks its own)."""

from __future__ import annotations

import types
from pathlib import Path

import flusk_common
from flusk_common import _errors, testing

PUBLIC_NAMES = [
    "Conflict",
    "FieldError",
    "FluskError",
    "Page",
    "RecordNotFound",
    "Resource",
    "SerializerMixin",
    "ServiceApp",
    "Timestamps",
    "UTCDateTime",
    "UpstreamError",
    "UpstreamUnavailable",
    "ValidationFailed",
    "add_record",
    "check_email",
    "configure_logging",
    "create_service_app",
    "delete_record",
    "fetch_page",
    "fetch_record_page",
    "flush_or_conflict",
    "found",
    "get_session",
    "new_metadata",
    "query_params",
    "read_record",
    "request_body",
    "run_migrations",
    "service_client",
    "update_record",
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


def test_fit_the_public_face_on_one_screen() -> None:
    lines = Path(flusk_common.__file__).read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 60


def test_export_testing_names() -> None:
    assert sorted(testing.__all__) == [
        "ContractTests",
        "assert_matches",
        "assert_problem",
        "error_pointers",
        "get_database",
        "parse_time",
        "send_raw",
    ]
    assert all(hasattr(testing, name) for name in testing.__all__)


def test_draw_the_whole_error_tree() -> None:
    """Every error class is in the tree drawn in _errors' docstring, with its status and code."""
    doc = _errors.__doc__ or ""
    classes = [
        value
        for value in vars(_errors).values()
        if isinstance(value, type) and issubclass(value, flusk_common.FluskError)
    ]
    assert len(classes) >= 12
    for error in classes:
        assert f"{error.__name__} " in doc
        assert f"{error.status} {error.code}" in doc
        if error is not flusk_common.FluskError:  # the base of them all answers internal_error
            assert error.__name__.lower() == error.code.replace("_", "")
