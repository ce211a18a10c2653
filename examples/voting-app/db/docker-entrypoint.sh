#!/bin/sh
# db entrypoint: on first start initdb (as postgres, this image's user) with the superuser
# password from the secret file, allow scram-sha-256 logins from the network, then exec postgres
# in the foreground as the container's only process.
set -eu

PGDATA=${PGDATA:-/var/lib/postgresql/data}
pwfile=${POSTGRES_PASSWORD_FILE:-/run/secrets/db_password}

if [ "$(id -u)" = 0 ]; then
    echo "db: refusing to run as root; run as user postgres" >&2
    exit 1
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ ! -r "$pwfile" ] || [ ! -s "$pwfile" ]; then
        echo "db: password file '$pwfile' is missing or empty; mount the db_password secret" >&2
        exit 1
    fi
    echo "db: initialising $PGDATA"
    # initdb takes the first line of the file, without its newline, as the password.
    initdb --pgdata="$PGDATA" --username=postgres --pwfile="$pwfile" \
        --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256
    {
        echo "# Added by the voting app's entrypoint: password logins from the back-tier network."
        echo "host all all all scram-sha-256"
    } >>"$PGDATA/pg_hba.conf"
    echo "db: initialised"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' -c password_encryption=scram-sha-256 "$@"
