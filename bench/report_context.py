"""docs/BENCHMARKS.md's paragraphs about the run rather than a figure: how to reproduce it, the machine, the
servers, and where the player page's CPU goes."""


def reproduce(r: dict) -> str:
    seed, cached = r.get("seed"), " (cached database kept)" if r.get("seed", {}).get("cached") else ""
    of_which = f", of which {seed['seconds']:.0f} s seeding{cached}" if seed else ""
    return f"Reproduce: `make bench` (≈ {r['wall_seconds'] / 60:.1f} min for this run{of_which})."


def machine(r: dict) -> str:
    m = r["machine"]
    chromium = f", {r['browser']['chromium']}" if "browser" in r else ""
    return (
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']:.0f} GiB; Linux {m['kernel']}; Python "
        f"{m['python']}, Django {m['django']}, gunicorn {m['gunicorn']}, PostgreSQL {m['postgres']}, SQLite "
        f"{m['sqlite']}, {m['wrk']}{chromium}. Load average at start: {m['load_at_start']} (the machine is shared)."
    )


def servers(r: dict) -> str:
    cores = r["machine"]["cores"] or 1
    return (
        "- **Servers**: gunicorn with the project's `gunicorn.conf.py` unchanged (sync workers, "
        f"{2 * cores + 1} workers on {cores} cores, access log on), production settings (`DEBUG=false`, whitenoise), "
        "plain http on 127.0.0.1, `DJANGO_SETTINGS_MODULE=bench.settings` for `/bench/baseline/`, "
        "`/bench/fetched/<slug>/` and `/bench/before/<slug>/`, `IVS_REFRESH_PER_MINUTE` and "
        "`IVS_PLAYER_PAGES_PER_MINUTE` raised so that neither limit answers. Viewers are logged in by "
        "`bench/setup_data.py`: one session per user written through "
        "Django's session store format into the database and the sessions cache, as a login leaves it (`cached_db`)."
    )


def breakdown(r: dict) -> list:
    if "breakdown" not in r:
        return []
    return [
        "",
        "## Where the player page's CPU goes",
        "",
        "`bench/breakdown.py`, in one process through Django's test client (all middleware, the session from Redis, "
        "PostgreSQL), CPU time of the app process per call, and of its PostgreSQL backend per page (which the app's "
        "clock does not see: most of the gap the app's own parts left unexplained):",
        "",
        "| part | CPU per call |",
        "|---|---:|",
        *(f"| {name} | {us / 1000:.2f} ms |" for name, us in r["breakdown"].items()),
    ]
