"""How the site uses its database connection, by engine (settings.DATABASES reads the values from the environment)."""


def tuned(database: dict, *, conn_max_age: int, connect_timeout: int, prepared_statements: bool) -> dict:
    """`database` (django-environ's DATABASE_URL config) with the site's connection settings."""
    # Persistent connections (seconds; 0 = one per request) with a liveness check before each reuse, so a
    # restarted PostgreSQL costs one failed check, not failed requests.
    database.setdefault("CONN_MAX_AGE", conn_max_age)
    database["CONN_HEALTH_CHECKS"] = True
    options = database.setdefault("OPTIONS", {})
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # The site and the task worker write to the same file: WAL lets readers go on while one writes, and
        # IMMEDIATE transactions take the write lock up front instead of failing with "database is locked"
        # when two of them try to upgrade a read lock at once.
        options.update({"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"})
    if database["ENGINE"] == "django.db.backends.postgresql":
        # An unreachable database host must fail a request in seconds, not hang a worker until it is killed.
        options.setdefault("connect_timeout", connect_timeout)
        # The player page's statements are prepared once per connection (viewers/player/rows.py): PostgreSQL
        # then skips parsing and planning them, ~0.3 ms of its CPU per page. Everything else Django sends keeps
        # client-side binding, which never prepares. Off for a pooler in transaction mode without
        # prepared-statement support (PgBouncer before 1.21, or max_prepared_statements = 0).
        if prepared_statements:
            options.setdefault("prepare_threshold", 0)
    return database
