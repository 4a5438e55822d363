"""The in-process half of bench/heartbeats.py, run under the bench database's settings: the fold's time and
statements, and the channel's live page at 100,000 open sessions against one at 10. Prints one JSON line.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=… CACHE_URL=redis://…/5 .venv/bin/python bench/heartbeats_db.py
"""

import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FOLD_SESSIONS = 10_000
BIG, SMALL = 100_000, 10
VIEWERS_BIG = 25_000  # four sessions each; one in a hundred from a second address (flagged)


def _audits(users, channel, count, *, address=lambda i: "10.0.0.1"):
    from django.utils import timezone

    from viewers.models import TokenAudit

    now = timezone.now()
    rows = [
        TokenAudit(
            user_id=users[i % len(users)],
            channel=channel,
            channel_arn=channel.arn,
            channel_name=channel.name,
            viewer_id=f"v{users[i % len(users)]}",
            issued_at=now,
            expires_at=now,
            client_ip=address(i),
            user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0",
        )
        for i in range(count)
    ]
    TokenAudit.objects.bulk_create(rows, batch_size=5000)
    return list(TokenAudit.objects.filter(channel=channel).values_list("pk", "user_id"))


def fold_figures(channel, users) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from viewers.attendance import fold
    from viewers.attendance.store import Beat, RedisStore

    sessions = _audits(users, channel, FOLD_SESSIONS)
    store = RedisStore(os.environ["CACHE_URL"], prefix="bench:heartbeats")
    now = time.time()
    for pk, user_id in sessions:
        store.record(Beat(pk, user_id, 60, now, "10.0.0.1"))
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        folded = fold.fold(store)
    seconds = time.perf_counter() - started
    return {"sessions": folded, "seconds": seconds, "statements": len(queries), "batch": fold.BATCH}


def live_channel(name, arn_suffix, sessions, viewers):
    from django.db import connection

    from viewers.models import Channel, User

    channel = Channel.objects.create(
        name=name,
        slug=name.lower().replace(" ", "-"),
        arn=f"arn:aws:ivs:us-west-2:123456789012:channel/{arn_suffix}",
        playback_url=f"https://x.us-west-2.playback.live-video.net/api/video/v1/{arn_suffix}.m3u8",
    )
    users = User.objects.bulk_create(
        [
            User(username=f"{arn_suffix}-{i}", email=f"{arn_suffix}-{i}@bench.invalid", viewer_id=f"{arn_suffix}{i}")
            for i in range(viewers)
        ],
        batch_size=5000,
    )
    ids = [user.pk for user in users]
    _audits(
        ids, channel, sessions, address=lambda i: f"10.1.{(i // 250) % 250}.{i % 250}" if i % 400 == 0 else "10.0.0.1"
    )
    with connection.cursor() as cursor:  # what the fold would have written: every session watching now
        cursor.execute(
            "INSERT INTO viewers_viewing (session_id, channel_id, user_id, first_seen_at, last_seen_at,"
            " seconds_watched, last_ip) SELECT id, channel_id, user_id, now() - interval '20 minutes', now(), 1200,"
            " client_ip"
            " FROM viewers_tokenaudit WHERE channel_id = %s",
            [channel.pk],
        )
        cursor.execute("ANALYZE viewers_viewing; ANALYZE viewers_tokenaudit")
    return channel


def live_page_figures() -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from viewers.models import User

    small = live_channel("Live Small", "liveSmall01", SMALL, SMALL)
    big = live_channel("Live Big", "liveBig01", BIG, VIEWERS_BIG)
    admin = User.objects.create_superuser("bench-admin", "bench-admin@bench.invalid", "bench-password")
    client = Client()
    client.force_login(admin)
    times, queries = {"small": [], "big": []}, {}
    for channel in (small, big):  # warm-up: templates, the session, the plans
        assert client.get(f"/admin/viewers/channel/{channel.pk}/live/").status_code == 200
    for _ in range(7):
        for name, channel in (("small", small), ("big", big)):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(f"/admin/viewers/channel/{channel.pk}/live/")
                times[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            queries[name] = len(captured)
    page = response.content.decode()
    said = re.search(r'id="watching-now"[^>]*>([^<]+)<', page).group(1)
    return {
        "small_sessions": SMALL,
        "big_sessions": BIG,
        "small_ms": statistics.median(times["small"]),
        "big_ms": statistics.median(times["big"]),
        "small_queries": queries["small"],
        "big_queries": queries["big"],
        "big_said": said,
        "big_flagged_shown": page.count("Stop watching</a>") - page.count("<h3>Viewers watching now"),
    }


def main() -> None:
    import django

    django.setup()
    from django.conf import settings

    from viewers.models import Channel, User

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    channel = Channel.objects.get(slug="bench-event")
    users = list(User.objects.filter(username__startswith="bench").values_list("pk", flat=True))
    result = {"fold": fold_figures(channel, users), "live_page": live_page_figures()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
