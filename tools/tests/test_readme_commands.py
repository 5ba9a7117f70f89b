"""Every command README.md shows, and the test that runs it; the Makefile targets run here.

`COVERED` names, for each command the README shows (its ```sh blocks, and the `make ...`,
`curl ...`, `.venv/bin/...` and `npm ...` commands of its text and tables), the test that
runs it as written, or why none can; a command added to the README without an entry fails
`test_every_readme_command_has_a_test`.

The targets below run with the real Makefile, on a copy of the repository (the files git
would commit), with this environment's tools in place of `.venv`'s (`-o venv BIN=...`),
each within a minute. Not run here:

- `make compose-up`, the `curl` after it and `make compose-down` need a Docker engine; the
  gateway suite checks the compose file with the real Compose binary and every Dockerfile
  with hadolint (gateway/tests/test_containers.py).
- `make lock` needs the network and rewrites every pin; `test_lock_installs_what_tox_installs`
  checks its recipe instead: every package tox.ini installs by name is among what it pins.
- `make test-changed` installs and runs tox's `lint` environment on the copy, which takes
  minutes: it runs in `make test-walkthrough`.
"""

from __future__ import annotations

import configparser
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from test_new_service import clean_environment, copy_repository, snapshot

from conftest import ROOT
from flusk_tools.registry import load_services

README = ROOT / "README.md"
BIN_DIR = Path(sys.executable).parent
MAKE_SECONDS = 60
# How a README command reads, in a ```sh block or in `backticks` of the text.
COMMAND = re.compile(r"(make |curl |\.venv/bin/|npm |[A-Z_]+=\S+ make )")
WALKTHROUGH = "tools/tests/test_walkthrough.py"
CURL = "gateway/tests/test_readme_curl.py"
HERE = "tools/tests/test_readme_commands.py"
MAKE_RUN = "gateway/tests/test_make_run.py"
TRACING = "gateway/tests/test_tracing.py"
CI = "not run by a test: .ci/run runs it, on every push"
COMPOSE = "not run (needs a Docker engine): gateway/tests/test_containers.py checks the files"
FUZZ = "gateway/tests/test_fuzz.py (the same run, FUZZ_EXAMPLES per operation)"
BENCH = "not run (minutes of load): bench/tests/test_harness.py runs its harness"
CLUSTER = (
    "not run (needs an image registry and a cluster): tools/tests/test_kubernetes.py builds "
    "and validates deploy/k8s, gateway/tests/test_containers.py checks the Dockerfiles"
)

COVERED = {
    "make run": MAKE_RUN,
    "make run | head": MAKE_RUN,
    "make run traces=1": TRACING,
    "jq -c 'select(.trace_id == \"<id>\") | [.service, .kind, .name, .duration_ms]'"
    " var/traces/*.jsonl": TRACING,
    "grep -h <id> var/log/*.log": TRACING,
    "FOSS_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/foss make run": CURL,
    "make logs service=foss": HERE,
    "make test": WALKTHROUGH,
    "make test service=foss": WALKTHROUGH,
    "make test service=orders": WALKTHROUGH,
    "make test-changed": WALKTHROUGH,
    "make test-changed [base=main]": WALKTHROUGH,
    "make test-postgres": CI,
    "make test-walkthrough": "not run by a test: it runs " + WALKTHROUGH,
    "make test-faults": CI,
    "make fuzz": FUZZ,
    "make fuzz [examples=500] [seed=N]": FUZZ,
    ".venv/bin/tox run -e foss -- -k license": HERE,
    ".venv/bin/tox run -e faults -- -k database": HERE,
    "make new-service": "tools/tests/test_new_service.py",
    "make new-service name=orders": WALKTHROUGH,
    "make new-service name=orders [prefix=/orders]": WALKTHROUGH,
    "make new-service name=order_items prefix=/order-items": "tools/tests/test_new_service.py",
    "make generate": HERE,
    "make help": HERE,
    "make venv": WALKTHROUGH,
    "make lint": "tox.ini's lint environment, the first of `make test`",
    "make format": HERE,
    "make clean": HERE,
    'make db-revision service=foss msg="..."': "tools/tests/test_db_revision.py",
    'make db-revision service=foss msg="add website"': "tools/tests/test_db_revision.py",
    'make db-revision service=orders msg="add quantity"': "tools/tests/test_adding_a_field.py",
    "make db-upgrade [service=foss]": HERE,
    "make db-upgrade service=foss": HERE,
    "make db-upgrade-sql service=foss": HERE,
    "make compose-up": COMPOSE,
    "make compose-down": COMPOSE,
    "make compose-down volumes=1": COMPOSE,
    "docker compose -f compose/docker-compose.yml up --detach postgres": COMPOSE,
    "docker compose -f compose/docker-compose.yml exec postgres sh "
    "/docker-entrypoint-initdb.d/init-databases.sh": "not run (needs a Docker engine): "
    "gateway/tests/test_compose_databases.py runs the script again on a server with data",
    "make compose-down [volumes=1]": COMPOSE,
    "make bench": BENCH,
    "make bench [quick=1] [save=1]": BENCH,
    "make bench quick=1": BENCH,
    "make bench save=1": BENCH,
    ".venv/bin/python -m bench.profile": BENCH,
    ".venv/bin/python -m bench.profile --database postgresql": BENCH,
    "make lock": HERE,  # its recipe read, not run: it needs the network, rewrites every pin
    "npm ci": WALKTHROUGH,  # the gateway image's stage: test_containers.py checks its Dockerfile
    "npm ci --prefix gateway/docs --ignore-scripts": WALKTHROUGH,  # by make venv
    "npm install --prefix gateway/docs --ignore-scripts": "not run: it rewrites the lock",
    "export POSTGRES_PASSWORD=change-me": COMPOSE,
    "OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4318 OTEL_TRACES_EXPORTER=otlp docker compose"
    " -f compose/docker-compose.yml --profile observability up --build --detach": COMPOSE,
    "export FOSS_DB_PASSWORD=change-me-too LICENSES_DB_PASSWORD=change-me-three": COMPOSE,
    "docker build -f services/Dockerfile --build-arg SERVICE=foss -t "
    "registry.example.com/flusk/foss:1.4.0 .": CLUSTER,
    "docker build -f gateway/Dockerfile -t registry.example.com/flusk/gateway:1.4.0 .": CLUSTER,
    "docker push registry.example.com/flusk/foss:1.4.0": CLUSTER,
    "cd deploy/k8s/overlays/prod && kustomize edit set image "
    "flusk/foss=registry.example.com/flusk/foss:1.4.0": CLUSTER,
    "kubectl apply -f deploy/k8s/overlays/prod/namespace.yaml": CLUSTER,
    "kubectl -n flusk create secret generic foss-secrets --from-literal=DATABASE_URL="
    "'postgresql+psycopg://foss:<password>@db.example.com:5432/foss' "
    "--from-literal=API_KEYS='<key>'": CLUSTER,
    "kubectl apply -k deploy/k8s/overlays/prod": CLUSTER,
    "kubectl -n flusk rollout status deployment/foss": CLUSTER,
    'kubectl -n flusk patch hpa foss -p \'{"spec":{"minReplicas":4}}\'': CLUSTER,
    "kubectl -n flusk rollout undo deployment/foss": CLUSTER,
    "kubectl -n flusk exec deploy/foss -c foss -- alembic -c /app/alembic.ini downgrade "
    "<revision>": CLUSTER,
}


def block_commands(block: str) -> set[str]:
    """The commands of a ```sh block, continuations joined, blanks collapsed, no comments."""
    lines = (line.split("#", 1)[0] for line in block.replace("\\\n", " ").splitlines())
    return {" ".join(code.split()) for code in lines if code.strip()}


def readme_commands() -> set[str]:
    """Every command the README shows, in its ```sh blocks and in its text's `backticks`."""
    text = README.read_text(encoding="utf-8")
    commands = set()
    for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
        commands |= block_commands(block)
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    for quoted in re.findall(r"`([^`]+)`", prose):
        if COMMAND.match(quoted):
            commands.add(" ".join(quoted.split()))
    return commands


def section_commands(heading: str) -> set[str]:
    """The commands of the first ```sh block under ``heading``."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(f"\n{heading}\n") :]
    return block_commands(re.findall(r"```sh\n(.*?)```", section, re.DOTALL)[0])


def test_every_readme_command_has_a_test() -> None:
    shown = {command for command in readme_commands() if "localhost:8080" not in command}
    curls = {command for command in readme_commands() if "localhost:8080" in command}
    walked = section_commands("### A walk through the foss API")
    walked |= section_commands("## The API documents")  # both read by CURL
    walked |= section_commands("## Following a request")  # read by TRACING

    assert sorted(shown - set(COVERED)) == [], "README commands without an entry in COVERED"
    assert curls - walked == {"curl -s localhost:8080/foss"}  # in containers, not run
    assert [
        path
        for path in set(COVERED.values())
        if path.endswith(".py") and " " not in path and not (ROOT / path).is_file()
    ] == []


def test_every_compose_block_exports_the_same_secrets() -> None:
    """Compose refuses to start without its secrets: each block that starts it sets them all."""
    text = README.read_text(encoding="utf-8")
    starting = [
        block
        for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
        if "make compose-up" in block or re.search(r"docker compose .* up\b", block)
    ]
    exported = [
        set(re.findall(r"\b([A-Z_]+_PASSWORD)=", " ".join(re.findall(r"^export .*", block, re.M))))
        for block in starting
    ]
    assert len(starting) >= 2
    assert "POSTGRES_PASSWORD" in exported[0]
    # A block exporting none goes on in the shell of one above.
    assert all(names in (exported[0], set()) for names in exported), exported


def run(root: Path, command: list[str], **env: str) -> str:
    """``command`` in ``root`` as a developer runs it, with the copy's services importable."""
    sources = [str(path) for path in sorted((root / "services").glob("*/src"))]
    environment = clean_environment() | {"PYTHONPATH": os.pathsep.join(sources)} | env
    result = subprocess.run(
        command,
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=MAKE_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def make(root: Path, *arguments: str) -> str:
    """A target of the real Makefile, with this environment's tools instead of .venv's."""
    return run(root, ["make", "--no-print-directory", "-o", "venv", f"BIN={BIN_DIR}", *arguments])


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repository(tmp_path / "repo")


# `make help`


def test_help_lists_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text()
    documented = re.findall(r"^([a-z-]+):.*## ", makefile, re.MULTILINE)
    phony = re.search(r"^\.PHONY: (.*)$", makefile, re.MULTILINE)
    assert phony is not None

    listed = make(ROOT, "help")

    assert sorted(documented) == sorted(phony[1].split())
    assert re.findall(r"^  make (\S+)", listed, re.MULTILINE) == documented
    assert "$(" not in listed
    assert "since main touches" in listed


def test_help_names_every_target_the_readme_shows() -> None:
    listed = set(re.findall(r"^  make (\S+)", make(ROOT, "help"), re.MULTILINE))
    shown = {command.split()[1] for command in readme_commands() if command.startswith("make ")}

    assert shown - listed == set()


def test_readme_table_lists_every_target() -> None:
    """The README's "Every target" table: what `make help` lists (`help` aside), no more."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("### Every target") : text.index("## Layout")]
    rows = [row.split("|")[1] for row in table.splitlines() if row.startswith("| `make")]
    shown = [target for row in rows for target in re.findall(r"`make ([a-z-]+)", row)]

    listed = re.findall(r"^  make (\S+)", make(ROOT, "help"), re.MULTILINE)

    assert sorted(shown) == sorted(target for target in listed if target != "help")


# `make compose-down` (printed, not run: no Docker engine here)


def test_compose_down_drops_volume_only_when_asked() -> None:
    kept = make(ROOT, "--dry-run", "compose-down").split()
    dropped = make(ROOT, "--dry-run", "compose-down", "volumes=1").split()
    assert kept[-1] == "down"
    assert dropped[-2:] == ["down", "-v"]
    assert kept[:-1] == dropped[:-2] == ["docker", "compose", "-f", "compose/docker-compose.yml"]


# `make generate`, `make format`, `make clean`


def tracked(root: Path) -> dict[str, bytes | None]:
    """What ``snapshot`` gives, without the caches a tool leaves behind."""
    return {
        path: content
        for path, content in snapshot(root).items()
        if not re.search(r"(^|/)(\.ruff_cache|__pycache__)(/|$)", path)
    }


def test_generate_rewrites_nothing_on_a_clean_tree(repo: Path) -> None:
    before = tracked(repo)

    make(repo, "generate")

    assert tracked(repo) == before


def test_format_rewrites_only_what_lint_refuses(repo: Path) -> None:
    before = tracked(repo)
    make(repo, "format")
    untouched = tracked(repo) == before
    scrappy = repo / "tools" / "src" / "flusk_tools" / "scrappy.py"
    scrappy.write_text('"""Scrappy."""\nimport sys\nimport os\nx=[os.sep,sys.argv ]\n')

    make(repo, "format")

    assert untouched
    assert (
        scrappy.read_text() == '"""Scrappy."""\n\nimport os\nimport sys\n\nx = [os.sep, sys.argv]\n'
    )


def test_clean_removes_environments_databases_and_caches(repo: Path) -> None:
    before = snapshot(repo)
    made = [
        ".venv/bin/python",
        ".tox/foss/bin/python",
        "var/foss.db",
        "var/log/foss.log",
        "gateway/docs/node_modules/swagger-ui-dist/index.html",
        "services/foss/src/foss/__pycache__/views.cpython-311.pyc",
        "services/foss/.pytest_cache/README.md",
        "tools/.mypy_cache/3.11/x.json",
        ".ruff_cache/CACHEDIR.TAG",
        "services/foss/src/foss.egg-info/PKG-INFO",
        "libs/flusk_common/.coverage.host.1",
    ]
    for name in made:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("x")

    run(repo, ["make", "--no-print-directory", "clean"])

    assert snapshot(repo) == before


# `make db-upgrade`, `make db-upgrade service=foss`, `make db-upgrade-sql service=foss`


def test_upgrade_every_database_then_print_nothing_pending(repo: Path) -> None:
    services = sorted(path.name for path in (repo / "services").iterdir() if path.is_dir())
    (repo / "var").mkdir()

    every = make(repo, "db-upgrade")
    foss = make(repo, "db-upgrade", "service=foss")
    pending = make(repo, "db-upgrade-sql", "service=foss")

    assert every.splitlines()[:1] == [f"migrating {services[0]}"]
    assert [line for line in every.splitlines() if line.startswith("migrating")] == [
        f"migrating {name}" for name in services
    ]
    assert all((repo / "var" / f"{name}.db").is_file() for name in services)
    assert foss.splitlines() == ["migrating foss"]
    assert "-- Running upgrade" not in pending


def test_print_every_migration_of_new_database(repo: Path) -> None:
    (repo / "var").mkdir()

    pending = make(repo, "db-upgrade-sql", "service=foss")

    assert "-- Running upgrade  -> " in pending
    assert "CREATE TABLE foss" in pending


# `make logs service=foss`


def test_logs_needs_a_service(repo: Path) -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "logs"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2
    assert "usage: make logs service=<name>" in result.stderr


def test_logs_follows_one_process_output(repo: Path) -> None:
    log = repo / "var" / "log" / "foss.log"
    log.parent.mkdir(parents=True)
    log.write_text("an earlier line\n")
    shown = repo / "shown.txt"

    with shown.open("w") as terminal:
        follower = subprocess.Popen(
            ["make", "--no-print-directory", "logs", "service=foss"],
            cwd=repo,
            stdout=terminal,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 10
        while "an earlier line" not in shown.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        with log.open("a") as writer:  # the running process writes on
            writer.write("a later line\n")
        while "a later line" not in shown.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        still_following = follower.poll() is None
    finally:
        os.killpg(follower.pid, signal.SIGTERM)
        follower.wait(timeout=10)

    lines = [line for line in shown.read_text().splitlines() if line.endswith(" line")]
    assert lines == ["an earlier line", "a later line"]
    assert still_following


# `.venv/bin/tox run -e <env> -- -k <words>`: the words select tests of that environment


@pytest.mark.parametrize(
    "command", sorted(c for c in readme_commands() if c.startswith(".venv/bin/tox run -e"))
)
def test_tox_selection_names_existing_tests(command: str) -> None:
    parsed = re.fullmatch(r"\.venv/bin/tox run -e (\w+) -- -k (\w+)", command)
    assert parsed is not None, command
    environment, words = parsed.groups()
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    folder = tox[f"testenv:{environment}"]["change_dir"].replace("{toxinidir}", str(ROOT))

    tests = [
        path
        for path in Path(folder).rglob("test_*.py")
        if words in path.stem or re.search(rf"def test_\w*{words}", path.read_text())
    ]

    assert tests, f"{command}: -k {words} selects no test under {folder}"


# `make lock`: read, not run


def project_name(requirement: str) -> str:
    """``requirement``'s distribution name, normalized (PEP 503)."""
    name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    assert name is not None, requirement
    return re.sub(r"[-_.]+", "-", name[0]).lower()


def tox_installs() -> set[str]:
    """The packages tox.ini's environments install by name (not from a path)."""
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    words = []
    for section in tox.sections():
        words += tox[section].get("deps", "").split()
        for line in tox[section].get("commands_pre", "").replace("\\\n", " ").splitlines():
            words += line.partition("pip install")[2].split()
    return {project_name(word) for word in words if not word.startswith(("-", "{"))}


def lock_installs() -> set[str]:
    """What `make lock` pins: what its recipe names, bench's requirements, the packages' deps."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\nlock:") : makefile.index("\nclean:")]
    named = recipe.replace("\\\n", " ").partition("pip install")[2].split("\n")[0].split()
    names = {project_name(word) for word in named if re.fullmatch(r"[a-z][\w.-]*", word)}
    requirements = (ROOT / "bench" / "requirements.txt").read_text().splitlines()
    names |= {project_name(line) for line in requirements if line and not line.startswith("#")}
    for pyproject in [ROOT / "tools", *ROOT.glob("libs/*"), *ROOT.glob("services/*")]:
        if (pyproject / "pyproject.toml").is_file():
            project = tomllib.loads((pyproject / "pyproject.toml").read_text())["project"]
            declared = project.get("dependencies", [])
            for extra in project.get("optional-dependencies", {}).values():
                declared += extra
            names |= {project_name(requirement) for requirement in declared}
    return names


def test_lock_installs_what_tox_installs() -> None:
    pinned = {
        project_name(line)
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    ours = {project_name(service.name) for service in load_services(ROOT)}
    installed = tox_installs() - ours - {"flusk-common", "flusk-tools"}

    assert {"mypy", "schemathesis", "psutil"} <= installed  # the parsing sees tox.ini's lists
    assert sorted(installed - lock_installs()) == []
    assert sorted(installed - pinned) == []
