"""`make bench-chat`: the figures of issue 25 (chat beside the stream), written into docs/BENCHMARKS.md.

    .venv/bin/python bench/chat.py [--out docs/BENCHMARKS.md] [--quick]

Two gunicorn servers (the project's gunicorn.conf.py) on one fresh PostgreSQL database with Redis, as production
runs: the site, and the local IVS Chat stand-in on a port of its own, which the site's boto3 client calls
(AWS_ENDPOINT_URL_IVSCHAT) as it would call IVS. Measuring the site's server alone keeps the stand-in's own work
(IVS's, in production) out of the site's figure; the stand-in's CPU is reported beside it. Side by side in one run,
interleaved:

1. Server CPU per request: POST /channels/<slug>/chat-token (the access rule, CreateChatToken through boto3, the
   chat session's row) / the private player page (embedded token, audit row): its share of a player page. And the
   player page with its chat panel / the same page without (the room's status flipped between rounds).
2. The chat token's wall time as a viewer waits for it (median and p95), with the stand-in answering at once.
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import clients  # noqa: E402
from bench.harness import (  # noqa: E402
    PYTHON,
    REDIS,
    ROOT,
    WORK,
    Server,
    cleanup,
    ensure_key,
    flush_redis,
    log,
    manage,
    pg_create,
    pg_drop,
    run,
    site_env,
    sql,
    write_section,
)

DB, PORT, STAND_IN_PORT, SLUG = "ivs_bench_chat", 8841, 8842, "bench-event"
PLAYBACK_URL = f"http://127.0.0.1:{PORT}/ivs/api/video/v1/us-west-2.123456789012.channel.benchEvent01.m3u8"
BEGIN, END = "<!-- chat: written by bench/chat.py -->", "<!-- /chat -->"

# Run by manage.py shell against the stand-in: a room made through the IVS Chat API, linked to the channel, ready.
MAKE_ROOM = f"""
from viewers.ivs import aws
from viewers.models import Channel, ChatRoom
room = aws.ivschat_client("us-west-2").create_room(name="bench-room")
channel = Channel.objects.get(slug="{SLUG}")
ChatRoom.objects.update_or_create(channel=channel, defaults={{"arn": room["arn"], "status": "ready"}})
"""


def csrf_of(sessions: list[str]) -> list[tuple[str, str]]:
    """Each viewer's CSRF token, from its player page as chat.js reads it (the page also sets the cookie)."""
    viewers = []
    for session in sessions:
        status, body, cookies = clients.request(PORT, "GET", f"/channels/{SLUG}/", {"sessionid": session})
        match = clients._CSRF.search(body)
        if status != 200 or not match or 'id="chat-config"' not in body:
            raise RuntimeError(f"player page {status} without a chat: {body[:300]}")
        viewers.append((session, cookies.get("csrftoken", ""), match.group(1)))
    return viewers


def chat_token(port, slug, viewer) -> tuple[int, bool]:
    """What static/js/chat.js's tokenProvider sends: a POST with the CSRF header, no body."""
    session, cookie, header = viewer
    cookies = {"sessionid": session, **({"csrftoken": cookie} if cookie else {})}
    status, body, _ = clients.request(
        port,
        "POST",
        f"/channels/{slug}/chat-token",
        cookies,
        body="",
        headers={"X-CSRFToken": header, "Content-Type": "application/x-www-form-urlencoded"},
    )
    return 1, status == 200 and '"token"' in body


def room_ready(database_url: str, ready: bool) -> None:
    """The channel's room ready (the page shows the chat) or not (the same page without it)."""
    sql(database_url, "UPDATE viewers_chatroom SET status = %s RETURNING id", ("ready" if ready else "creating",))


def cpu_ratio(site: Server, stand_in: Server, viewers, rounds: int, database_url: str) -> dict:
    sessions = [viewer[0] for viewer in viewers]

    def without_chat():
        room_ready(database_url, False)
        try:
            return clients.viewers(clients.embedded, PORT, SLUG, sessions)
        finally:
            room_ready(database_url, True)

    work = {
        "chat_token": lambda: clients.viewers(chat_token, PORT, SLUG, viewers),
        "player": lambda: clients.viewers(clients.embedded, PORT, SLUG, sessions),
        "player_without_chat": without_chat,
    }
    cpu = {name: [] for name in work}
    stand_in_cpu = []
    failures = 0
    for name in work:  # warm-up, discarded
        work[name]()
    for round_number in range(rounds):
        for name in list(work) if round_number % 2 == 0 else list(reversed(work)):
            time.sleep(0.3)
            before, before_stand_in = site.cpu_seconds(), stand_in.cpu_seconds()
            _, failed = work[name]()
            time.sleep(0.3)
            cpu[name].append((site.cpu_seconds() - before) / len(viewers))
            if name == "chat_token":
                stand_in_cpu.append((stand_in.cpu_seconds() - before_stand_in) / len(viewers))
            failures += failed
    ms = {name: statistics.median(values) * 1000 for name, values in cpu.items()}
    log(f"cpu per request: {ms}, failures {failures}")
    return {
        "cpu_ms": ms,
        "page_ratio": ms["player"] / ms["player_without_chat"],
        "stand_in_ms": statistics.median(stand_in_cpu) * 1000,
        "ratio": ms["chat_token"] / ms["player"],
        "failures": failures,
        "requests": len(viewers) * rounds,
    }


def wall_times(viewers) -> dict:
    times = []
    for viewer in viewers:
        started = time.perf_counter()
        chat_token(PORT, SLUG, viewer)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"median_ms": statistics.median(times), "p95_ms": times[int(len(times) * 0.95) - 1]}


def markdown(r: dict) -> str:
    cpu, wall = r["cpu"], r["wall"]
    token_ms, player_ms = cpu["cpu_ms"]["chat_token"], cpu["cpu_ms"]["player"]
    rows = [
        "| # | measure | A | B | A / B | target | result |",
        "|---|---|---|---|---|---|---|",
        f"| 8 | Server CPU per request: chat token / private player page (PostgreSQL + Redis; IVS Chat: the local "
        f"stand-in on its own server) | {token_ms:.2f} ms | {player_ms:.2f} ms | **{cpu['ratio']:.2f}×** | reported "
        f"| reported ({cpu['failures']} failures) |",
        f"| 8 | Server CPU per player page: with its chat panel / without (the same page, the room not ready) | "
        f"{player_ms:.2f} ms | {cpu['cpu_ms']['player_without_chat']:.2f} ms | **{cpu['page_ratio']:.2f}×** | "
        "no query more | reported |",
        f"| 8 | The stand-in's CPU per chat token (IVS's share, not the site's) | {cpu['stand_in_ms']:.2f} ms | "
        f"{token_ms:.2f} ms | {cpu['stand_in_ms'] / token_ms:.2f}× | reported | reported |",
        f"| 8 | A chat token's wall time, one viewer at a time: median / p95 | {wall['median_ms']:.1f} ms | "
        f"{wall['p95_ms']:.1f} ms | — | reported | reported |",
    ]
    return "\n".join(
        [
            BEGIN,
            "## Chat beside the stream (issue 25): `make bench-chat`",
            "",
            *rows,
            "",
            f"Measured {r['date']} in {r['seconds']:.0f} s with {r['viewers']} viewers; load average at start "
            f"{r['load']}. A chat token reads the channel, its room and the viewer's entitlements in the player "
            "page's one statement, makes one boto3 call (SigV4 signing and an HTTP round trip) and writes one row.",
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    started, load = time.monotonic(), os.getloadavg()
    WORK.mkdir(parents=True, exist_ok=True)
    ensure_key()
    flush_redis()
    url = pg_create(DB, fresh=True)
    chat_env = {
        "AWS_REGION": "us-west-2",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_ENDPOINT_URL_IVSCHAT": f"http://127.0.0.1:{STAND_IN_PORT}/ivschat",
        "IVS_CHAT_MESSAGING_URL": "ws://127.0.0.1:8843",
        "IVS_CHAT_TOKENS_PER_MINUTE": "1000000",
    }
    env = site_env(url, REDIS, PORT, **chat_env)
    stand_in_env = site_env(url, REDIS, STAND_IN_PORT, **chat_env, WEB_CONCURRENCY="2")
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        cookies = WORK / "chat.cookies"
        viewers = 100 if args.quick else 300
        run(
            [PYTHON, "bench/setup_data.py", "fresh", "--users", str(viewers), "--slug", SLUG, "--cookies", str(cookies)]
            + ["--playback-url", PLAYBACK_URL],
            env,
        )
        stand_in = Server("chat-stand-in", stand_in_env).start()
        manage(env, "shell", "-c", MAKE_ROOM)
        site = Server("chat", env).start()
        signed_in = csrf_of(cookies.read_text().split())
        results = {"cpu": cpu_ratio(site, stand_in, signed_in, rounds=4 if args.quick else 8, database_url=url)}
        results["wall"] = wall_times(signed_in[:100])
        site.stop()
        stand_in.stop()
    finally:
        cleanup()
        pg_drop(DB)
        flush_redis()
    results.update(
        date=datetime.date.today().isoformat(),
        seconds=time.monotonic() - started,
        load=" ".join(f"{x:.2f}" for x in load),
        viewers=viewers,
    )
    write_section(Path(args.out), markdown(results), BEGIN, END)
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
