"""Where the player page's CPU goes, in-process: the whole page and the baseline through Django's test client
(every middleware, the real session in the cache), then each part of the player page on its own.

    DATABASE_URL=... CACHE_URL=... (bench/harness.site_env) .venv/bin/python bench/breakdown.py COOKIES SLUG

CPU time of this process (time.process_time); on PostgreSQL also the CPU of this process's database backend
(from /proc: the bench runs the database on the same machine), which the app's own clock does not see. Prints JSON.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def cpu_us(fn, n: int) -> float:
    for _ in range(20):
        fn()
    started = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - started) / n * 1e6


def backend_cpu_us(fn, n: int) -> float | None:
    """CPU the PostgreSQL backend serving this process spends per call of `fn`; None on another database."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    fn()
    pid = connection.connection.info.backend_pid
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    started = cpu()
    for _ in range(n):
        fn()
    return (cpu() - started) / n * 1e6


def main(cookies_file: str, slug: str, n: int = 300) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivssite.settings")
    import django

    django.setup()
    from django.shortcuts import render
    from django.test import Client, RequestFactory
    from django.utils import timezone

    from ivssite.middleware import carries_token
    from viewers import access, ratelimit
    from viewers.ivs import signing_keys, tokens
    from viewers.models import Channel, Entitlement, User
    from viewers.player import geo, pageread, playback
    from viewers.player.views import player_page_config

    sessions = Path(cookies_file).read_text().split()
    client = Client(HTTP_HOST="127.0.0.1")
    counter = iter(range(10**9))

    def page(path):
        def get():
            client.cookies["sessionid"] = sessions[next(counter) % len(sessions)]
            assert client.get(path).status_code == 200

        return get

    channel = Channel.objects.get(slug=slug)
    # A viewer of its own for the parts: they mint hundreds of tokens in a minute, which would put a logged-in bench
    # viewer over the page limit (viewers/player/pageread.py) for the sections that follow.
    user, _ = User.objects.get_or_create(username="bench-breakdown")
    Entitlement.objects.get_or_create(user=user, channel=channel, defaults={"note": "bench breakdown"})
    request = RequestFactory().get(f"/channels/{slug}/", HTTP_HOST="127.0.0.1")
    request.user, request.session = user, {}
    now = timezone.now()
    held = pageread.read(slug, user, now, page_limit=20).held
    decision = access.decide(user, channel, now, held=held)
    issued = playback.issue(user=user, channel=channel, decision=decision, request=request)
    key = signing_keys.signing_key()

    pages = {
        "player page": cpu_us(page(f"/channels/{slug}/"), n),
        "baseline page": cpu_us(page("/bench/baseline/"), n),
    }
    for name, path in (("player page", f"/channels/{slug}/"), ("baseline page", "/bench/baseline/")):
        database = backend_cpu_us(page(path), n * 2)
        if database is not None:
            pages[f"PostgreSQL backend, per {name}"] = database
    result = {
        "player page": pages["player page"],
        "baseline page": pages["baseline page"],
        "the page's one read: channel, access decision's rows, page limit": cpu_us(
            lambda: pageread.read(slug, user, timezone.now(), page_limit=20), n
        ),
        "access decision from those rows": cpu_us(lambda: access.decide(user, channel, now, held=held), n),
        "access decision with the country rule": cpu_us(
            lambda: access.decide(user, channel, now, country=geo.viewer_country(request), held=held), n
        ),
        "access decision reading its own rows (reconciler, admin)": cpu_us(lambda: access.decide(user, channel), n),
        "refresh rate limit (one Redis round trip)": cpu_us(lambda: ratelimit.hit(f"bd:{user.pk}", limit=10**9), n),
        "audit insert + mint": cpu_us(
            lambda: playback.issue(user=user, channel=channel, decision=decision, request=request), n
        ),
        "mint alone": cpu_us(lambda: tokens.mint(key, channel_arn=channel.arn, now=int(time.time()), ttl=300), n),
        "render player template": cpu_us(
            lambda: render(request, "viewers/player.html", player_page_config(request, channel, decision, issued)), n
        ),
        "render baseline template": cpu_us(lambda: render(request, "bench/baseline.html"), n),
    }
    result.update((name, value) for name, value in pages.items() if name.startswith("PostgreSQL"))
    rendered = render(request, "viewers/player.html", player_page_config(request, channel, decision, issued))
    result["token scan of the response (middleware)"] = cpu_us(lambda: carries_token(rendered), n)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
