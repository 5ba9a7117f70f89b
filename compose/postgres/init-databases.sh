#!/bin/sh
# For each service of FLUSK_DATABASES, a role of its own (login, no other privilege) owning a
# database of its own, which no other role may connect to; nor may they connect to the
# postgres database. The role's password is <SERVICE>_DB_PASSWORD (foss: FOSS_DB_PASSWORD).
# The PostgreSQL image runs it when the volume is new. It makes only what is missing, so it
# can run again on a volume that has data, for a service added since (README, "In containers"):
#   docker compose -f compose/docker-compose.yml exec postgres \
#       sh /docker-entrypoint-initdb.d/init-databases.sh
set -eu
for database in $FLUSK_DATABASES; do
    variable="$(echo "$database" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
    password="$(printenv "$variable")" || {
        echo "init-databases.sh: $variable is not set" >&2
        exit 1
    }
    echo "role and database $database"
    # psql's :"name" and :'value' quote the role name and the password as SQL needs, and
    # format's %I and %L do the same for the statements \gexec runs (CREATE DATABASE cannot
    # run inside a DO block). An existing role keeps its password.
    psql -v ON_ERROR_STOP=1 --quiet --username "${POSTGRES_USER:-postgres}" --dbname postgres \
        -v name="$database" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L',
              :'name', :'password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
psql -v ON_ERROR_STOP=1 --quiet --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -c 'REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;'
