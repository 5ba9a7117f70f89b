"""The app factory: settings from defaults, the environment and test_config; schemas checked."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Blueprint

from flusk_common import ServiceApp, create_service_app
from flusk_common._config import load_settings
from flusk_common._errors import ConfigurationError
from sample_app import create_app

TESTS = Path(__file__).parent


def sample_app(**config: Any) -> ServiceApp:
    return create_app({"DATABASE_URL": "sqlite://", **config})


def test_load_default_settings() -> None:
    settings = load_settings("svc", {})
    assert settings["DATABASE_URL"] == "sqlite:///var/svc.db"
    assert settings["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert settings["JSON_MAX_DEPTH"] == 32
    assert (settings["CORS_ORIGINS"], settings["CORS_ALLOW_CREDENTIALS"]) == ((), False)
    assert settings["API_KEYS"] == ()


def test_read_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "2048")
    monkeypatch.setenv("CORS_ORIGINS", " https://a.example, ,https://b.example ")
    monkeypatch.setenv("CORS_ALLOW_CREDENTIALS", "yes")
    monkeypatch.setenv("API_KEYS", "k1,k2")
    config = sample_app().config
    assert config["MAX_CONTENT_LENGTH"] == 2048
    assert config["CORS_ORIGINS"] == ("https://a.example", "https://b.example")
    assert config["CORS_ALLOW_CREDENTIALS"] is True
    assert config["API_KEYS"] == ("k1", "k2")


def test_prefer_test_config_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMPLE_APP_MAX_CONTENT_LENGTH", "2048")
    assert sample_app(MAX_CONTENT_LENGTH=512).config["MAX_CONTENT_LENGTH"] == 512


def test_prefer_service_prefixed_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "2048")
    monkeypatch.setenv("SAMPLE_APP_MAX_CONTENT_LENGTH", "4096")
    monkeypatch.setenv("OTHER_JSON_MAX_DEPTH", "7")
    config = sample_app().config
    assert config["MAX_CONTENT_LENGTH"] == 4096
    assert config["JSON_MAX_DEPTH"] == 32


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MAX_CONTENT_LENGTH", "1MB", "MAX_CONTENT_LENGTH='1MB' is invalid"),
        ("JSON_MAX_DEPTH", "0", "JSON_MAX_DEPTH='0' is invalid: must be a positive integer"),
        ("CORS_ALLOW_CREDENTIALS", "maybe", "must be true or false"),
        ("SAMPLE_APP_RETRY_AFTER", "-1", "SAMPLE_APP_RETRY_AFTER='-1' is invalid"),
    ],
)
def test_refuse_invalid_environment_value(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=message):
        sample_app()


@pytest.mark.parametrize(
    ("origins", "credentials"),
    [
        (("null",), False),
        (("https://a.example", "null"), False),
        (("*",), True),
        (("*", "https://a.example"), False),
    ],
    ids=["null", "null-among-others", "wildcard-with-credentials", "wildcard-among-others"],
)
def test_refuse_unsafe_cors_settings(origins: tuple[str, ...], credentials: bool) -> None:
    with pytest.raises(ConfigurationError, match="CORS_ORIGINS"):
        sample_app(CORS_ORIGINS=origins, CORS_ALLOW_CREDENTIALS=credentials)


def test_refuse_unsafe_cors_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "*")
    monkeypatch.setenv("CORS_ALLOW_CREDENTIALS", "true")
    with pytest.raises(ConfigurationError, match="CORS_ALLOW_CREDENTIALS"):
        sample_app()


def make_package(directory: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty, importable package of the test's own, with a ``schemas`` folder."""
    path = directory / f"throwaway_{uuid.uuid4().hex}"
    (path / "schemas").mkdir(parents=True)
    (path / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(directory)
    return path


def package_app(package: Path, blueprint: Blueprint) -> ServiceApp:
    return create_service_app(
        package.name,
        blueprints=[blueprint],
        metadata=sa.MetaData(),
        test_config={"TESTING": True, "DATABASE_URL": "sqlite://"},
    )


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_package(tmp_path, monkeypatch)


def create_things_app(package: Path) -> ServiceApp:
    """An app of ``package`` with one body-taking endpoint, ``things.create_thing``."""
    things = Blueprint("things", package.name)

    @things.post("/things")
    def create_thing() -> dict[str, Any]:
        return {}

    return package_app(package, things)


def test_create_app_with_body_schema(package: Path) -> None:
    (package / "schemas" / "create_thing.json").write_text('{"type": "object"}')
    assert create_things_app(package).test_client().post("/things", json={}).status_code == 200


def test_refuse_body_endpoint_without_schema(package: Path) -> None:
    expected = f"add {package.name}/schemas/create_thing.json"
    with pytest.raises(ConfigurationError, match=expected):
        create_things_app(package)


@pytest.mark.parametrize(
    ("text", "message"),
    [('{"type": ', "is not valid JSON"), ('{"type": "thing"}', "is not a valid JSON Schema")],
    ids=["not-json", "not-a-schema"],
)
def test_refuse_invalid_schema_file(package: Path, text: str, message: str) -> None:
    (package / "schemas" / "create_thing.json").write_text(text)
    with pytest.raises(
        ConfigurationError, match=f"{package.name}/schemas/create_thing.json {message}"
    ):
        create_things_app(package)


def test_create_nothing_at_import(tmp_path: Path) -> None:
    # Settings that would stop an app from being created must not stop an import.
    environ = {
        **os.environ,
        "PYTHONPATH": str(TESTS),
        "MAX_CONTENT_LENGTH": "x",
        "CORS_ORIGINS": "null",
    }
    script = textwrap.dedent(
        """
        import flask, sqlalchemy
        import flusk_common, sample_app, sample_app.models, sample_app.views
        modules = (flusk_common, sample_app, sample_app.models, sample_app.views)
        made = [
            name
            for module in modules
            for name, value in vars(module).items()
            if isinstance(value, (flask.Flask, sqlalchemy.Engine))
        ]
        assert not made, made
        """
    )
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=environ, check=True)
    assert list(tmp_path.iterdir()) == []
