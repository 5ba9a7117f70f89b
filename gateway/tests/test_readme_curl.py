"""The README's `curl` lines, run as written against `make run`; `make run` on PostgreSQL.

The commands are read from README.md ("A walk through the foss API" and "The API
documents"), so the test fails when the README drifts from what the stack answers. Each
runs with the real curl, with only the gateway's port changed (the run has a free port of
its own, not 8080) and `<next_cursor from above>` replaced by the cursor the command
before it printed. The status each must get is the one its comment promises: a number in
its own trailing comment (`# 409 /license`, with the pointers its problem names), else in
the comment over its group (`# create: 201, ...`), else the HTTP contract's for its method
(201 for a POST, 204 for a DELETE, 200 otherwise).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest

from local_run import LocalRun
from stack import ROOT
from test_make_run import postgres_reachable

README = ROOT / "README.md"
README_PORT = "localhost:8080"
CURSOR_PLACEHOLDER = "<next_cursor from above>"
STATUS = re.compile(r"\b([1-5]\d\d)\b")
CURL_SECONDS = 15

needs_curl = pytest.mark.skipif(
    shutil.which("curl") is None, reason="the README's commands need curl (apt-get install curl)"
)


@dataclass
class Command:
    """One curl command of the README, with the answer its comments promise."""

    line: str
    status: int
    pointers: list[str] = field(default_factory=list)


def readme_block(heading: str) -> str:
    """The first ```sh block under the README's ``heading``."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(f"\n{heading}\n") :]
    start = section.index("```sh\n") + len("```sh\n")
    return section[start : section.index("```", start)]


def contract_status(words: list[str]) -> int:
    method = words[words.index("-X") + 1] if "-X" in words else ("POST" if "-d" in words else "GET")
    return {"POST": 201, "DELETE": 204}.get(method, 200)


def readme_commands(heading: str) -> list[Command]:
    """The block's commands, continuation lines joined, each with its promised status."""
    commands = []
    group_status: int | None = None
    for line in readme_block(heading).replace("\\\n", " ").splitlines():
        code, _, comment = line.partition("#")
        if not code.strip():  # a comment over a group of commands, or a blank line
            found = STATUS.search(comment)
            group_status = int(found[1]) if found else None
            continue
        own = STATUS.search(comment)
        words = shlex.split(code)
        assert words[0] == "curl", line
        status = int(own[1]) if own else group_status or contract_status(words)
        pointers = re.findall(r"(?<!\S)/\w+", comment)
        commands.append(Command(" ".join(code.split()), status, pointers))
    return commands


def run_curl(line: str, port: str) -> tuple[int, str]:
    """The command as written, on ``port``; its status (from --write-out) and its output."""
    words = shlex.split(line.replace(README_PORT, f"localhost:{port}"))
    result = subprocess.run(
        [*words, "--max-time", str(CURL_SECONDS), "--write-out", "\n%{http_code}"],
        capture_output=True,
        text=True,
        timeout=CURL_SECONDS + 5,
        check=False,
    )
    assert result.returncode == 0, f"{line}: curl failed\n{result.stderr}"
    output, _, status = result.stdout.rpartition("\n")
    return int(status), output


def json_body(output: str) -> dict[str, object]:
    """The JSON body of curl's output, with or without the headers of `-i`."""
    body = output.split("\r\n\r\n", 1)[-1]
    parsed: dict[str, object] = json.loads(body)
    return parsed


def test_readme_walk_names_every_operation() -> None:
    """The parsing above sees the block the README shows: every verb, every promise."""
    commands = readme_commands("### A walk through the foss API")

    statuses = {command.status for command in commands}
    assert {201, 200, 204, 422, 409} <= statuses
    assert sum(CURSOR_PLACEHOLDER in command.line for command in commands) == 1
    assert [c.pointers for c in commands if c.status == 409] == [["/license"]]


@needs_curl
@pytest.mark.parametrize(
    "heading",
    ["### A walk through the foss API", "## The API documents"],
    ids=["walk", "documents"],
)
def test_readme_curl_lines_get_promised_answers(local_run: LocalRun, heading: str) -> None:
    local_run.start_serving()
    port = local_run.env["GATEWAY_PORT"]
    cursor: object = None

    answers = []
    for command in readme_commands(heading):
        line = command.line
        if CURSOR_PLACEHOLDER in line:
            assert isinstance(cursor, str), f"no cursor printed before {line}"
            line = line.replace(CURSOR_PLACEHOLDER, cursor)
        status, output = run_curl(line, port)
        answers.append((command.line, status, output))
        if status == 200:  # every 200 of these is JSON; a page carries its next cursor
            cursor = json_body(output).get("next_cursor", cursor)
        if command.pointers:
            errors = json_body(output).get("errors")
            assert isinstance(errors, list), output
            assert [error["pointer"] for error in errors] == command.pointers, output

    wrong = [
        f"{line}\n  promised {command.status}, got {status}: {output}"
        for command, (line, status, output) in zip(readme_commands(heading), answers, strict=True)
        if status != command.status
    ]
    assert wrong == []


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A new database on the local server, dropped at the end whoever still uses it."""
    name = f"flusk_run_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield name
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.skipif(not postgres_reachable(), reason="no PostgreSQL on 127.0.0.1:5432")
@needs_curl
def test_run_on_postgresql_as_the_readme_shows(local_run: LocalRun, postgres_database: str) -> None:
    """`FOSS_DATABASE_URL=postgresql+psycopg://.../foss make run`, on a database of its own."""
    readme = " ".join(README.read_text(encoding="utf-8").split())
    shown = re.search(r"`(FOSS_DATABASE_URL=(\S+)/foss) make run`", readme)
    assert shown is not None, "the README shows make run on PostgreSQL"
    variable, _, url = shown[1].partition("=")
    local_run.env[variable] = url.removesuffix("/foss") + f"/{postgres_database}"
    create = readme_commands("### A walk through the foss API")[0]

    local_run.start_serving()
    status, _ = run_curl(create.line, local_run.env["GATEWAY_PORT"])
    local_run.kill()
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={postgres_database}") as stored:
        names = stored.execute("SELECT name FROM foss").fetchall()

    assert status == 201
    assert names == [("Ada Lovelace",)]
