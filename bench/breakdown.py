"""Where the player page's CPU goes, in-process: the whole page and the baseline through Django's test client
(every middleware, the real session in the cache), then each part of the player page on its own.

    DATABASE_URL=... CACHE_URL=... (bench/harness.site_env) .venv/bin/python bench/breakdown.py COOKIES SLUG

CPU time of this process only (time.process_time), so the database's own work is not in it; prints JSON.
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


def main(cookies_file: str, slug: str, n: int = 300) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivssite.settings")
    import django

    django.setup()
    from django.shortcuts import render
    from django.test import Client, RequestFactory

    from ivssite.middleware import carries_token
    from viewers import access, geo, keys, playback, ratelimit, tokens
    from viewers.models import Channel, Entitlement
    from viewers.views import player_page_config

    sessions = Path(cookies_file).read_text().split()
    client = Client(HTTP_HOST="127.0.0.1")
    counter = iter(range(10**9))

    def page(path):
        def get():
            client.cookies["sessionid"] = sessions[next(counter) % len(sessions)]
            assert client.get(path).status_code == 200

        return get

    channel = Channel.objects.get(slug=slug)
    user = Entitlement.objects.filter(channel=channel, user__isnull=False).first().user
    request = RequestFactory().get(f"/channels/{slug}/", HTTP_HOST="127.0.0.1")
    request.user, request.session = user, {}
    decision = access.decide(user, channel)
    issued = playback.issue(user=user, channel=channel, decision=decision, request=request)
    key = keys.signing_key()

    result = {
        "player page": cpu_us(page(f"/channels/{slug}/"), n),
        "baseline page": cpu_us(page("/bench/baseline/"), n),
        "channel lookup": cpu_us(lambda: Channel.objects.get(slug=slug), n),
        "access decision": cpu_us(lambda: access.decide(user, channel), n),
        "access decision with the country rule": cpu_us(
            lambda: access.decide(user, channel, country=geo.viewer_country(request)), n
        ),
        "page rate limit (cache add + incr)": cpu_us(lambda: ratelimit.hit(f"bd:{user.pk}", limit=10**9), n),
        "audit insert + mint": cpu_us(
            lambda: playback.issue(user=user, channel=channel, decision=decision, request=request), n
        ),
        "mint alone": cpu_us(lambda: tokens.mint(key, channel_arn=channel.arn, now=int(time.time()), ttl=300), n),
        "render player template": cpu_us(
            lambda: render(request, "viewers/player.html", player_page_config(request, channel, decision, issued)), n
        ),
        "render baseline template": cpu_us(lambda: render(request, "bench/baseline.html"), n),
    }
    rendered = render(request, "viewers/player.html", player_page_config(request, channel, decision, issued))
    result["token scan of the response (middleware)"] = cpu_us(lambda: carries_token(rendered), n)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
