"""Faults in production mode: PostgreSQL stopped under load, Redis unreachable, a bad playback key.

Every loop is bounded in requests and in time. PostgreSQL is started again in a `finally` (and by the
trap in ops/prod-tests), whatever happens here.
"""

import contextlib
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.prod.cluster import Browser, request

OUTAGE_SECONDS = 4
RECOVERY_LIMIT = 20
MAX_REQUESTS = 3000


def pg(action: str) -> None:
    version = sorted(Path("/etc/postgresql").iterdir())[-1].name
    args = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
    if action == "stop":
        args += ["-m", "fast"]
    subprocess.run(args, check=True, timeout=60, capture_output=True)  # noqa: S603


@pytest.mark.parametrize("problem", ["missing", "corrupt"])
def test_a_bad_key_file_fails_start_up_not_requests(cluster, problem):
    key = cluster.tmp / f"{problem}.pem"
    if problem == "corrupt":
        key.write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    server = cluster.server(f"badkey-{problem}", 8709, IVS_PLAYBACK_PRIVATE_KEY_FILE=str(key)).start(wait=False)
    try:
        code = server.wait_exit(timeout=30)
    finally:
        server.stop()
    log = server.log()
    assert code != 0
    assert "ivs.E001: Playback key unusable" in log
    assert ("cannot be read" if problem == "missing" else "not a valid PEM private key") in log
    assert "Listening at" not in log  # it never took a request


def test_the_local_identity_provider_fails_start_up(cluster):
    """IVS_LOCAL_IDP in production mode: gunicorn exits before listening (localidp.E001), like a bad key."""
    server = cluster.server("local-idp", 8710, IVS_LOCAL_IDP="true").start(wait=False)
    try:
        code = server.wait_exit(timeout=30)
    finally:
        server.stop()
    log = server.log()
    assert code != 0 and "localidp.E001" in log and "Listening at" not in log


def test_the_site_keeps_serving_player_pages_with_redis_unreachable(cluster):
    server = cluster.server("noredis", 8708, CACHE_URL="redis://127.0.0.1:1/0").start()
    try:
        browser = Browser(server)
        assert browser.login("viewer3") == 302
        for _ in range(5):
            status, claims, _ = browser.watch()
            assert status == 200 and claims
        assert (
            request(server, "GET", "/readyz")[2] == '{"status": "degraded", "database": "ok", "cache": "unavailable"}'
        )
    finally:
        server.stop()
    log = server.log()
    assert "Redis cache unavailable" in log and "Traceback" not in log


def test_postgres_stopped_under_load_fails_cleanly_and_recovers_by_itself(cluster):
    browsers = []
    for i, server in enumerate([cluster.a, cluster.b, cluster.a, cluster.b]):
        browser = Browser(server)
        assert browser.login(f"viewer{10 + i}") == 302
        browsers.append(browser)
    results = []  # (phase, status, body)
    phase = {"now": "before"}
    stop = threading.Event()

    def load(browser):
        while not stop.is_set() and len(results) < MAX_REQUESTS:
            try:
                status, _, body = browser.send("GET", "/channels/prod-event/")
            except OSError as exc:
                status, body = 0, repr(exc)
            results.append((phase["now"], status, body))
            time.sleep(0.02)

    threads = [threading.Thread(target=load, args=(b,), daemon=True) for b in browsers]
    for t in threads:
        t.start()
    recovered_after = None
    try:
        time.sleep(1.5)
        phase["now"] = "outage"
        pg("stop")
        outage_started = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        readiness_during = request(cluster.a, "GET", "/readyz")
        pg("start")
        phase["now"] = "after"
        restarted = time.monotonic()
        deadline = restarted + RECOVERY_LIMIT
        while time.monotonic() < deadline:
            recent = [s for p, s, _ in results[-8:] if p == "after"]
            if len(recent) == 8 and set(recent) == {200}:
                recovered_after = time.monotonic() - restarted
                break
            time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=20)
        with contextlib.suppress(subprocess.CalledProcessError):
            pg("start")  # idempotent; the trap in ops/prod-tests is the last resort

    by_phase = {p: [s for q, s, _ in results if q == p] for p in ("before", "outage", "after")}
    summary = {p: {s: v.count(s) for s in set(v)} for p, v in by_phase.items()}
    print(
        f"\nfaults: PostgreSQL down {time.monotonic() - outage_started:.1f}s; statuses by phase {summary}; "
        f"recovered {recovered_after:.2f}s after restart"
        if recovered_after is not None
        else ""
    )
    assert set(by_phase["before"]) == {200}
    assert 503 in by_phase["outage"], "the outage was not seen"
    assert set(by_phase["outage"]) <= {200, 503}  # in-flight requests may finish; nothing else
    assert set(by_phase["after"]) <= {200, 503}
    for _, status, body in results:
        assert "Traceback" not in body and "OperationalError" not in body
        if status == 503:
            assert "Back in a moment" in body
    assert readiness_during[0] == 503
    assert readiness_during[2] == '{"status": "unavailable", "database": "unavailable", "cache": "ok"}'
    assert recovered_after is not None, f"not recovered within {RECOVERY_LIMIT}s of the restart"
    assert request(cluster.b, "GET", "/readyz")[0] == 200
    logs = cluster.a.log() + cluster.b.log()
    assert "database unavailable: OperationalError" in logs
    assert "Traceback" not in logs
