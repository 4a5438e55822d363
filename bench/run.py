"""`make bench`: every figure of issues 7 and 13, measured side by side in one run, written to docs/BENCHMARKS.md.

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
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report  # noqa: E402
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
)
from bench.sections import (  # noqa: E402
    PG_DB,
    PLAYBACK_URL,
    PORTS,
    SEEDED_DB,
    SEEDED_SLUG,
    SLUG,
    bench_mint,
    browser_timing,
    cpu_per_viewer,
    knee,
    scale,
    seeded_counts,
    throughput,
)


class Config:
    def __init__(self, quick: bool):
        self.viewers = 600  # distinct logged-in viewers in the small databases
        self.pairs = 2 if quick else 3  # interleaved A/B pairs of each wrk comparison
        self.wrk_seconds = 3 if quick else 5
        self.connections = 8  # > workers (5 on 2 cores): the servers are saturated, as a throughput test wants
        self.scale_connections = 2  # below saturation: latency of one page, not queueing
        self.cpu_rounds, self.cpu_viewers = (2, 100) if quick else (3, 150)
        self.browser_runs = 2 if quick else 6
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
        (WORK / "results.json").write_text(json.dumps(results, default=str, indent=1))
        report.write(args.out, results, cfg)
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
