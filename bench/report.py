"""docs/BENCHMARKS.md from bench/run.py's results: one small function per section, each giving its table rows and
its paragraph of method (a section that did not run is left out). The targets live here, beside their words."""

from pathlib import Path

from bench.report_context import breakdown, machine, reproduce, servers

THROUGHPUT_TARGETS = {"throughput_pg": 0.70, "throughput_sqlite": 0.75}
FRAME_OVER_PUBLIC, FRAME_OVER_FETCHED, AFTER_OVER_BEFORE = 1.05, 1.0, 0.80
P99_LIMIT_MS = 500

HEADER = """# Benchmarks

Written by `make bench` (`bench/run.py`, `bench/report.py`); do not edit by hand. Each ratio compares two things \
measured side by side in the same run, interleaved (A, B, A, B, …), and takes medians, because absolute times drift \
on a shared machine: read the ratios, not the absolute numbers.

| # | measure | A | B | A / B | target | result |
|---|---|---|---|---|---|---|"""


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def write(path: Path, r: dict, cfg) -> None:
    rows, method = [], [servers(r)]
    for keys, section in SECTIONS:
        if not any(key in r for key in keys):
            continue  # the section did not run
        section_rows, section_method = section(r, cfg)
        rows += section_rows
        method += section_method
    lines = [HEADER, *("| " + " | ".join(row) + " |" for row in rows), "", reproduce(r), "", machine(r), ""]
    lines += [f"Date: {r['started']:%Y-%m-%d %H:%M} UTC.", "", "## How each figure is made", "", *method]
    lines += breakdown(r)
    path.write_text("\n".join(lines) + "\n")


def _mint(r: dict, cfg) -> tuple[list, list]:
    m = r["mint"]
    rows = [
        (
            "1",
            "Mint one token / raw `sign()` (same key object, same bytes)",
            f"{m['mint_us']:.0f} µs",
            f"{m['raw_sign_us']:.0f} µs",
            f"**{m['mint_over_raw']:.3f}×**",
            "≤ 1.15×",
            verdict(m["mint_over_raw"] <= 1.15),
        ),
        (
            "1",
            "Mint re-parsing the PEM each time / raw `sign()`",
            f"{m['mint_reparse_us']:.0f} µs",
            f"{m['raw_sign_us']:.0f} µs",
            f"{m['reparse_over_raw']:.2f}×",
            "(what the cached key avoids)",
            "",
        ),
    ]
    return rows, ["- **1. Mint**: `bench/mint.py`, interleaved batches, the median of paired ratios."]


def _rps_latency(t: dict, page: str) -> str:
    return f"{t['rps'][page]:.0f} req/s (p50 {t['p50_ms'][page]:.1f} ms, p99 {t['p99_ms'][page]:.1f} ms)"


def _throughput(r: dict, cfg) -> tuple[list, list]:
    rows = []
    for key, label in (("throughput_pg", "PostgreSQL + Redis"), ("throughput_sqlite", "SQLite + per-process cache")):
        if key not in r:
            continue
        t, target = r[key], THROUGHPUT_TARGETS[key]
        ok = t["ratio"] >= target and t["errors"] == 0 and t["audit_rows"] == t["served_200"]
        rows.append(
            (
                "2",
                f"Player page / baseline page, req/s, {label}, {cfg.connections} connections",
                _rps_latency(t, "player"),
                _rps_latency(t, "baseline"),
                f"**{t['ratio']:.2f}**",
                f"≥ {target:.2f}, 0 errors, audit rows = pages served",
                verdict(ok) + f" ({t['errors']} errors; {t['audit_rows']} audit rows = {t['served_200']} served)",
            )
        )
    if "throughput_pg" not in r:
        return rows, []
    t = r["throughput_pg"]
    return rows, [
        f"- **2. Throughput**: wrk ({cfg.connections} connections, 2 threads, {cfg.wrk_seconds} s per run, "
        f"{cfg.pairs} interleaved pairs after a 2 s warm-up of each page) with `bench/cookies.lua`, which sends each "
        f"request with the next of {cfg.viewers} distinct entitled viewers' session cookies and counts every non-2xx "
        "status as an error. The ratio is the median of the pairs' ratios. The player page signs a token and inserts "
        "an audit row per request; the baseline only loads the session and user and renders `base.html`. PostgreSQL "
        "uses Redis (`redis://127.0.0.1:6379/5`) for the cache and sessions' fast copy, as in production. SQLite (WAL "
        "journal) uses the default per-process memory cache, so each worker reads a session from the database once "
        "and then from its own memory. Audit rows written during the section are compared with the 200s gunicorn's "
        f"access log recorded for the player page (PostgreSQL: {t['audit_rows']} = {t['served_200']}; wrk itself "
        f"received {t['received_2xx']}: requests still in flight when wrk's clock stops are served but not counted)."
    ]


def _cpu(r: dict, cfg) -> tuple[list, list]:
    c = r["cpu"]
    rows = [
        (
            "3",
            "Server CPU per viewer: fetched (page + POST refresh) / embedded (page)",
            f"{c['cpu_ms']['fetched']:.2f} ms, {c['requests_per_viewer']['fetched']:.0f} requests",
            f"{c['cpu_ms']['embedded']:.2f} ms, {c['requests_per_viewer']['embedded']:.0f} request",
            f"**{c['cpu_ratio']:.2f}×**",
            "embedded cheaper",
            verdict(c["cpu_ratio"] > 1 and c["failures"] == 0),
        ),
    ]
    return rows, [
        f"- **3. Embedded vs fetched, server side**: {c['viewers']} viewers per workflow ({cfg.cpu_rounds} "
        f"interleaved rounds of {cfg.cpu_viewers}), 4 client threads; CPU is utime+stime of the gunicorn master and "
        "workers from `/proc` (recycled workers included through the master's cutime/cstime), per viewer. Embedded: "
        "`GET /channels/bench-event/`. Fetched: `GET /bench/fetched/bench-event/` then `POST "
        "/channels/bench-event/playback` with the page's CSRF token, as `static/js/player.js` does. Failures: "
        f"{c['failures']}; the access log shows {c['logged']['page']} player pages, {c['logged']['fetched']} "
        f"fetch-first pages and {c['logged']['refresh']} refreshes (PostgreSQL + Redis)."
    ]


def _browser_row(b: dict, rtt: int, visit: str, a: str, b_page: str, target: str, ok) -> tuple:
    fa, fb = b["frame_ms"][rtt][a][visit], b["frame_ms"][rtt][b_page][visit]
    labels = {
        "embedded": "embedded private page",
        "fetched": "fetch-first page",
        "public": "public page (no token)",
        "before": "embedded page before issue 13",
    }
    return (
        "3",
        f"First frame, Chromium +{rtt} ms RTT, {visit}: {labels[a]} / {labels[b_page]}",
        f"{fa:.0f} ms",
        f"{fb:.0f} ms",
        f"**{fa / fb:.3f}×** ({fa - fb:+.0f} ms)",
        target,
        verdict(ok(fa / fb)) if ok else "",
    )


def _frame_target(other: str, rtt: int, visit: str) -> tuple[str, object]:
    """Issue 13's target for embedded / `other`, and its check; a diagnostic where the issue sets none."""
    if other == "public":
        return f"≤ {FRAME_OVER_PUBLIC:.2f}×", lambda x: x <= FRAME_OVER_PUBLIC
    if other == "fetched" and rtt >= 150:
        return f"< {FRAME_OVER_FETCHED:.2f}×", lambda x: x < FRAME_OVER_FETCHED
    if other == "before" and rtt == 50 and visit == "cold":
        return f"≤ {AFTER_OVER_BEFORE:.2f}×", lambda x: x <= AFTER_OVER_BEFORE
    return "(diagnostic)", None


def _browser(r: dict, cfg) -> tuple[list, list]:
    b = r["browser"]
    rows = [
        _browser_row(b, rtt, visit, "embedded", other, *_frame_target(other, rtt, visit))
        for other in ("public", "fetched", "before")
        for rtt in b["frame_ms"]
        for visit in ("cold", "warm")
    ]
    playlist = "; ".join(
        f"{rtt} ms {visit}: " + ", ".join(f"{page} {b['playlist_ms'][rtt][page][visit]:.0f}" for page in pages)
        for rtt, pages in b["playlist_ms"].items()
        for visit in ("cold", "warm")
    )
    runs = "; ".join(
        f"{rtt} ms {page} {visit} " + " / ".join(f"{v:.0f}" for v in values)
        for rtt, pages in b["frame_runs"].items()
        for page, by_visit in pages.items()
        for visit, values in by_visit.items()
    )
    return rows, [
        f"- **3. First frame, browser**: Chromium headless through Playwright, {cfg.browser_runs} interleaved runs of "
        "each page at each round trip after one warm-up, the local IVS origin and the self-hosted player bundle "
        "(`static/vendor/ivs`). Four pages: the embedded private player page, the fetch-first page (the same page "
        "without a token, which `POST`s for one), the public channel's page (no login, no token: the floor) and the "
        "embedded page as it was before issue 13 (`/bench/before/`, a frozen copy of the old template and script). "
        "Each run opens a fresh context (cold: nothing cached), then the same page again in a new tab of that "
        "context (warm: the player bundle, its worker and wasm from the browser's cache). The round trip comes from "
        "`bench/browser.py`'s loopback delay proxy (half of it each way per chunk, a whole one per new connection) "
        "rather than DevTools emulation, so that the player's web worker is delayed exactly like the page. First "
        "frame: the browser's `performance.now()` at the video's first `playing` event. Ratios are of medians. "
        f"Medians to the first multivariant playlist request (ms, from `page.goto`): {playlist}. First-frame runs "
        f"(ms): {runs}."
    ]


def _scale(r: dict, cfg) -> tuple[list, list]:
    s = r["scale"]
    rows = [
        (
            "4",
            f"Player page p50 latency, seeded / nearly empty PostgreSQL, {cfg.scale_connections} connections",
            f"{s['p50_ms']['seeded']:.1f} ms (p99 {s['p99_ms']['seeded']:.1f} ms)",
            f"{s['p50_ms']['empty']:.1f} ms (p99 {s['p99_ms']['empty']:.1f} ms)",
            f"**{s['ratio']:.2f}×**",
            "≤ 1.2×",
            verdict(s["ratio"] <= 1.2 and s["errors"] == 0) + f" ({s['errors']} errors)",
        ),
    ]
    counts = ", ".join(f"{v:,} {k}" for k, v in r.get("seeded_counts", {}).items())
    seeding = "n/a"
    if "seed" in r:
        cached = " (cached: already seeded)" if r["seed"]["cached"] else ""
        seeding = f"{r['seed']['seconds']:.0f} s this run{cached}"
    return rows, [
        f"- **4. Scale**: the same player page on the seeded database ({counts}; `bench/seed.py`, the Big Event "
        "holding 80% of users) against the nearly empty one, both PostgreSQL + Redis, one app server each, wrk with "
        f"{cfg.scale_connections} connections (below saturation, so latency is service time, not queueing), "
        f"{cfg.pairs} interleaved pairs; p50 ratio is the median of the pairs' ratios. Seeding: {seeding}. Queries "
        "per player page: a constant, checked by `tests/viewers/player/test_query_counts.py`."
    ]


def _knee(r: dict, cfg) -> tuple[list, list]:
    k = r["knee"]
    knee = k["knee"]
    steps = "; ".join(
        f"{s['rate']}/s: p99 {s['p99_ms']:.0f} ms, {s['errors']} errors, {s['audit_rows']} audit rows for "
        f"{s['tokens']} tokens" + ("" if s["ok"] else " (over)")
        for s in k["steps"]
    )
    at_least = "≥ " if k["steps"] and k["steps"][-1]["ok"] else ""  # the last step held: the knee lies beyond
    sustained = f"{at_least}{knee} tokens/s = {at_least}{knee / k['cores']:.0f} tokens/s/core" if knee else "none"
    rows = [
        (
            "5",
            f"The crowd's knee: highest arrival rate {k['servers']} app servers sustain, p99 < {P99_LIMIT_MS} ms, "
            "0 errors",
            sustained,
            f"{k['cores']} cores (app servers, PostgreSQL, Redis and the load generator)",
            "—",
            "reported (the next target)",
            "reported" if knee else "**none sustained**",
        ),
    ]
    return rows, [
        f"- **5. The crowd's knee**: distinct viewers of the seeded Big Event arrive at random moments (uniform) "
        f"within {k['step_s']:.0f} s per step, alternately at two gunicorn app servers (same PostgreSQL and Redis), "
        "from `bench/clients.py` (96 threads of http.client); the rate steps up until a step's p99 reaches "
        f"{P99_LIMIT_MS} ms or any request fails. Latency runs from each viewer's planned arrival, so a saturated load "
        f"generator shows in p99. Per core: the knee over all {k['cores']} cores of this machine, which run "
        f"everything. Steps: {steps}."
    ]


# Each section with the results it reads; it is written when any of them is there.
SECTIONS = [
    (("mint",), _mint),
    (("throughput_pg", "throughput_sqlite"), _throughput),
    (("cpu",), _cpu),
    (("browser",), _browser),
    (("scale",), _scale),
    (("knee",), _knee),
]
