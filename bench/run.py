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

from bench import browser, clients, report  # noqa: E402
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
        self.browser_runs = 2 if quick else 4
        self.crowd = 5000  # seeded viewers for the knee's steps (reused across steps, distinct within one)
        self.knee_rates = (60, 120) if quick else (100, 150, 200, 300, 400, 500, 600, 800)
        self.knee_step_s = 5.0 if quick else 6.0


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
            results["knee"] = knee(cfg, [a, b], seeded_url, seeded_sessions[cfg.viewers :])
        results["wall_seconds"] = time.monotonic() - started
        report.write(args.out, results, cfg)
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


BROWSER_PAGES = {
    "embedded": PLAYER,
    "fetched": f"/bench/fetched/{SLUG}/",
    "public": f"/channels/{SLUG}-public/",
    "before": f"/bench/before/{SLUG}/",
}
BROWSER_RTTS_MS = (50, 150)
VISITS = ("cold", "warm")


def browser_timing(cfg: Config, server: Server, cookies: Path) -> dict:
    """First frame and first playlist request of the four pages, at each round trip, cold and warm, interleaved."""
    from playwright.sync_api import sync_playwright

    sessions = iter(cookies.read_text().split()[-300:])
    frame = {rtt: {p: {v: [] for v in VISITS} for p in BROWSER_PAGES} for rtt in BROWSER_RTTS_MS}
    playlist = {rtt: {p: {v: [] for v in VISITS} for p in BROWSER_PAGES} for rtt in BROWSER_RTTS_MS}
    base = f"http://127.0.0.1:{PORTS['proxy']}"
    with browser.DelayProxy(PORTS["proxy"], server.port) as proxy, sync_playwright() as playwright:
        chromium = browser.launch(playwright)

        def visit(name):
            session = None if name == "public" else next(sessions)
            return browser.first_frame(chromium, base, BROWSER_PAGES[name], session, proxy)

        try:
            for name in BROWSER_PAGES:  # warm-up: Chromium's own first start, the server's caches
                visit(name)
            for run_number in range(cfg.browser_runs):
                for rtt in BROWSER_RTTS_MS:
                    proxy.rtt = rtt / 1000
                    names = list(BROWSER_PAGES)
                    shift = run_number % len(names)  # each page goes first in turn
                    for name in names[shift:] + names[:shift]:
                        for v, (playlist_s, frame_s) in zip(VISITS, visit(name), strict=True):
                            frame[rtt][name][v].append(frame_s * 1000)
                            playlist[rtt][name][v].append(playlist_s * 1000)
        finally:
            chromium.close()

    def medians(data):
        return {
            rtt: {page: {v: statistics.median(x) for v, x in by.items()} for page, by in pages.items()}
            for rtt, pages in data.items()
        }

    result = {
        "frame_runs": frame,
        "frame_ms": medians(frame),
        "playlist_ms": medians(playlist),
        "chromium": subprocess.run(
            ["/usr/bin/chromium", "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip(),
    }
    log(f"browser: first frame {result['frame_ms']}, playlist {result['playlist_ms']}")
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


# --- 5. the crowd's knee ----------------------------------------------------------------------------


def knee(cfg: Config, servers: list[Server], url: str, sessions: list[str]) -> dict:
    """Step the arrival rate up until p99 reaches report.P99_LIMIT_MS or a request fails; the last good rate."""
    sessions = sessions[: cfg.crowd]
    # Warm-up (discarded): each worker's first pages pay for connections, templates and the key.
    clients.crowd([s.port for s in servers], SEEDED_SLUG, sessions[:100], spread=2.0, deadline=60)
    steps, offset = [], 100
    for rate in cfg.knee_rates:
        count = int(rate * cfg.knee_step_s)
        batch = [sessions[(offset + i) % len(sessions)] for i in range(count)]
        offset += count
        before = audit_rows(url, "page")
        outcome = clients.crowd([s.port for s in servers], SEEDED_SLUG, batch, spread=cfg.knee_step_s, deadline=60)
        time.sleep(0.5)
        latencies = sorted(outcome["latencies"])
        step = {
            "rate": rate,
            "tokens": len(latencies),
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else 0.0,
            "errors": outcome["failures"],
            "audit_rows": audit_rows(url, "page") - before,
        }
        step["ok"] = step["errors"] == 0 and step["p99_ms"] < report.P99_LIMIT_MS and step["audit_rows"] == count
        steps.append(step)
        log(f"knee: {rate}/s → p99 {step['p99_ms']:.0f} ms, {step['errors']} errors, {step['audit_rows']} audit rows")
        if not step["ok"]:
            break
        time.sleep(1)  # let the servers drain before the next step
    good = [s["rate"] for s in steps if s["ok"]]
    cores = os.cpu_count() or 1
    return {
        "steps": steps,
        "knee": max(good) if good else 0,
        "cores": cores,
        "servers": len(servers),
        "step_s": cfg.knee_step_s,
    }


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


if __name__ == "__main__":
    main()
