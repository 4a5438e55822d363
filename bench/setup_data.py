"""Set-up step of bench/run.py, run under the settings of the database being benchmarked.

    .venv/bin/python bench/setup_data.py fresh --users 600 --slug bench-event --playback-url URL --cookies FILE
    .venv/bin/python bench/setup_data.py seeded --users 5600 --slug channel-1 --cookies FILE

Registers the bench playback key (so start-up's key check passes), then logs viewers in the way Django
does, without the password form: a session row holding the user's id, backend and auth hash, plus its
copy in the sessions cache (as `cached_db` writes it at login), so the first page costs no session query.
`fresh` creates the channel (and a public one, `<slug>-public`) and the users with direct entitlements;
`seeded` picks users that the seeded data set (bench/seed.py) entitles to the big event right now.
Writes one session key per line.
"""

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PASSWORD = "bench-password"  # noqa: S105  bench data only


def register_key():
    from viewers.ivs import signing_keys, tokens
    from viewers.models import PlaybackKey

    key = signing_keys.signing_key()
    fingerprint = tokens.fingerprint(key)
    # Only the bench key verifies and signs here: a key left by an earlier run would trip ivs.E020/W020.
    PlaybackKey.objects.exclude(fingerprint=fingerprint).update(is_signing=False, is_active=False)
    PlaybackKey.objects.update_or_create(
        fingerprint=fingerprint,
        defaults={"name": "bench", "public_key_pem": tokens.public_key_pem(key), "is_signing": True, "is_active": True},
    )


def fresh_users(count, slug, playback_url):
    from django.contrib.auth.hashers import make_password

    from viewers.models import Channel, Entitlement, User

    channel_id = playback_url.rsplit(".channel.", 1)[1].removesuffix(".m3u8")
    channel, _ = Channel.objects.update_or_create(
        slug=slug,
        defaults={
            "name": "Bench Event",
            "arn": f"arn:aws:ivs:us-west-2:123456789012:channel/{channel_id}",
            "playback_url": playback_url,
            "is_private": True,
        },
    )
    # The floor of the first-frame benchmark: a public channel, no login, no token (the same local origin).
    public_id = "benchPublic01"
    Channel.objects.update_or_create(
        slug=f"{slug}-public",
        defaults={
            "name": "Bench Public",
            "arn": f"arn:aws:ivs:us-west-2:123456789012:channel/{public_id}",
            "playback_url": playback_url.replace(f".channel.{channel_id}.", f".channel.{public_id}."),
            "is_private": False,
        },
    )
    password = make_password(PASSWORD)  # one hash for all: hashing is deliberately slow
    existing = set(User.objects.filter(username__startswith="bench").values_list("username", flat=True))
    User.objects.bulk_create(
        User(username=f"bench{i:05d}", email=f"bench{i}@bench.invalid", password=password)
        for i in range(count)
        if f"bench{i:05d}" not in existing
    )
    users = list(User.objects.filter(username__startswith="bench").order_by("username")[:count])
    entitled = set(Entitlement.objects.filter(channel=channel).values_list("user_id", flat=True))
    Entitlement.objects.bulk_create(
        Entitlement(user=user, channel=channel, note="bench") for user in users if user.pk not in entitled
    )
    return users


def seeded_users(count, slug):
    from django.db.models import Q

    from viewers.models import Channel, User, current_entitlement_q

    channel = Channel.objects.get(slug=slug)
    held = channel.entitlements.filter(current_entitlement_q(_now()), user__isnull=False).values("user_id")
    users = list(User.objects.filter(Q(pk__in=held), is_active=True).order_by("pk")[:count])
    if len(users) < count:
        sys.exit(f"setup_data: only {len(users)} users are entitled to {slug}; seed the database first")
    return users


def _now():
    from django.utils import timezone

    return timezone.now()


def log_in(users):
    """One session per user, in the database and in the sessions cache, as a real login leaves them."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX, SessionStore
    from django.contrib.sessions.models import Session
    from django.core.cache import caches
    from django.utils.crypto import get_random_string

    backend = "django.contrib.auth.backends.ModelBackend"
    expires = _now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    store = SessionStore()
    rows, cached = [], {}
    for user in users:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: backend, HASH_SESSION_KEY: user.get_session_auth_hash()}
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
        cached[KEY_PREFIX + key] = data
    Session.objects.bulk_create(rows, batch_size=2000)
    cache = caches[settings.SESSION_CACHE_ALIAS]
    items = list(cached.items())
    for start in range(0, len(items), 2000):
        cache.set_many(dict(items[start : start + 2000]), timeout=settings.SESSION_COOKIE_AGE)
    return [row.session_key for row in rows]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["fresh", "seeded"])
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--slug", required=True)
    parser.add_argument("--playback-url", default="")
    parser.add_argument("--cookies", type=Path, required=True)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivssite.settings")
    import django

    django.setup()
    from django.db import transaction

    with transaction.atomic():
        register_key()
        if args.mode == "fresh":
            users = fresh_users(args.users, args.slug, args.playback_url)
        else:
            users = seeded_users(args.users, args.slug)
        keys = log_in(users)
    # Planner statistics for what was just loaded, as autovacuum would gather within a minute on a live site:
    # without them PostgreSQL plans the access decision for empty tables (a scan of the channel's entitlements).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    args.cookies.write_text("".join(f"{key}\n" for key in keys))
    print(f"setup_data: {len(keys)} logged-in viewers of {args.slug}", file=sys.stderr)


if __name__ == "__main__":
    main()
