#!/bin/sh
# Runs once, when the PostgreSQL volume is new: one database per service (FLUSK_DATABASES).
set -eu
for database in $FLUSK_DATABASES; do
    echo "creating database $database"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -c "CREATE DATABASE \"$database\""
done
