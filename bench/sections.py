"""The measurements bench/run.py makes, one function per section, each returning the figures bench/report.py
writes. Every comparison is interleaved (A, B, A, B, …) and summarised by medians."""

import json
import os
import statistics
import subprocess
import time
from pathlib import Path

from bench import browser, clients, report
from bench.harness import PYTHON, WORK, Server, audit_rows, log, run, sql, wrk

PG_DB, SEEDED_DB = "ivs_bench_pg", "ivs_bench_seeded"
SLUG, SEEDED_SLUG = "bench-event", "channel-1"
PORTS = {"pg": 8811, "sqlite": 8812, "seeded_a": 8813, "seeded_b": 8814, "proxy": 8820}
PLAYBACK_URL = f"http://127.0.0.1:{PORTS['proxy']}/ivs/api/video/v1/us-west-2.123456789012.channel.benchEvent01.m3u8"
PLAYER, BASELINE = f"/channels/{SLUG}/", "/bench/baseline/"


# --- 1. mint -------------------------------------------------------------------------------------


def bench_mint() -> dict:
    out = run([PYTHON, "bench/mint.py"], dict(os.environ), timeout=180)
    result = json.loads(out.strip().splitlines()[-1])
    log(f"mint: {result['mint_over_raw']:.3f}× raw sign, reparse {result['reparse_over_raw']:.2f}×")
    return result


# --- 2. throughput ---------------------------------------------------------------------------------


def throughput(cfg, server: Server, url: str, cookies: Path) -> dict:
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


def cpu_per_viewer(cfg, server: Server, cookies: Path) -> dict:
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


def browser_timing(cfg, server: Server, cookies: Path) -> dict:
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


def scale(cfg, empty: Server, empty_cookies: Path, seeded: Server, seeded_cookies: Path) -> dict:
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


def knee(cfg, servers: list[Server], url: str, sessions: list[str]) -> dict:
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
