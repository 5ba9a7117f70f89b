"""``make new-service name=<x>``: a new service from the template, wired everywhere.

The template, ``service_template/`` in this package, holds a complete service like foss
with one sample resource. Every file ends in ``.tmpl`` (so it is neither linted nor
collected as Python) and uses four placeholders, in contents and paths alike:
``__service__`` (the name, ``order_lines``), ``__item__`` (one of what it holds, the name
made singular: ``order_line``), ``__Item__`` (its model class, ``OrderLine``) and
``__prefix__`` (its URL prefix: ``/order_lines``, or the one given, ``/order-lines``).

The service is written to a hidden folder under ``services/`` and renamed into place,
formatted by ruff (its imports sort by the name; long names wrap), then registered in
``services.toml``, and the generated files are rewritten. A refused name changes nothing;
a step that fails after that undoes every change.

Errors::

    NewServiceError            the service could not be created; nothing was changed
     └── InvalidServiceName    the name is refused, and the message says why
"""

from __future__ import annotations

import functools
import importlib.util
import io
import keyword
import re
import secrets
import shutil
import subprocess
import sys
import tokenize
from collections.abc import Iterator, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

import inflect

from .generate import GENERATED, K8S, write_generated
from .registry import (
    REGISTRY_FILE,
    RESERVED,
    RegistryError,
    Service,
    check_prefix,
    find_root,
    load_services,
    register_service,
)

PLACEHOLDER = "__service__"
ITEM_PLACEHOLDER = "__item__"
CLASS_PLACEHOLDER = "__Item__"
PREFIX_PLACEHOLDER = "__prefix__"
PLACEHOLDERS = (PLACEHOLDER, ITEM_PLACEHOLDER, CLASS_PLACEHOLDER, PREFIX_PLACEHOLDER)
TEMPLATE_FOLDER = "service_template"
TEMPLATE_SUFFIX = ".tmpl"
# PostgreSQL cuts identifiers at 63 bytes (uq_<name>_name must fit); shorter keeps the
# template's lines within the line length whatever the name.
MAX_NAME_LENGTH = 32
USAGE = (
    "usage: make new-service name=<name> [prefix=/<url-prefix>]  (a lowercase Python "
    "identifier, e.g. orders; the prefix defaults to /<name>, e.g. prefix=/order-items)"
)
_NAME = re.compile(r"[a-z][a-z0-9_]*")
# `type` became a soft keyword in Python 3.12: refuse it on 3.11 too.
_SOFT_KEYWORDS = frozenset(keyword.softkwlist) | {"type"}
# A resource's path converter is named after its item; Werkzeug and Flusk use these names.
_CONVERTERS = frozenset({"default", "string", "any", "path", "int", "float", "uuid", "id"})


class NewServiceError(Exception):
    """The service could not be created; nothing was changed. The message says why."""


class InvalidServiceName(NewServiceError):
    """The name is refused: the message says why and what to do."""


@functools.cache
def item_name(name: str) -> str:
    """One of what service ``name`` holds: ``order_lines`` -> ``order_line``; ``foss`` stays."""
    *rest, last = name.split("_")
    singular = inflect.engine().singular_noun(last)
    return "_".join([*rest, singular or last])


def class_name(name: str) -> str:
    """The model class of service ``name``: ``order_lines`` -> ``OrderLine``."""
    return "".join(part.capitalize() for part in item_name(name).split("_"))


def substitute(text: str, name: str, prefix: str | None = None) -> str:
    return (
        text.replace(PREFIX_PLACEHOLDER, prefix or f"/{name}")
        .replace(CLASS_PLACEHOLDER, class_name(name))
        .replace(ITEM_PLACEHOLDER, item_name(name))
        .replace(PLACEHOLDER, name)
    )


def _walk(folder: Traversable, relative: PurePosixPath) -> Iterator[tuple[PurePosixPath, str]]:
    for entry in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if entry.is_dir():
            yield from _walk(entry, relative / entry.name)
        elif entry.name.endswith(TEMPLATE_SUFFIX):
            path = relative / entry.name.removesuffix(TEMPLATE_SUFFIX)
            yield path, entry.read_text(encoding="utf-8")


@functools.cache
def template_files() -> tuple[tuple[PurePosixPath, str], ...]:
    """Every file of the template: its path inside the service and its text, placeholders kept."""
    return tuple(_walk(resources.files(__package__).joinpath(TEMPLATE_FOLDER), PurePosixPath()))


@functools.cache
def _template_identifiers() -> tuple[frozenset[str], frozenset[str]]:
    """The names the template's Python code uses: those without a placeholder, and those with."""
    fixed, templated = set(), set()
    for path, text in template_files():
        if path.suffix == ".py":
            tokens = tokenize.generate_tokens(io.StringIO(text).readline)
            names = {token.string for token in tokens if token.type == tokenize.NAME}
            fixed |= {n for n in names if not any(mark in n for mark in PLACEHOLDERS)}
            templated |= names - fixed
    return frozenset(fixed), frozenset(templated)


def _template_clash(name: str) -> str | None:
    """A name of the template that one made from ``name`` would shadow (``Base``, ``sa``)."""
    fixed, templated = _template_identifiers()
    clashes = {substitute(identifier, name) for identifier in templated} & fixed
    return min(clashes) if clashes else None


def _importable_as(name: str) -> str | None:
    """Where ``name`` is already importable from, if it is."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return "a module already imported"
    if spec is None:
        return None
    return spec.origin or next(iter(spec.submodule_search_locations or []), "a namespace package")


def _existing_services(root: Path) -> set[str]:
    try:
        return {service.name for service in load_services(root)}
    except RegistryError as exc:
        raise NewServiceError(f"{exc}; mend it first") from None


def validate_name(root: Path, name: str) -> None:
    """Refuse a name that would not make a working, unambiguous service."""
    refuse = InvalidServiceName
    if not name:
        raise refuse(f"a service name is required; {USAGE}")
    if not _NAME.fullmatch(name):
        raise refuse(
            f"{name!r} is not a lowercase Python identifier: use a-z, 0-9 and _, starting "
            "with a letter (e.g. orders or order_lines)"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise refuse(f"{name!r} is longer than {MAX_NAME_LENGTH} characters: choose a shorter name")
    if keyword.iskeyword(name) or name in _SOFT_KEYWORDS:
        raise refuse(f"{name!r} is a Python keyword: choose another name")
    if name in sys.stdlib_module_names:
        raise refuse(f"{name!r} is a module of Python's standard library: choose another name")
    if name in RESERVED:
        raise refuse(
            f"{name!r} is reserved in this repository (a folder, tox environment or package "
            "of its own): choose another name"
        )
    if name in _existing_services(root) or (root / "services" / name).exists():
        raise refuse(
            f"service {name!r} already exists (in {REGISTRY_FILE} or services/{name}/): "
            "choose another name"
        )
    origin = _importable_as(name)
    if origin is not None:
        raise refuse(
            f"{name!r} is already importable here as another package ({origin}): "
            "choose another name"
        )
    if item_name(name) in _CONVERTERS:
        raise refuse(
            f"{name!r} holds {item_name(name)!r}s, a name URL routing already uses: "
            "choose another name"
        )
    clash = _template_clash(name)
    if clash is not None:
        raise refuse(
            f"{name!r} would clash with the name {clash!r} the service's code uses: "
            "choose another name"
        )


def render(name: str, prefix: str | None = None) -> dict[PurePosixPath, str]:
    """Every file of service ``name``: its path inside ``services/<name>/`` and its text."""
    files = {}
    for path, text in template_files():
        files[PurePosixPath(substitute(str(path), name))] = substitute(text, name, prefix)
    return files


def _snapshot(root: Path) -> dict[Path, bytes | None]:
    """The bytes of the registry and of every generated file (None: it does not exist)."""
    snapshot: dict[Path, bytes | None] = {}
    for path in (root / REGISTRY_FILE, *(root / generated for generated in GENERATED)):
        if path.is_file():
            snapshot[path] = path.read_bytes()
        elif not path.exists():
            snapshot[path] = None
    return snapshot


def _restore(snapshot: dict[Path, bytes | None]) -> None:
    for path, content in snapshot.items():
        if content is None:
            path.unlink(missing_ok=True)
        elif not path.is_file() or path.read_bytes() != content:
            path.write_bytes(content)


def _write_tree(folder: Path, files: dict[PurePosixPath, str]) -> None:
    folder.mkdir()
    for relative, content in files.items():
        path = folder.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def _format(folder: Path) -> None:
    """Let ruff sort the service's imports (its package is first-party) and wrap long lines."""
    for command in (["check", "--select", "I", "--fix"], ["format"]):
        result = subprocess.run(  # noqa: S603 - our own interpreter, our own arguments
            [sys.executable, "-m", "ruff", *command, "--quiet", "--no-cache", str(folder)],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise NewServiceError(f"ruff {command[0]} failed on the new service: {result.stderr}")


def create_service(root: Path, name: str, prefix: str | None = None) -> Service:
    """Create service ``name`` in ``root``: its folder, registry entry and generated files.

    Its URL prefix is ``prefix`` (checked as the registry checks it), else ``/<name>``.
    """
    validate_name(root, name)
    if prefix is not None:
        try:
            check_prefix(prefix, "the prefix")
        except RegistryError as exc:
            raise InvalidServiceName(str(exc)) from None
        if prefix in {service.prefix for service in load_services(root)}:
            raise InvalidServiceName(f"another service already owns {prefix}: choose another")
    files = render(name, prefix)
    snapshot = _snapshot(root)
    target = root / "services" / name
    staging = target.with_name(f".{name}.tmp-{secrets.token_hex(4)}")
    created: Path | None = None
    try:
        created = staging
        _write_tree(staging, files)
        if target.exists():  # made since it was validated: never replace it
            raise NewServiceError(f"services/{name}/ appeared while it was being created")
        staging.rename(target)
        created = target
        _format(target)
        service = register_service(root, name, prefix)
        write_generated(root)
    except BaseException as exc:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        _restore(snapshot)
        if isinstance(exc, Exception) and not isinstance(exc, NewServiceError):
            raise NewServiceError(f"creating {name!r} failed, nothing was changed: {exc}") from exc
        raise
    return service


def _next_steps(service: Service) -> str:
    # deploy/k8s's files as one folder: a line each would bury the rest.
    written = [path for path in GENERATED if K8S not in path.parents] + [K8S]
    folder = f"services/{service.name}/"
    changed = [folder, REGISTRY_FILE, *map(str, written)]
    lines = [
        f"Created the {service.name} service, served under {service.prefix}:",
        f"  {folder:34} its package, migrations and tests",
        f"  {REGISTRY_FILE:34} [services.{service.name}], local port {service.port}",
        *(f"  {path!s:34} regenerated" for path in written),
        "Next:",
        f"  {f'make test service={service.name}':34} its tests, on its built wheel",
        f"  {'make run':34} the whole stack; curl http://localhost:8080{service.prefix}",
        f"  git add {' '.join(changed)}",
    ]
    return "\n".join(lines) + "\n"


def _fail(message: str, status: int) -> int:
    sys.stderr.write(f"make new-service: {' '.join(message.split())}\n")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """``flusk-new-service NAME [--prefix=/x]``: 0 if created, 2 for a bad command line or name."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments in (["-h"], ["--help"]):
        sys.stdout.write(f"{USAGE}\n")
        return 0
    prefix = None
    if len(arguments) == 2 and arguments[1].startswith("--prefix="):
        prefix = arguments.pop().removeprefix("--prefix=") or None
    if len(arguments) != 1:
        return _fail(USAGE, 2)
    try:
        service = create_service(find_root(), arguments[0], prefix)
    except InvalidServiceName as exc:
        return _fail(str(exc), 2)
    except (NewServiceError, RegistryError) as exc:
        return _fail(str(exc), 1)
    sys.stdout.write(_next_steps(service))
    return 0
