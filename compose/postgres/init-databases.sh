#!/bin/sh
# Runs once, when the PostgreSQL volume is new: for each service of FLUSK_DATABASES, a role of
# its own (login, no other privilege) owning a database of its own, which no other role may
# connect to. The role's password is <SERVICE>_DB_PASSWORD (foss: FOSS_DB_PASSWORD).
set -eu
for database in $FLUSK_DATABASES; do
    variable="$(echo "$database" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
    password="$(printenv "$variable")" || {
        echo "init-databases.sh: $variable is not set" >&2
        exit 1
    }
    echo "creating role and database $database"
    # psql's :"name" and :'value' quote the role name and the password as SQL needs.
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v name="$database" -v password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
