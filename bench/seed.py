"""Seed a PostgreSQL database with a production-sized data set, fast.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ivs_bench .venv/bin/python bench/seed.py [--scale 1.0]
    ... bench/seed.py --if-missing    # keep a database seeded earlier with the same SEED_VERSION and scale

Creates the database if missing, migrates it, empties the viewer tables and fills them, server-side
(INSERT ... SELECT generate_series, one statement per table, no rows through Python):

    100,000 users · 200 groups (every other user in one) · 1,000 channels
    1,000,000 entitlements · 5,000,000 token audit rows        (times --scale)

The shape matters more than the counts, so it is skewed like a real event: channel 1 ("Big Event") holds
80% of the users directly plus a quarter of the groups, and 40% of the audit rows; the rest spread over
999 channels. 15% of entitlements are not current (revoked, ended or not started). Every user has the
password `bench-password` (one precomputed hash). Deterministic except for the single-use UUIDs.

Speed: the two big tables are loaded with their secondary indexes and foreign keys dropped and rebuilt
afterwards (one sort per index and one join per foreign key instead of 6,000,000 index insertions and
trigger calls), with synchronous_commit off; the rebuilt schema is exactly the migrated one. A marker
table (`bench_seed_marker`) records SEED_VERSION and the counts, so `--if-missing` (make bench) reuses
a database that is already seeded.

bench/explain.py reads this data set; the benchmark issue reuses it.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password"  # noqa: S105  bench data only
BIG_EVENT = 1
# Bump when the data set changes shape, so --if-missing re-seeds cached databases.
SEED_VERSION = "3"
MARKER = "bench_seed_marker"
BULK_TABLES = ("viewers_entitlement", "viewers_tokenaudit")
ARN = "arn:aws:ivs:us-west-2:123456789012:channel/bench{:05d}"


def counts(scale: float) -> dict:
    return {
        "users": max(100, int(100_000 * scale)),
        "groups": max(4, int(200 * min(scale * 10, 1))),
        "channels": max(10, int(1_000 * min(scale * 10, 1))),
        "entitlements": max(1_000, int(1_000_000 * scale)),
        "audits": max(5_000, int(5_000_000 * scale)),
    }


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"seed: created database {name}", file=sys.stderr)


def seed(n: dict) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    password = make_password(PASSWORD)
    steps = [
        (
            "truncate",
            "TRUNCATE viewers_tokenaudit, viewers_entitlement, viewers_user_groups, viewers_channel, auth_group, "
            "viewers_user RESTART IDENTITY CASCADE",
            [],
        ),
        (
            "users",
            """INSERT INTO viewers_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                   is_active, date_joined, viewer_id{fill})
               SELECT %s, false, 'user' || lpad(i::text, 6, '0'), '', '', 'user' || i || '@bench.invalid', false,
                   true, now() - interval '90 days', md5('viewer' || i){values}
               FROM generate_series(1, %s) i""",
            [password, n["users"]],
        ),
        ("groups", "INSERT INTO auth_group (name) SELECT 'group' || g FROM generate_series(1, %s) g", [n["groups"]]),
        (
            "memberships",
            """INSERT INTO viewers_user_groups (user_id, group_id)
               SELECT i, 1 + (i / 2) %% %s FROM generate_series(2, %s, 2) i""",
            [n["groups"], n["users"]],
        ),
        (
            "channels",
            """INSERT INTO viewers_channel (name, slug, arn, playback_url, is_private, is_listed, description,
                   created_at{fill})
               SELECT CASE WHEN c = 1 THEN 'Big Event' ELSE 'Channel ' || c END, 'channel-' || c,
                   'arn:aws:ivs:us-west-2:123456789012:channel/bench' || lpad(c::text, 5, '0'),
                   'https://a1b2c3d4e5f6.us-west-2.playback.live-video.net/api/video/v1/us-west-2.123456789012'
                       || '.channel.bench' || lpad(c::text, 5, '0') || '.m3u8',
                   true, true, '', now(){values}
               FROM generate_series(1, %s) c""",
            [n["channels"]],
        ),
        (
            # A quarter of the groups hold the big event; every group holds a few other channels.
            "group entitlements",
            """INSERT INTO viewers_entitlement (channel_id, group_id, max_resolution, note, created_at{fill})
               SELECT CASE WHEN k = 0 AND g <= %s / 4 THEN 1 ELSE 2 + (g * 31 + k * 97) %% (%s - 1) END, g,
                   CASE WHEN g %% 3 = 0 THEN 'SD' ELSE '' END, '', now(){values}
               FROM generate_series(1, %s) g, generate_series(0, 9) k""",
            [n["groups"], n["channels"], n["groups"]],
        ),
        (
            "user entitlements",
            """INSERT INTO viewers_entitlement (channel_id, user_id, starts_at, ends_at, max_resolution, note,
                   created_at, revoked_at{fill})
               SELECT CASE WHEN e <= %(big)s THEN 1 ELSE 2 + (e::bigint * 7919) %% (%(channels)s - 1) END,
                   1 + (e - 1) %% %(users)s,
                   CASE WHEN e %% 20 = 1 THEN now() + interval '2 days' ELSE now() - interval '30 days' END,
                   CASE WHEN e %% 20 = 2 THEN now() - interval '1 day'
                        WHEN e %% 4 = 0 THEN now() + interval '30 days' END,
                   CASE WHEN e %% 5 = 0 THEN 'HD' ELSE '' END, '', now() - interval '30 days',
                   CASE WHEN e %% 20 = 3 THEN now() - interval '1 hour' END{values}
               FROM generate_series(1, %(count)s) e""",
            {
                "big": int(n["users"] * 0.8),
                "channels": n["channels"],
                "users": n["users"],
                "count": n["entitlements"] - 10 * n["groups"],
            },
        ),
        (
            "token audits",
            """INSERT INTO viewers_tokenaudit (user_id, channel_id, channel_arn, channel_name, key_fingerprint,
                   viewer_id, single_use_uuid, max_resolution, issued_at, expires_at, client_ip, user_agent,
                   purpose{fill})
               SELECT 1 + a %% %(users)s, c.id, c.arn, c.name, 'be:nc:h0:00:00:00:00:00:00:00:00:00:00:00:00:00',
                   md5('viewer' || (1 + a %% %(users)s)), gen_random_uuid(), '',
                   now() - (a * (30 * 86400.0 / %(count)s)) * interval '1 second',
                   now() - (a * (30 * 86400.0 / %(count)s)) * interval '1 second' + interval '300 seconds',
                   ('10.' || (a / 65536) %% 256 || '.' || (a / 256) %% 256 || '.' || a %% 256)::inet,
                   'Mozilla/5.0 (bench)', 'page'{values}
               FROM generate_series(1, %(count)s) a
               JOIN viewers_channel c ON c.id = CASE WHEN a %% 5 < 2 THEN 1 ELSE 2 + a %% (%(channels)s - 1) END""",
            {"users": n["users"], "channels": n["channels"], "count": n["audits"]},
        ),
        ("analyze", "ANALYZE", []),
    ]
    # One transaction: a seed that fails or is killed half-way leaves the database as it was, indexes included.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(f"DROP TABLE IF EXISTS {MARKER}")
        dropped = []
        for label, sql, params in steps:
            started = time.perf_counter()
            if label == "analyze":
                _restore(cursor, dropped)
            if "{fill}" in sql:
                sql = _fill_required(cursor, sql)
            cursor.execute(sql, params)
            print(f"seed: {label:<18} {cursor.rowcount:>10,} rows  {time.perf_counter() - started:6.1f} s")
            if label == "truncate":
                dropped = _drop_secondary(cursor)
        cursor.execute(f"CREATE TABLE {MARKER} (version text NOT NULL, counts jsonb NOT NULL, seeded_at timestamptz)")
        cursor.execute(f"INSERT INTO {MARKER} VALUES (%s, %s, now())", [SEED_VERSION, json.dumps(n, sort_keys=True)])  # noqa: S608


def _drop_secondary(cursor) -> list[str]:
    """Drop the big tables' secondary indexes and foreign keys; return the statements that rebuild them."""
    cursor.execute(
        """SELECT 'ALTER TABLE ' || c.conrelid::regclass || ' DROP CONSTRAINT ' || quote_ident(c.conname),
                  'ALTER TABLE ' || c.conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(c.conname) || ' '
                      || pg_get_constraintdef(c.oid)
           FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)""",
        [list(BULK_TABLES)],
    )
    statements = cursor.fetchall()
    cursor.execute(
        """SELECT 'DROP INDEX ' || quote_ident(i.indexname), i.indexdef
           FROM pg_indexes i
           WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema()
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
        [list(BULK_TABLES)],
    )
    statements += cursor.fetchall()
    for drop, _ in statements:
        cursor.execute(drop)
    return [create for _, create in statements]


def _restore(cursor, statements: list[str]) -> None:
    started = time.perf_counter()
    # Indexes before foreign keys (the order Django created them in); each key is validated by one join.
    for sql in sorted(statements, key=lambda s: s.startswith("ALTER")):
        cursor.execute(sql)
    print(f"seed: {'indexes, keys':<18} {len(statements):>10,} made  {time.perf_counter() - started:6.1f} s")


def seeded_version(n: dict) -> bool:
    """Is the database already seeded with this SEED_VERSION and these counts?"""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [MARKER])
        if cursor.fetchone()[0] is None:
            return False
        cursor.execute(f"SELECT version, counts FROM {MARKER}")  # noqa: S608  constant name
        row = cursor.fetchone()
    if row is None:
        return False
    counts_seen = row[1] if isinstance(row[1], dict) else json.loads(row[1])
    return row[0] == SEED_VERSION and counts_seen == n


_ZERO = {"boolean": "false", "text": "''", "character varying": "''", "jsonb": "'{}'"}


def _fill_required(cursor, sql: str) -> str:
    """Give NOT NULL columns this script does not know about (added by later migrations) a zero value,
    so the seed keeps working while the schema grows."""
    table = sql.split("INSERT INTO ", 1)[1].split()[0]
    listed = sql.split("(", 1)[1].split("{fill}", 1)[0]
    given = {c.strip() for c in listed.replace("\n", " ").split(",")}
    cursor.execute(
        """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'""",
        [table],
    )
    extra = [(c, _ZERO.get(t, "0")) for c, t in cursor.fetchall() if c not in given]
    return sql.format(fill="".join(f", {c}" for c, _ in extra), values="".join(f", {v}" for _, v in extra))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every count (0.01 for a quick run)")
    parser.add_argument("--no-migrate", action="store_true", help="the schema is already up to date")
    parser.add_argument(
        "--if-missing", action="store_true", help="do nothing if the database holds this seed version already"
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("seed: set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/ivs_bench")
    ensure_database(url)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivssite.settings")
    os.environ.setdefault("DEBUG", "true")  # no SECRET_KEY needed to seed; nothing is served
    os.environ.setdefault("CACHE_URL", "locmemcache://")
    import django

    django.setup()
    from django.core.management import call_command

    if not args.no_migrate:
        call_command("migrate", verbosity=0, skip_checks=True)
    started = time.perf_counter()
    n = counts(args.scale)
    if args.if_missing and seeded_version(n):
        print(f"seed: already seeded (version {SEED_VERSION}), kept")
        return
    print("seed: " + ", ".join(f"{v:,} {k}" for k, v in n.items()))
    seed(n)
    print(f"seed: done in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
