"""``make new-service name=<x>``: a new service from the template, wired everywhere.

The template, ``service_template/`` in this package, holds a complete service like foss
with one sample resource. Every file ends in ``.tmpl`` (so it is neither linted nor
collected as Python) and uses two placeholders, in contents and paths alike:
``__service__`` (the name, ``order_lines``) and ``__Service__`` (its class, ``OrderLines``).

The service is written to a hidden folder under ``services/`` and renamed into place, then
registered in ``services.toml``, and the generated files are rewritten. A refused name
changes nothing; a step that fails after that undoes every change.

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
import sys
import tokenize
from collections.abc import Iterator, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from .generate import GENERATED, write_generated
from .registry import (
    REGISTRY_FILE,
    RESERVED,
    RegistryError,
    Service,
    find_root,
    load_services,
    register_service,
)

PLACEHOLDER = "__service__"
CLASS_PLACEHOLDER = "__Service__"
TEMPLATE_FOLDER = "service_template"
TEMPLATE_SUFFIX = ".tmpl"
# PostgreSQL cuts identifiers at 63 bytes (uq_<name>_name must fit); shorter keeps the
# template's lines within the line length whatever the name.
MAX_NAME_LENGTH = 32
USAGE = "usage: make new-service name=<name>  (a lowercase Python identifier, e.g. orders)"
_NAME = re.compile(r"[a-z][a-z0-9_]*")
# `type` became a soft keyword in Python 3.12: refuse it on 3.11 too.
_SOFT_KEYWORDS = frozenset(keyword.softkwlist) | {"type"}
_IMPORT = re.compile(r"(?:from|import) ([\w.]+)")


class NewServiceError(Exception):
    """The service could not be created; nothing was changed. The message says why."""


class InvalidServiceName(NewServiceError):
    """The name is refused: the message says why and what to do."""


def class_name(name: str) -> str:
    """The model class of service ``name``: ``order_lines`` -> ``OrderLines``."""
    return "".join(part.capitalize() for part in name.split("_"))


def substitute(text: str, name: str) -> str:
    return text.replace(CLASS_PLACEHOLDER, class_name(name)).replace(PLACEHOLDER, name)


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
            fixed |= {n for n in names if PLACEHOLDER not in n and CLASS_PLACEHOLDER not in n}
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
    clash = _template_clash(name)
    if clash is not None:
        raise refuse(
            f"{name!r} would clash with the name {clash!r} the service's code uses: "
            "choose another name"
        )


def _statements(lines: list[str]) -> Iterator[list[str]]:
    """The lines of a paragraph of imports, grouped by statement (``from x import (...)``)."""
    statement: list[str] = []
    depth = 0
    for line in lines:
        statement.append(line)
        depth += line.count("(") - line.count(")")
        if depth == 0:
            yield statement
            statement = []
    if statement:
        yield statement


def _module(statement: list[str]) -> str:
    match = _IMPORT.match(statement[0])
    return match.group(1) if match else ""


def _import_order(statement: list[str]) -> tuple[bool, str]:
    """Straight imports before from-imports, then by module, as ruff's isort orders them."""
    return statement[0].startswith("from "), _module(statement)


def sort_service_imports(source: str, name: str) -> str:
    """Sort the paragraphs of imports that name the service's own package.

    It is first-party like ``flusk_common`` and ``conftest``, so where its import falls
    among theirs depends on its name; every other import of the template is in order already.
    """
    paragraphs = source.split("\n\n")
    for index, paragraph in enumerate(paragraphs):
        lines = paragraph.split("\n")
        if not all(line.startswith(("import ", "from ", " ", ")")) for line in lines):
            continue
        statements = list(_statements(lines))
        if any(_module(statement).split(".")[0] == name for statement in statements):
            ordered = sorted(statements, key=_import_order)
            paragraphs[index] = "\n".join(line for statement in ordered for line in statement)
    return "\n\n".join(paragraphs)


def render(name: str) -> dict[PurePosixPath, str]:
    """Every file of service ``name``: its path inside ``services/<name>/`` and its text."""
    files = {}
    for path, text in template_files():
        content = substitute(text, name)
        if path.suffix == ".py":
            content = sort_service_imports(content, name)
        files[PurePosixPath(substitute(str(path), name))] = content
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


def create_service(root: Path, name: str) -> Service:
    """Create service ``name`` in ``root``: its folder, registry entry and generated files."""
    validate_name(root, name)
    files = render(name)
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
        service = register_service(root, name)
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
    written = list(GENERATED)
    folder = f"services/{service.name}/"
    changed = [folder, REGISTRY_FILE, *map(str, written)]
    lines = [
        f"Created the {service.name} service, served under {service.prefix}:",
        f"  {folder:34} its package, migrations, Dockerfile and tests",
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
    """``flusk-new-service NAME``: 0 when created, 2 for a bad command line or name, else 1."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments in (["-h"], ["--help"]):
        sys.stdout.write(f"{USAGE}\n")
        return 0
    if len(arguments) != 1:
        return _fail(USAGE, 2)
    try:
        service = create_service(find_root(), arguments[0])
    except InvalidServiceName as exc:
        return _fail(str(exc), 2)
    except (NewServiceError, RegistryError) as exc:
        return _fail(str(exc), 1)
    sys.stdout.write(_next_steps(service))
    return 0
