"""Reading the player page's hot statements: hand-written SQL, prepared on PostgreSQL, converted like the ORM does.

Why our own: the player page's statements never change shape, yet building and compiling a QuerySet for each
costs 0.25–1 ms of CPU per page (bench/breakdown.py), several times what the database needs to run it, and
Django prepares no statement. Callers (pageread.py, playback.py, beside it) write their SQL once from the
models' metadata; here their values are converted per row by the same converters the ORM applies (SQLite's text
dates and integer booleans, a field's from_db_value), so what they read equals what the ORM reads
(tests/test_access_query.py, tests/test_rows.py).
"""

import contextlib
import weakref

# Per connection object (each thread has its own): fields -> [(index, converters, column expression)].
_plans: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _plan(connection, fields: tuple) -> list:
    per_connection = _plans.setdefault(connection, {})
    plan = per_connection.get(fields)
    if plan is None:
        plan = []
        for index, field in enumerate(fields):
            column = field.cached_col
            converters = [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]
            if converters:
                plan.append((index, converters, column))
        per_connection[fields] = plan
    return plan


def convert(connection, fields: tuple, row) -> list:
    """`row`'s values as the ORM would give them for `fields` (model fields, in the row's column order)."""
    row = list(row)
    for index, converters, column in _plan(connection, fields):
        value = row[index]
        for converter in converters:
            value = converter(value, column, connection)
        row[index] = value
    return row


@contextlib.contextmanager
def hot_cursor(connection):
    """A cursor for a statement the player page runs on every request.

    On PostgreSQL with prepared statements on (settings DB_PREPARED_STATEMENTS, which sets psycopg's
    prepare_threshold), a server-side binding cursor: psycopg prepares each statement once per connection and
    PostgreSQL skips parsing and planning it from then on (the access decision's union: 0.28 → 0.08 ms of database
    CPU). Django's own cursors bind on the client and never prepare. It is opened inside Django's cursor, so the
    health check, the connection, query logging and error translation are Django's, as for any query."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or connection.connection.prepare_threshold is None:
            yield cursor
            return
        import psycopg  # here: a SQLite site need not load it

        raw = psycopg.Cursor(connection.connection)
        wrapped = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
        with wrapped:
            yield wrapped
