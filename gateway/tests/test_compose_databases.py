"""compose/postgres/init-databases.sh on the test PostgreSQL server: a role per service.

The script runs as the PostgreSQL image runs it on a new volume (as the superuser, psql on
PATH), here against TEST_DATABASE_URL's server, with scratch names no real database has;
what it made is dropped afterwards. Without a PostgreSQL URL (or psql), the tests skip.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest

from stack import ROOT

SCRIPT = ROOT / "compose" / "postgres" / "init-databases.sh"


@pytest.fixture(scope="session")
def nginx_installed() -> None:
    """Overrides conftest's autouse skip: these tests need PostgreSQL, not nginx."""


@pytest.fixture
def server() -> dict[str, str]:
    """libpq's variables for the test server, as its superuser."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("TEST_DATABASE_URL names no PostgreSQL server (make test-postgres sets it)")
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed (apt-get install postgresql-client)")
    parts = urlsplit(url)
    return {
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "POSTGRES_USER": parts.username or "postgres",
    }


def admin(
    server: dict[str, str], dbname: str = "postgres"
) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=server["PGHOST"],
        port=server["PGPORT"],
        user=server["POSTGRES_USER"],
        dbname=dbname,
        autocommit=True,
    )


# What PUBLIC may do on the postgres database, which the script revokes: given back after
# each test, so the shared test server is left as it was found.
PUBLIC_RIGHTS = """
SELECT privilege FROM unnest(ARRAY['CONNECT', 'TEMPORARY']) AS privilege
WHERE has_database_privilege('public', 'postgres', privilege)
"""


@pytest.fixture
def names(server: dict[str, str]) -> Iterator[list[str]]:
    """Two scratch service names; their databases and roles are dropped at the end."""
    token = secrets.token_hex(4)
    made = [f"zz_init_{token}_a", f"zz_init_{token}_b"]
    with admin(server) as connection:
        public_rights = [row[0] for row in connection.execute(PUBLIC_RIGHTS)]
    yield made
    with admin(server) as connection:
        for name in made:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'DROP ROLE IF EXISTS "{name}"')
        if public_rights:
            connection.execute(f"GRANT {', '.join(public_rights)} ON DATABASE postgres TO PUBLIC")


def run_script(
    server: dict[str, str], names: list[str], **passwords: str
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        **server,
        "FLUSK_DATABASES": " ".join(names),
        **passwords,
    }
    return subprocess.run(
        ["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def connect_as(
    server: dict[str, str], role: str, dbname: str, password: str | None = None
) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=server["PGHOST"],
        port=server["PGPORT"],
        user=role,
        dbname=dbname,
        password=password,
        autocommit=True,
    )


def test_make_role_owning_only_its_database(server: dict[str, str], names: list[str]) -> None:
    first, second = names
    # A quote and a backslash in the password: psql's :'password' quotes it.
    passwords = {f"{name.upper()}_DB_PASSWORD": f"it's \\ {name}" for name in names}
    result = run_script(server, names, **passwords)
    assert result.returncode == 0, result.stderr

    with admin(server) as connection:
        for name in names:
            row = connection.execute(
                "SELECT r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolcanlogin,"
                " a.rolpassword IS NOT NULL, pg_get_userbyid(d.datdba)"
                " FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid"
                " JOIN pg_database d ON d.datname = r.rolname WHERE r.rolname = %s",
                (name,),
            ).fetchone()
            assert row == (False, False, False, True, True, name)
    with connect_as(server, first, first) as connection:  # its migrations can make tables
        connection.execute("CREATE TABLE made_by_its_role (id integer PRIMARY KEY)")
    for role, other in ((first, second), (second, first)):
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            connect_as(server, role, other)


def test_run_again_for_service_added_later(server: dict[str, str], names: list[str]) -> None:
    """On a volume that has the first service's role, a run makes only the one added since."""
    first, second = names
    passwords = {f"{name.upper()}_DB_PASSWORD": f"secret-{name}" for name in names}
    assert run_script(server, [first], **passwords).returncode == 0
    with connect_as(server, first, first, f"secret-{first}") as connection:
        connection.execute("CREATE TABLE kept (id integer PRIMARY KEY)")

    result = run_script(server, names, **passwords)
    assert result.returncode == 0, result.stderr
    assert run_script(server, names, **passwords).returncode == 0  # and again: nothing to do
    with connect_as(server, first, first, f"secret-{first}") as connection:
        assert connection.execute("SELECT count(*) FROM kept").fetchone() == (0,)
    with connect_as(server, second, second, f"secret-{second}") as connection:
        assert connection.execute("SELECT current_user").fetchone() == (second,)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        connect_as(server, second, first, f"secret-{second}")


def test_refuse_connection_to_maintenance_database(
    server: dict[str, str], names: list[str]
) -> None:
    """A service's role connects to its own database only: not to postgres either."""
    passwords = {f"{name.upper()}_DB_PASSWORD": "secret" for name in names}
    assert run_script(server, names, **passwords).returncode == 0
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        connect_as(server, names[0], "postgres", "secret")


def test_refuse_missing_password(server: dict[str, str], names: list[str]) -> None:
    first, second = names
    result = run_script(server, names, **{f"{first.upper()}_DB_PASSWORD": "secret"})

    assert result.returncode != 0
    assert f"{second.upper()}_DB_PASSWORD is not set" in result.stderr
    with admin(server) as connection:
        made = connection.execute(
            "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (names,)
        ).fetchall()
    assert made == [(first,)]  # the one before; the volume is then discarded by its owner
