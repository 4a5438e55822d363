"""Create the PostgreSQL database named by a postgres:// URL if it does not exist (idempotent)."""

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg


def main(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        sys.exit(f"createdb: unexpected database name {name!r}")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"createdb: created {name}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
