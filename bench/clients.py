"""Viewers as HTTP clients (http.client on loopback), for the per-viewer CPU figures and the crowd.

A viewer is a session cookie. `embedded` opens the player page (its token is in the page); `fetched`
opens the fetch-first page and then asks the refresh endpoint for a token with the page's CSRF token,
exactly what static/js/player.js does on that page.
"""

import http.client
import json
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie

_CONFIG = re.compile(r'<script id="player-config" type="application/json">(.*?)</script>', re.S)
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def request(port, method, path, cookies, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    all_headers = {"Host": f"127.0.0.1:{port}", "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    all_headers.update(headers or {})
    try:
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = response.read().decode(errors="replace")
        set_cookies = {}
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                set_cookies[name] = morsel.value
        return response.status, data, set_cookies
    finally:
        conn.close()


def embedded(port, slug, session):
    """The embedded workflow: one request, the token arrives in the page. Returns (requests, ok)."""
    status, body, _ = request(port, "GET", f"/channels/{slug}/", {"sessionid": session})
    return 1, status == 200 and "?token=" in body


def fetched(port, slug, session):
    """The fetch-first workflow: the page, then POST to the refresh endpoint for the token."""
    cookies = {"sessionid": session}
    status, body, set_cookies = request(port, "GET", f"/bench/fetched/{slug}/", cookies)
    match = _CONFIG.search(body)
    if status != 200 or not match:
        return 1, False
    config = json.loads(match.group(1))
    csrf = _CSRF.search(body)
    cookies.update(set_cookies)
    status, body, _ = request(
        port,
        "POST",
        config["refreshUrl"],
        cookies,
        body="",
        headers={
            "X-CSRFToken": csrf.group(1) if csrf else "",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
    )
    return 2, status == 200 and "?token=" in json.loads(body).get("playbackUrl", "")


def viewers(workflow, port, slug, sessions, threads=4):
    """Every session views once. Returns (requests, failures)."""
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(lambda s: workflow(port, slug, s), sessions))
    return sum(r for r, _ in results), sum(1 for _, ok in results if not ok)


def crowd(ports, slug, sessions, *, spread, threads=96, seed=7, deadline=120):
    """Each session arrives once, at a random moment within `spread` seconds, at the servers in turn.

    Latency runs from the planned arrival (a viewer who waits on the load generator waits all the same),
    so an overloaded generator shows up in p99 instead of hiding it. Bounded by `deadline` seconds.
    """
    rng = random.Random(seed)
    plan = sorted(rng.uniform(0, spread) for _ in sessions)
    latencies, failures, statuses = [], [], {}
    lock = threading.Lock()
    start = time.monotonic() + 0.5
    give_up = start + deadline

    def visit(i):
        at = start + plan[i]
        time.sleep(max(0.0, at - time.monotonic()))
        if time.monotonic() > give_up:
            ok, status = False, "deadline"
        else:
            try:
                status, body, _ = request(
                    ports[i % len(ports)], "GET", f"/channels/{slug}/", {"sessionid": sessions[i]}
                )
                ok = status == 200 and "?token=" in body
            except OSError as exc:
                ok, status = False, type(exc).__name__
        done = time.monotonic()
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            (latencies if ok else failures).append(done - at)
        return done

    with ThreadPoolExecutor(threads) as pool:
        # Submitted in arrival order: a thread picks up the next viewer as soon as it is free.
        finished = list(pool.map(visit, range(len(sessions))))
    return {
        "latencies": latencies,
        "failures": len(failures),
        "statuses": statuses,
        "first_arrival": start + plan[0],
        "last_done": max(finished),
    }
