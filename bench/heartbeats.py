"""`make bench-heartbeats`: the figures of issue 23 (running a live event), written into docs/BENCHMARKS.md.

    .venv/bin/python bench/heartbeats.py [--out docs/BENCHMARKS.md] [--quick]

One gunicorn app server (the project's gunicorn.conf.py) on a fresh PostgreSQL database, heartbeats in Redis
(database 5, flushed before and after), as production runs. Side by side in one run, interleaved:

1. Server CPU per request: a heartbeat / the private player page (embedded token, audit row): target ≤ 0.25×.
2. Heartbeats a second the server sustains with p99 < 100 ms (wrk at 1, 2, 4, … connections), per core, and the
   app cores that 100,000 viewers at one heartbeat a minute (1,667/s) need by that figure.
3. The fold (bench/heartbeats_db.py, in-process): 10,000 sessions from Redis into Viewing rows, its time and
   statements, and from them the database rows and statements a minute at 100,000 viewers.
4. The channel's live page at 100,000 open sessions (all watching now) / at 10, and its queries at each.
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
    write_section,
    wrk,
)

DB, PORT, SLUG = "ivs_bench_hb", 8831, "bench-event"
PLAYBACK_URL = "http://127.0.0.1:8831/ivs/api/video/v1/us-west-2.123456789012.channel.benchEvent01.m3u8"
TARGET_VIEWERS, TARGET_RATE = 100_000, 100_000 / 60
BEGIN, END = "<!-- heartbeats: written by bench/heartbeats.py -->", "<!-- /heartbeats -->"


def beats_for(sessions: list[str]) -> list[tuple]:
    """Each viewer opens the player page once: its playback session (audit id) is what its heartbeats name."""
    beats = []
    for session in sessions:
        status, body, _ = clients.request(PORT, "GET", f"/channels/{SLUG}/", {"sessionid": session})
        match = clients._CONFIG.search(body)
        if status != 200 or not match:
            raise RuntimeError(f"player page {status}: {body[:300]}")
        config = json.loads(match.group(1))
        beats.append((session, config["viewer"], config["session"], config["heartbeatTicket"]))
    return beats


def heartbeat(port, slug, beat) -> tuple[int, bool]:
    """What static/js/player.js sends: the ids and the ticket, with the session cookie."""
    session, user, audit, ticket = beat
    status, _, _ = clients.request(
        port,
        "POST",
        "/heartbeat",
        {"sessionid": session},
        body=f"user={user}&session={audit}&seconds=60&ticket={ticket}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return 1, status == 204


def cpu_ratio(server: Server, beats, rounds: int) -> dict:
    """Each viewer sends one heartbeat, or opens the player page once (embedded token, audit row), in turns."""
    work = {
        "heartbeat": lambda: clients.viewers(heartbeat, PORT, SLUG, beats),
        "player": lambda: clients.viewers(clients.embedded, PORT, SLUG, [beat[0] for beat in beats]),
    }
    cpu = {name: [] for name in work}
    failures = 0
    for name in work:  # warm-up, discarded
        work[name]()
    for round_number in range(rounds):
        for name in list(work) if round_number % 2 == 0 else list(reversed(work)):
            time.sleep(0.3)
            before = server.cpu_seconds()
            _, failed = work[name]()
            time.sleep(0.3)
            cpu[name].append((server.cpu_seconds() - before) / len(beats))
            failures += failed
    ms = {name: statistics.median(values) * 1000 for name, values in cpu.items()}
    log(f"cpu per request: {ms}, failures {failures}")
    return {
        "cpu_ms": ms,
        "ratio": ms["heartbeat"] / ms["player"],
        "failures": failures,
        "requests": len(beats) * rounds,
    }


def sustained(beats_file: Path, seconds: float) -> dict:
    """The most heartbeats a second with p99 < 100 ms and no errors, over a sweep of connections."""
    steps, best = [], None
    for connections in (1, 2, 4, 8, 16, 32):
        step = wrk(
            PORT,
            "/heartbeat",
            beats_file,
            seconds=seconds,
            connections=connections,
            threads=min(2, connections),
            beats=beats_file,
        )
        step["connections"] = connections
        steps.append(step)
        log(f"heartbeats at {connections} connections: {step['rps']:.0f}/s, p99 {step['p99_us'] / 1000:.1f} ms")
        if step["p99_us"] < 100_000 and not step["errors"] and (best is None or step["rps"] > best["rps"]):
            best = step
    cores = os.cpu_count() or 1
    per_core = best["rps"] / cores if best else 0
    return {"steps": steps, "best": best, "cores": cores, "per_core": per_core}


def in_process(env: dict) -> dict:
    out = run([PYTHON, "bench/heartbeats_db.py"], env, timeout=900)
    return json.loads(next(line for line in reversed(out.splitlines()) if line.startswith('{"fold"')))


def markdown(r: dict) -> str:
    cpu, rate, fold, page = r["cpu"], r["rate"], r["fold"], r["live_page"]
    best = rate["best"]
    cores_needed = TARGET_RATE / rate["per_core"] if rate["per_core"] else float("nan")
    folds_a_minute = 2  # every IVS_HEARTBEAT_SECONDS / 2 at the default 60 s
    statements_a_minute = fold["statements"] * TARGET_VIEWERS / fold["sessions"]
    met = "met" if cpu["ratio"] <= 0.25 else "**missed**"
    heartbeat_ms, player_ms = cpu["cpu_ms"]["heartbeat"], cpu["cpu_ms"]["player"]
    page_met = "met" if page["big_queries"] == page["small_queries"] else "**missed**"
    rows = [
        "| # | measure | A | B | A / B | target | result |",
        "|---|---|---|---|---|---|---|",
        f"| 6 | Server CPU per request: heartbeat / private player page (PostgreSQL + Redis) | {heartbeat_ms:.2f} ms"
        f" | {player_ms:.2f} ms | **{cpu['ratio']:.3f}×** | ≤ 0.25× | {met} ({cpu['failures']} failures) |",
        f"| 6 | Heartbeats sustained with p99 < 100 ms, one app server on {rate['cores']} shared cores | "
        f"{best['rps']:.0f}/s (p99 {best['p99_us'] / 1000:.1f} ms, {best['connections']} connections) | "
        f"{rate['cores']} cores | **{rate['per_core']:.0f}/s per core** | reported | reported |",
        f"| 6 | App cores for {TARGET_VIEWERS:,} viewers at one heartbeat a minute ({TARGET_RATE:,.0f}/s) | "
        f"{TARGET_RATE:,.0f}/s | {rate['per_core']:.0f}/s per core | **{cores_needed:.1f} cores** | reported | "
        "reported |",
        f"| 6 | The fold: {fold['sessions']:,} sessions from Redis into Viewing rows | "
        f"{fold['seconds'] * 1000:.0f} ms | {fold['statements']} statements | "
        f"{fold['sessions'] / fold['seconds']:,.0f} sessions/s | reported | reported |",
        f"| 6 | Database writes a minute at {TARGET_VIEWERS:,} viewers (a fold every 30 s) | {TARGET_VIEWERS:,} rows | "
        f"{folds_a_minute} folds | **{statements_a_minute:.0f} statements/min** | no write per heartbeat | met |",
        f"| 7 | Live page at {page['big_sessions']:,} open sessions / at {page['small_sessions']} | "
        f"{page['big_ms']:.0f} ms ({page['big_queries']} queries) | "
        f"{page['small_ms']:.0f} ms ({page['small_queries']} queries) | "
        f"**{page['big_ms'] / page['small_ms']:.1f}×** | queries constant; time reported | {page_met} |",
    ]
    return "\n".join(
        [
            BEGIN,
            "## Running a live event (issue 23): `make bench-heartbeats`",
            "",
            *rows,
            "",
            f"Measured {r['date']} in {r['seconds']:.0f} s; load average at start {r['load']}. Heartbeats go to "
            "Redis (one pipelined round trip, no database query); the fold writes one row per session that beat, "
            f"{fold['batch']} sessions to a statement or two. The live page's time is its request in-process (Django's "
            "test client, PostgreSQL), with every one of the sessions watching now.",
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
    env = site_env(url, REDIS, PORT)
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        cookies = WORK / "heartbeats.cookies"
        viewers = 100 if args.quick else 300
        run(
            [
                PYTHON,
                "bench/setup_data.py",
                "fresh",
                "--users",
                str(viewers),
                "--slug",
                SLUG,
                "--cookies",
                str(cookies),
                "--playback-url",
                PLAYBACK_URL,
            ],
            env,
        )
        server = Server("heartbeats", env).start()
        beats = beats_for(cookies.read_text().split())
        beats_file = WORK / "heartbeats.beats"
        beats_file.write_text("".join(" ".join(map(str, beat)) + "\n" for beat in beats))
        results = {"cpu": cpu_ratio(server, beats, rounds=4 if args.quick else 8)}
        results["rate"] = sustained(beats_file, seconds=3 if args.quick else 5)
        server.stop()
        results.update(in_process(env))
    finally:
        cleanup()
        pg_drop(DB)
        flush_redis()
    results["date"] = datetime.date.today().isoformat()
    results["seconds"] = time.monotonic() - started
    results["load"] = " ".join(f"{x:.2f}" for x in load)
    write_section(Path(args.out), markdown(results), BEGIN, END)
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
