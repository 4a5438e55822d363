"""`make bench`: every figure of issue #7, measured side by side in one run, written to docs/BENCHMARKS.md.

    .venv/bin/python bench/run.py [--out docs/BENCHMARKS.md] [--quick]

Absolute times drift on a shared machine, so each figure is a ratio of two things measured in the same
run, interleaved (A, B, A, B, ...) and summarised by medians. What it starts (gunicorn app servers,
Chromium, a delay proxy) is stopped in `finally`, also on SIGTERM/SIGINT; the temporary databases
(ivs_bench_pg, the SQLite file) are dropped at the end. The seeded database (ivs_bench_seeded) is kept
between runs, marked with bench/seed.py's SEED_VERSION, and re-seeded only when missing or stale; what
a run adds to it (sessions, audit rows) is deleted again. Redis: database 5 only, flushed before and after.
"""

import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import browser, clients  # noqa: E402
from bench.harness import (  # noqa: E402
    PYTHON,
    REDIS,
    ROOT,
    WORK,
    Server,
    audit_rows,
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
    wrk,
)

PG_DB, SEEDED_DB = "ivs_bench_pg", "ivs_bench_seeded"
SLUG, SEEDED_SLUG = "bench-event", "channel-1"
PORTS = {"pg": 8811, "sqlite": 8812, "seeded_a": 8813, "seeded_b": 8814, "proxy": 8820}
PLAYBACK_URL = f"http://127.0.0.1:{PORTS['proxy']}/ivs/api/video/v1/us-west-2.123456789012.channel.benchEvent01.m3u8"
PLAYER, BASELINE = f"/channels/{SLUG}/", "/bench/baseline/"


class Config:
    def __init__(self, quick: bool):
        self.viewers = 600  # distinct logged-in viewers in the small databases
        self.pairs = 2 if quick else 3  # interleaved A/B pairs of each wrk comparison
        self.wrk_seconds = 3 if quick else 5
        self.connections = 8  # > workers (5 on 2 cores): the servers are saturated, as a throughput test wants
        self.scale_connections = 2  # below saturation: latency of one page, not queueing
        self.cpu_rounds, self.cpu_viewers = (2, 100) if quick else (3, 150)
        self.browser_runs = 3 if quick else 7
        self.crowd, self.crowd_spread = 5000, 40.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--quick", action="store_true", help="fewer rounds (development)")
    parser.add_argument("--only", default="", help="comma-separated sections (development)")
    args = parser.parse_args()
    cfg = Config(args.quick)
    only = set(filter(None, args.only.split(",")))

    def want(section):
        return not only or section in only

    def stop(signum, frame):
        raise SystemExit(f"bench: stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    started = time.monotonic()
    results: dict = {"started": datetime.datetime.now(datetime.UTC)}
    seeded_url = None
    try:
        WORK.mkdir(parents=True, exist_ok=True)
        ensure_key()
        flush_redis()
        results["machine"] = machine()
        if want("mint"):
            results["mint"] = bench_mint()

        pg_url = pg_create(PG_DB, fresh=True)
        pg_env = site_env(pg_url, REDIS, PORTS["pg"])
        pg_cookies = prepare(pg_env, "fresh", cfg.viewers, SLUG, "pg")
        sqlite_path = WORK / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
        sqlite_url = f"sqlite:///{sqlite_path}"
        sqlite_env = site_env(sqlite_url, "locmemcache://", PORTS["sqlite"])
        sqlite_cookies = prepare(sqlite_env, "fresh", cfg.viewers, SLUG, "sqlite")
        # Write-ahead log: readers do not wait for the audit inserts (as any multi-process SQLite site runs).
        sql(sqlite_url, "PRAGMA journal_mode=WAL")

        if want("scale") or want("crowd"):
            seeded_url = pg_create(SEEDED_DB, fresh=False)
            t = time.monotonic()
            out = run(
                [PYTHON, "bench/seed.py", "--if-missing"], {**os.environ, "DATABASE_URL": seeded_url}, timeout=480
            )
            results["seed"] = {"seconds": time.monotonic() - t, "cached": "already seeded" in out, "log": out}
            log(f"seed: {time.monotonic() - t:.1f} s ({'cached' if 'already seeded' in out else 'seeded now'})")
            seeded_env = site_env(seeded_url, REDIS, PORTS["seeded_a"])
            _reset_seeded(seeded_url)  # a run killed before tidying may have left sessions and audit rows
            seeded_cookies = prepare(seeded_env, "seeded", cfg.crowd + cfg.viewers, SEEDED_SLUG, "seeded")
            seeded_sessions = seeded_cookies.read_text().split()
            results["seeded_counts"] = seeded_counts(seeded_url)

        pg = Server("pg", pg_env).start()
        if want("throughput"):
            results["throughput_pg"] = throughput(cfg, pg, pg_url, pg_cookies)
            sqlite = Server("sqlite", sqlite_env).start()
            results["throughput_sqlite"] = throughput(cfg, sqlite, sqlite_url, sqlite_cookies)
            sqlite.stop()
        if want("cpu"):
            results["cpu"] = cpu_per_viewer(cfg, pg, pg_cookies)
        if want("cpu"):
            out = run([PYTHON, "bench/breakdown.py", str(pg_cookies), SLUG], pg_env, timeout=120)
            results["breakdown"] = json.loads(out.strip().splitlines()[-1])
            log(f"breakdown: {results['breakdown']}")
        if want("browser"):
            results["browser"] = browser_timing(cfg, pg, pg_cookies)
        if seeded_url and want("scale"):
            seeded_a = Server("seeded-a", seeded_env).start()
            results["scale"] = scale(cfg, pg, pg_cookies, seeded_a, seeded_cookies)
        if seeded_url and want("crowd"):
            a = Server("seeded-a", seeded_env).start() if not want("scale") else seeded_a
            b = Server("seeded-b", {**seeded_env, "PORT": str(PORTS["seeded_b"])}).start()
            results["crowd"] = crowd(cfg, [a, b], seeded_url, seeded_sessions[cfg.viewers :])
        results["wall_seconds"] = time.monotonic() - started
        write_markdown(args.out, results, cfg)
        (WORK / "results.json").write_text(json.dumps(results, default=str, indent=1))
        log(f"wrote {args.out} in {results['wall_seconds']:.0f} s")
    finally:
        cleanup()
        tidy(seeded_url)


def prepare(env: dict, mode: str, users: int, slug: str, name: str) -> Path:
    """Migrate (the seeded database too: its schema follows the code) and log the viewers in."""
    t = time.monotonic()
    manage(env, "migrate", "--noinput", "-v", "0")
    cookies = WORK / f"{name}.cookies"
    argv = [PYTHON, "bench/setup_data.py", mode, "--users", str(users), "--slug", slug, "--cookies", str(cookies)]
    run([*argv, "--playback-url", PLAYBACK_URL] if mode == "fresh" else argv, env)
    log(f"{name}: migrated, {users} viewers logged in ({time.monotonic() - t:.1f} s)")
    return cookies


def tidy(seeded_url) -> None:
    """Leave nothing behind but the seeded data set itself."""
    wait_for_postgres()
    for step, action in [
        ("seeded database", lambda: seeded_url and _reset_seeded(seeded_url)),
        ("database", lambda: pg_drop(PG_DB)),
        (
            "sqlite",
            lambda: [Path(f"{WORK / 'bench.sqlite3'}{s}").unlink(missing_ok=True) for s in ("", "-wal", "-shm")],
        ),
        ("redis", flush_redis),
    ]:
        try:
            action()
        except Exception as exc:  # noqa: BLE001  tidy the rest regardless
            log(f"tidy {step}: {exc}")


def wait_for_postgres(seconds: float = 60) -> None:
    """Colleagues' fault tests stop PostgreSQL for a few seconds now and then: wait rather than fail."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            sql("postgres://postgres@127.0.0.1:5432/postgres", "SELECT 1")
            return
        except Exception:  # noqa: BLE001  any connection failure: try again shortly
            time.sleep(1)


def _reset_seeded(url):
    """Back to exactly what bench/seed.py made: its audit ids are 1..N (RESTART IDENTITY) and it makes no sessions."""
    audits = sql(url, "SELECT (counts->>'audits')::bigint FROM bench_seed_marker")[0][0]
    sql(url, "DELETE FROM viewers_tokenaudit WHERE id > %s RETURNING 0", [audits])
    sql(url, "DELETE FROM django_session RETURNING 0")


# --- 1. mint -------------------------------------------------------------------------------------


def bench_mint() -> dict:
    out = run([PYTHON, "bench/mint.py"], dict(os.environ), timeout=180)
    result = json.loads(out.strip().splitlines()[-1])
    log(f"mint: {result['mint_over_raw']:.3f}× raw sign, reparse {result['reparse_over_raw']:.2f}×")
    return result


# --- 2. throughput ---------------------------------------------------------------------------------


def throughput(cfg: Config, server: Server, url: str, cookies: Path) -> dict:
    before = audit_rows(url, "page")
    runs: dict[str, list] = {"player": [], "baseline": []}
    paths = {"player": PLAYER, "baseline": BASELINE}
    # Warm-up (discarded): workers' first requests pay for imports, connections and template loading.
    warm = {
        name: wrk(server.port, path, cookies, seconds=2, connections=cfg.connections) for name, path in paths.items()
    }
    for _ in range(cfg.pairs):
        for name in ("player", "baseline"):
            runs[name].append(
                wrk(server.port, paths[name], cookies, seconds=cfg.wrk_seconds, connections=cfg.connections)
            )
    written = audit_rows(url, "page") - before
    served = server.served("GET", PLAYER, 200)
    received = sum(r["requests"] - r["non2xx"] for r in [warm["player"], *runs["player"]])
    result = {
        "runs": runs,
        "rps": {k: statistics.median(r["rps"] for r in v) for k, v in runs.items()},
        "p50_ms": {k: statistics.median(r["p50_us"] for r in v) / 1000 for k, v in runs.items()},
        "p99_ms": {k: statistics.median(r["p99_us"] for r in v) / 1000 for k, v in runs.items()},
        "ratio": statistics.median(p["rps"] / b["rps"] for p, b in zip(runs["player"], runs["baseline"], strict=True)),
        "errors": sum(r["errors"] for v in [*runs.values(), list(warm.values())] for r in v),
        "audit_rows": written,
        "served_200": served,
        "received_2xx": received,
    }
    log(
        f"throughput {server.name}: player {result['rps']['player']:.0f} req/s, baseline "
        f"{result['rps']['baseline']:.0f} req/s, ratio {result['ratio']:.2f}, errors {result['errors']}, "
        f"audit {written} / served {served} / received {received}"
    )
    return result


# --- 3. embedded vs fetched -----------------------------------------------------------------------


def cpu_per_viewer(cfg: Config, server: Server, cookies: Path) -> dict:
    sessions = cookies.read_text().split()
    workflows = {"embedded": clients.embedded, "fetched": clients.fetched}
    cpu: dict[str, list] = {k: [] for k in workflows}
    requests: dict[str, int] = dict.fromkeys(workflows, 0)
    failures = 0
    logged = {
        "page": server.served("GET", PLAYER, 200),
        "fetched": server.served("GET", f"/bench/fetched/{SLUG}/", 200),
        "refresh": server.served("POST", f"/channels/{SLUG}/playback", 200),
    }
    for workflow in workflows.values():  # warm-up, discarded
        clients.viewers(workflow, server.port, SLUG, sessions[:20])
    for round_number in range(cfg.cpu_rounds):
        order = list(workflows) if round_number % 2 == 0 else list(reversed(workflows))
        for name in order:
            batch = sessions[: cfg.cpu_viewers]
            time.sleep(0.3)  # let the previous batch's last responses finish on the server
            before = server.cpu_seconds()
            count, failed = clients.viewers(workflows[name], server.port, SLUG, batch)
            time.sleep(0.3)
            cpu[name].append((server.cpu_seconds() - before) / len(batch))
            requests[name] += count
            failures += failed
    viewers = cfg.cpu_rounds * cfg.cpu_viewers
    logged = {
        "page": server.served("GET", PLAYER, 200) - logged["page"],
        "fetched": server.served("GET", f"/bench/fetched/{SLUG}/", 200) - logged["fetched"],
        "refresh": server.served("POST", f"/channels/{SLUG}/playback", 200) - logged["refresh"],
    }
    result = {
        "cpu_ms": {k: statistics.median(v) * 1000 for k, v in cpu.items()},
        "requests_per_viewer": {k: v / viewers for k, v in requests.items()},
        "failures": failures,
        "viewers": viewers,
        "logged": logged,
    }
    result["cpu_ratio"] = result["cpu_ms"]["fetched"] / result["cpu_ms"]["embedded"]
    log(f"cpu per viewer: {result['cpu_ms']}, requests {result['requests_per_viewer']}, failures {failures}")
    return result


def browser_timing(cfg: Config, server: Server, cookies: Path) -> dict:
    from playwright.sync_api import sync_playwright

    sessions = iter(cookies.read_text().split()[-100:])
    paths = {"embedded": PLAYER, "fetched": f"/bench/fetched/{SLUG}/"}
    visits = ("cold", "warm")
    times = {k: {v: [] for v in visits} for k in paths}
    token = {k: {v: [] for v in visits} for k in paths}
    base = f"http://127.0.0.1:{PORTS['proxy']}"
    with browser.DelayProxy(PORTS["proxy"], server.port, rtt=0.050) as proxy, sync_playwright() as playwright:
        chromium = browser.launch(playwright)
        try:
            for path in paths.values():  # warm-up: Chromium's own first start, the server's caches
                browser.time_to_playlist(chromium, base, path, next(sessions), proxy)
            for run_number in range(cfg.browser_runs):
                order = list(paths) if run_number % 2 == 0 else list(reversed(paths))
                for name in order:
                    measured = browser.time_to_playlist(chromium, base, paths[name], next(sessions), proxy)
                    for visit, (playlist_s, token_s) in zip(visits, measured, strict=True):
                        times[name][visit].append(playlist_s)
                        token[name][visit].append(token_s)
        finally:
            chromium.close()

    def medians(data):
        return {k: {v: statistics.median(values) * 1000 for v, values in by.items()} for k, by in data.items()}

    ms, token_ms = medians(times), medians(token)
    result = {
        "runs": times,
        "ms": ms,
        "token_ms": token_ms,
        "saved_ms": {v: ms["fetched"][v] - ms["embedded"][v] for v in visits},
        "token_saved_ms": {v: token_ms["fetched"][v] - token_ms["embedded"][v] for v in visits},
        "chromium": subprocess.run(
            ["/usr/bin/chromium", "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip(),
    }
    log(f"browser: playlist {ms}, token {token_ms}")
    return result


# --- 4. scale --------------------------------------------------------------------------------------


def scale(cfg: Config, empty: Server, empty_cookies: Path, seeded: Server, seeded_cookies: Path) -> dict:
    # The seeded file holds the crowd's viewers after the first cfg.viewers: give wrk only the first ones.
    small = WORK / "seeded-scale.cookies"
    small.write_text("\n".join(seeded_cookies.read_text().split()[: cfg.viewers]) + "\n")
    targets = {"empty": (empty, PLAYER, empty_cookies), "seeded": (seeded, f"/channels/{SEEDED_SLUG}/", small)}
    for server, path, cookies in targets.values():
        wrk(server.port, path, cookies, seconds=2, connections=cfg.scale_connections)
    runs: dict[str, list] = {k: [] for k in targets}
    for _ in range(cfg.pairs):
        for name, (server, path, cookies) in targets.items():
            runs[name].append(
                wrk(server.port, path, cookies, seconds=cfg.wrk_seconds, connections=cfg.scale_connections)
            )
    result = {
        "runs": runs,
        "p50_ms": {k: statistics.median(r["p50_us"] for r in v) / 1000 for k, v in runs.items()},
        "p99_ms": {k: statistics.median(r["p99_us"] for r in v) / 1000 for k, v in runs.items()},
        "rps": {k: statistics.median(r["rps"] for r in v) for k, v in runs.items()},
        "ratio": statistics.median(
            s["p50_us"] / e["p50_us"] for s, e in zip(runs["seeded"], runs["empty"], strict=True)
        ),
        "errors": sum(r["errors"] for v in runs.values() for r in v),
    }
    log(f"scale: p50 {result['p50_ms']} ratio {result['ratio']:.2f}, errors {result['errors']}")
    return result


def seeded_counts(url: str) -> dict:
    tables = {
        "users": "viewers_user",
        "channels": "viewers_channel",
        "entitlements": "viewers_entitlement",
        "audit rows": "viewers_tokenaudit",
    }
    return {label: sql(url, f"SELECT count(*) FROM {table}")[0][0] for label, table in tables.items()}  # noqa: S608


# --- 5. crowd --------------------------------------------------------------------------------------


def crowd(cfg: Config, servers: list[Server], url: str, sessions: list[str]) -> dict:
    sessions = sessions[: cfg.crowd]
    before = audit_rows(url, "page")
    outcome = clients.crowd([s.port for s in servers], SEEDED_SLUG, sessions, spread=cfg.crowd_spread)
    time.sleep(0.5)
    written = audit_rows(url, "page") - before
    latencies = sorted(outcome["latencies"])
    tokens = len(latencies)
    elapsed = outcome["last_done"] - outcome["first_arrival"]
    result = {
        "viewers": len(sessions),
        "servers": len(servers),
        "spread_s": cfg.crowd_spread,
        "elapsed_s": elapsed,
        "tokens": tokens,
        "tokens_per_s": tokens / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else None,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else None,
        "max_ms": latencies[-1] * 1000 if latencies else None,
        "errors": outcome["failures"],
        "statuses": {str(k): v for k, v in outcome["statuses"].items()},
        "audit_rows": written,
    }
    log(
        f"crowd: {tokens} tokens in {elapsed:.1f} s ({result['tokens_per_s']:.0f}/s), p99 {result['p99_ms']:.0f} ms, "
        f"errors {result['errors']}, audit {written}"
    )
    return result


# --- machine and report ------------------------------------------------------------------------------


def machine() -> dict:
    import django

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory_kb = int(
        next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    )
    load = os.getloadavg()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_kb / 1024 / 1024,
        "python": platform.python_version(),
        "django": django.__version__,
        "postgres": sql("postgres://postgres@127.0.0.1:5432/postgres", "SHOW server_version")[0][0],
        "sqlite": __import__("sqlite3").sqlite_version,
        "gunicorn": __import__("gunicorn").__version__,
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout.split("[")[0].strip(),
        "kernel": platform.release(),
        "load_at_start": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    }


def _rps_latency(t: dict, page: str) -> str:
    return f"{t['rps'][page]:.0f} req/s (p50 {t['p50_ms'][page]:.1f} ms, p99 {t['p99_ms'][page]:.1f} ms)"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def write_markdown(path: Path, r: dict, cfg: Config) -> None:
    m = r["machine"]
    rows = []
    if "mint" in r:
        mint = r["mint"]
        rows.append(
            (
                "1",
                "Mint one token / raw `sign()` (same key object, same bytes)",
                f"{mint['mint_us']:.0f} µs",
                f"{mint['raw_sign_us']:.0f} µs",
                f"**{mint['mint_over_raw']:.3f}×**",
                "≤ 1.15×",  # PyJWT's generic jwt.encode over the parsed key (issue 12): ~1.13× measured
                verdict(mint["mint_over_raw"] <= 1.15),
            )
        )
        rows.append(
            (
                "1",
                "Mint re-parsing the PEM each time / raw `sign()`",
                f"{mint['mint_reparse_us']:.0f} µs",
                f"{mint['raw_sign_us']:.0f} µs",
                f"{mint['reparse_over_raw']:.2f}×",
                "(what the cached key avoids)",
                "",
            )
        )
    for key, label in (("throughput_pg", "PostgreSQL + Redis"), ("throughput_sqlite", "SQLite + per-process cache")):
        if key in r:
            t = r[key]
            ok = t["ratio"] >= 0.80 and t["errors"] == 0 and t["audit_rows"] == t["served_200"]
            rows.append(
                (
                    "2",
                    f"Player page / baseline page, req/s, {label}, {cfg.connections} connections",
                    _rps_latency(t, "player"),
                    _rps_latency(t, "baseline"),
                    f"**{t['ratio']:.2f}**",
                    "≥ 0.80, 0 errors, audit rows = pages served",
                    verdict(ok) + f" ({t['errors']} errors; {t['audit_rows']} audit rows = {t['served_200']} served)",
                )
            )
    if "cpu" in r:
        c = r["cpu"]
        rows.append(
            (
                "3",
                "Server CPU per viewer: fetched (page + POST refresh) / embedded (page)",
                f"{c['cpu_ms']['fetched']:.2f} ms, {c['requests_per_viewer']['fetched']:.0f} requests",
                f"{c['cpu_ms']['embedded']:.2f} ms, {c['requests_per_viewer']['embedded']:.0f} request",
                f"**{c['cpu_ratio']:.2f}×**",
                "embedded cheaper",
                verdict(c["cpu_ratio"] > 1 and c["failures"] == 0),
            )
        )
    if "browser" in r:
        b = r["browser"]
        for cache, label in (("cold", "cold cache"), ("warm", "player bundle cached")):
            fetched_ms, embedded_ms = b["ms"]["fetched"][cache], b["ms"]["embedded"][cache]
            rows.append(
                (
                    "3",
                    f"Chromium +50 ms RTT, {label}: navigation → first multivariant playlist request, "
                    "fetched / embedded",
                    f"{fetched_ms:.0f} ms",
                    f"{embedded_ms:.0f} ms",
                    f"**{fetched_ms / embedded_ms:.2f}×** (difference {b['saved_ms'][cache]:+.0f} ms)",
                    "embedded sooner by ≥ 50 ms",
                    verdict(b["saved_ms"][cache] >= 50),
                )
            )
        for cache, label in (("cold", "cold cache"), ("warm", "player bundle cached")):
            fetched_ms, embedded_ms = b["token_ms"]["fetched"][cache], b["token_ms"]["embedded"][cache]
            rows.append(
                (
                    "3",
                    f"Chromium +50 ms RTT, {label}: navigation → playback URL with token in the page, "
                    "fetched / embedded",
                    f"{fetched_ms:.0f} ms",
                    f"{embedded_ms:.0f} ms",
                    f"{fetched_ms / embedded_ms:.2f}× (difference {b['token_saved_ms'][cache]:+.0f} ms)",
                    "(diagnostic)",
                    "",
                )
            )
    if "scale" in r:
        s = r["scale"]
        rows.append(
            (
                "4",
                f"Player page p50 latency, seeded / nearly empty PostgreSQL, {cfg.scale_connections} connections",
                f"{s['p50_ms']['seeded']:.1f} ms (p99 {s['p99_ms']['seeded']:.1f} ms)",
                f"{s['p50_ms']['empty']:.1f} ms (p99 {s['p99_ms']['empty']:.1f} ms)",
                f"**{s['ratio']:.2f}×**",
                "≤ 1.2×",
                verdict(s["ratio"] <= 1.2 and s["errors"] == 0) + f" ({s['errors']} errors)",
            )
        )
    if "crowd" in r:
        c = r["crowd"]
        ok = c["errors"] == 0 and c["audit_rows"] == c["tokens"] and c["tokens"] == c["viewers"]
        rows.append(
            (
                "5",
                f"Crowd: {c['viewers']:,} distinct viewers within {c['spread_s']:.0f} s, {c['servers']} app servers",
                f"{c['tokens_per_s']:.0f} tokens/s, p99 {c['p99_ms']:.0f} ms",
                f"{c['tokens']:,} tokens, {c['audit_rows']:,} audit rows",
                "—",
                "0 errors, audit rows = tokens",
                verdict(ok) + f" ({c['errors']} errors)",
            )
        )

    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`); do not edit by hand. Each ratio compares two things measured "
        "side by side in the same run, interleaved (A, B, A, B, …), and takes medians, because absolute times drift "
        "on a shared machine: read the ratios, not the absolute numbers.",
        "",
        "| # | measure | A | B | A / B | target | result |",
        "|---|---|---|---|---|---|---|",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        f"Reproduce: `make bench` (≈ {r['wall_seconds'] / 60:.1f} min for this run"
        + (
            f", of which {r['seed']['seconds']:.0f} s seeding"
            + (" (cached database kept)" if r["seed"]["cached"] else "")
            if "seed" in r
            else ""
        )
        + ").",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']:.0f} GiB; Linux {m['kernel']}; Python "
        f"{m['python']}, "
        f"Django {m['django']}, gunicorn {m['gunicorn']}, PostgreSQL {m['postgres']}, SQLite {m['sqlite']}, {m['wrk']}"
        + (f", {r['browser']['chromium']}" if "browser" in r else "")
        + f". Load average at start: {m['load_at_start']} (the machine is shared).",
        "",
        f"Date: {r['started']:%Y-%m-%d %H:%M} UTC.",
        "",
        "## How each figure is made",
        "",
        "- **Servers**: gunicorn with the project's `gunicorn.conf.py` unchanged (sync workers, "
        f"{2 * (m['cores'] or 1) + 1} workers on {m['cores']} cores, access log on), production settings "
        "(`DEBUG=false`, "
        "whitenoise), plain http on 127.0.0.1, `IVS_BENCH_PAGES=true` for `/bench/baseline/` and "
        "`/bench/fetched/<slug>/`, "
        "`IVS_REFRESH_PER_MINUTE` raised so the refresh endpoint is not rate-limited. Viewers are logged in by "
        "`bench/setup_data.py`: one session per user written through Django's session store format into the database "
        "and the sessions cache, as a login leaves it (`cached_db`).",
        "- **1. Mint**: `bench/mint.py`, interleaved batches, the median of paired ratios.",
    ]
    if "throughput_pg" in r:
        t = r["throughput_pg"]
        lines.append(
            f"- **2. Throughput**: wrk ({cfg.connections} connections, 2 threads, {cfg.wrk_seconds} s per run, "
            f"{cfg.pairs} interleaved pairs after a 2 s warm-up of each page) with `bench/cookies.lua`, which sends "
            "each "
            f"request with the next of {cfg.viewers} distinct entitled viewers' session cookies and counts every "
            "non-2xx "
            "status as an error. The ratio is the median of the pairs' ratios. The player page signs a token and "
            "inserts "
            "an audit row per request; the baseline only loads the session and user and renders `base.html`. "
            "PostgreSQL uses Redis (`redis://127.0.0.1:6379/5`) for the cache and sessions' fast copy, as in "
            "production. "
            "SQLite (WAL journal) uses the default per-process memory cache, so each worker reads a session from the "
            "database once and then from its own memory. Audit rows written during the section are compared with the "
            "200s gunicorn's access log recorded for the player page (PostgreSQL: "
            f"{t['audit_rows']} = {t['served_200']}; wrk itself received {t['received_2xx']}: requests still in flight "
            "when wrk's clock stops are served but not counted by wrk)."
        )
    if "cpu" in r:
        c = r["cpu"]
        lines.append(
            f"- **3. Embedded vs fetched, server side**: {c['viewers']} viewers per workflow ({cfg.cpu_rounds} "
            "interleaved "
            f"rounds of {cfg.cpu_viewers}), 4 client threads; CPU is utime+stime of the gunicorn master and workers "
            "from "
            "`/proc` (recycled workers included through the master's cutime/cstime), per viewer. Embedded: "
            f"`GET {PLAYER}`. Fetched: `GET /bench/fetched/{SLUG}/` then `POST /channels/{SLUG}/playback` with the "
            "page's CSRF token, as `static/js/player.js` does. Failures: "
            f"{c['failures']}; the access log shows {c['logged']['page']} player pages, {c['logged']['fetched']} "
            f"fetch-first pages and {c['logged']['refresh']} refreshes (PostgreSQL + Redis)."
        )
    if "browser" in r:
        b = r["browser"]
        runs = "; ".join(
            f"{name} {cache} " + " / ".join(f"{v * 1000:.0f}" for v in values) + " ms"
            for name, by_cache in b["runs"].items()
            for cache, values in by_cache.items()
        )
        lines.append(
            f"- **3. Embedded vs fetched, browser**: Chromium headless through Playwright, {cfg.browser_runs} "
            "interleaved runs of each page after one warm-up, the local IVS origin and the player bundle from "
            "`static/vendor/ivs`. Each run opens a fresh context (cold: nothing cached), then the same page again in "
            "a new tab of that context (warm: the player bundle and its worker come from the browser's cache). 50 ms "
            "of round trip come from `bench/browser.py`'s loopback delay proxy (25 ms each way per chunk, 50 ms per "
            "new connection) rather than DevTools emulation, so that the requests of the player's web worker are "
            "delayed exactly like the page's. Time runs from `page.goto` to the proxy receiving the first "
            "request for `/ivs/api/video/v1/`; the token's arrival is the browser's own Resource Timing (`responseEnd` "
            "of the page, or of the refresh request). On the fetched page the token request runs while the player "
            "loads its bundle and starts its worker, so it delays the playlist request only when the player is ready "
            "before the token arrives. Playlist runs: "
            f"{runs}."
        )
    if "scale" in r:
        s = r["scale"]
        counts = ", ".join(f"{v:,} {k}" for k, v in r.get("seeded_counts", {}).items())
        lines.append(
            f"- **4. Scale**: the same player page on the seeded database ({counts}; `bench/seed.py`, the Big Event "
            "holding 80% of users) against the nearly empty one, both PostgreSQL + Redis, one app server each, wrk "
            f"with {cfg.scale_connections} connections (below saturation, so latency is service time, not queueing), "
            f"{cfg.pairs} interleaved pairs; p50 ratio is the median of the pairs' ratios. Seeding: "
            + (
                f"{r['seed']['seconds']:.0f} s this run" + (" (cached: already seeded)" if r["seed"]["cached"] else "")
                if "seed" in r
                else "n/a"
            )
            + ". Queries per player page: 4, a constant, checked by `tests/test_query_counts.py`."
        )
    if "crowd" in r:
        c = r["crowd"]
        lines.append(
            f"- **5. Crowd**: {c['viewers']:,} distinct viewers of the seeded Big Event, each arriving once at a "
            "random "
            f"moment within {c['spread_s']:.0f} s, alternately at two gunicorn app servers (ports {PORTS['seeded_a']} "
            "and "
            f"{PORTS['seeded_b']}, same PostgreSQL and Redis), from `bench/clients.py` (96 threads of http.client). "
            "Latency runs from each viewer's planned arrival, so a saturated load generator would show in p99. "
            f"Everything done in {c['elapsed_s']:.1f} s; p50 {c['p50_ms']:.0f} ms, max {c['max_ms']:.0f} ms; statuses "
            f"{c['statuses']}; audit rows written {c['audit_rows']:,} for {c['tokens']:,} tokens issued."
        )
    if "breakdown" in r:
        lines += [
            "",
            "## Where the player page's CPU goes",
            "",
            "`bench/breakdown.py`, in one process through Django's test client (all middleware, the session from "
            "Redis, PostgreSQL), CPU time of the app process only, per call:",
            "",
            "| part | CPU per call |",
            "|---|---:|",
            *(f"| {name} | {us / 1000:.2f} ms |" for name, us in r["breakdown"].items()),
        ]
    lines.append("")
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
