"""Two gunicorn instances share PostgreSQL and Redis: whatever one server decides, the other honours.

Bounded: a fixed number of requests, every request with a 15 s timeout, the whole module well under a minute.
"""

import time
from concurrent.futures import ThreadPoolExecutor

from tests.prod.cluster import CHANNEL, LOGIN_FAILURES, REFRESH_PER_MINUTE, VIEWERS, Browser, path_of

PAGE_LOADS = 120
THREADS = 6


def test_a_session_made_on_one_server_works_on_the_other(cluster):
    browser = Browser(cluster.a)
    assert browser.login("viewer0") == 302
    status, claims, _ = browser.on(cluster.b).watch()
    assert status == 200 and claims["aws:channel-arn"].endswith("ProdEvent01")


def test_every_issued_token_has_exactly_one_audit_row(cluster):
    browsers = []
    for i in range(VIEWERS):
        browser = Browser(cluster.a if i % 2 else cluster.b)
        assert browser.login(f"viewer{i}") == 302
        browsers.append(browser)

    def load(n):
        browser = browsers[n % VIEWERS]
        server = cluster.a if n % 2 else cluster.b  # each viewer alternates between the servers
        return browser.on(server).watch()

    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(load, range(PAGE_LOADS)))
    elapsed = time.monotonic() - started
    assert [status for status, _, _ in results] == [200] * PAGE_LOADS
    claims = [c for _, c, _ in results]
    uuids = [c["aws:single-use-uuid"] for c in claims]
    versions = [c["aws:viewer-session-version"] for c in claims]
    assert len(set(uuids)) == PAGE_LOADS and len(set(versions)) == PAGE_LOADS

    rows = cluster.sql(
        "SELECT single_use_uuid::text, id, count(*) OVER (PARTITION BY single_use_uuid) FROM viewers_tokenaudit "
        "WHERE single_use_uuid = ANY(%s::uuid[])",
        (uuids,),
    )
    assert len(rows) == PAGE_LOADS
    assert all(count == 1 for _, _, count in rows)
    assert {u: i for u, i, _ in rows} == dict(zip(uuids, versions, strict=True))  # the version is the audit row id
    print(f"\nscale-out: {PAGE_LOADS} player pages over 2 servers, {THREADS} threads: {elapsed:.2f} s")


def test_a_single_use_token_spent_on_one_server_is_refused_by_the_other(cluster):
    browser = Browser(cluster.a)
    browser.login("viewer1")
    _, _, url = browser.watch()
    first, _, _ = Browser(cluster.a).send("GET", path_of(url))
    replay, _, body = Browser(cluster.b).send("GET", path_of(url))
    assert (first, replay) == (200, 403)
    assert "invalid_playback_auth_token" in body


def test_token_rate_limits_are_shared(cluster):
    if time.time() % 60 > 45:  # the limit counts per wall-clock minute: do not straddle two
        time.sleep(61 - time.time() % 60)
    browser = Browser(cluster.a)
    browser.login("viewer2")
    statuses = [browser.on(cluster.a if i % 2 else cluster.b).refresh() for i in range(REFRESH_PER_MINUTE + 6)]
    assert statuses.count(200) == REFRESH_PER_MINUTE
    assert statuses[REFRESH_PER_MINUTE:] == [429] * 6


def test_login_lockout_is_shared(cluster):
    statuses = [Browser(cluster.a if i % 2 else cluster.b).login("victim", "wrong") for i in range(LOGIN_FAILURES)]
    assert statuses == [200] * (LOGIN_FAILURES - 1) + [429]  # the failure that reaches the limit says so
    for server in (cluster.a, cluster.b):
        browser = Browser(server)
        browser.send("GET", "/accounts/login/")
        status, headers, body = browser.csrf_post("/accounts/login/", {"username": "victim", "password": "x"})
        assert status == 429 and "Too many failed login attempts" in body
        assert int(headers["Retry-After"]) > 0
        assert Browser(server).login("victim") == 429  # the right password too


REVOCATION_DONE = "SELECT status FROM viewers_revocation WHERE viewer_id = %s"


def playing_through_b(cluster, username):
    """`username` opens the player page on A; the player plays at the local origin through B.
    Returns the viewer, the token's claims, the player and the variant playlist it keeps reloading."""
    viewer = Browser(cluster.a)
    viewer.login(username)
    _, claims, url = viewer.watch()
    player = Browser(cluster.b)
    status, _, playlist = player.send("GET", path_of(url))
    assert status == 200
    variant = next(line for line in playlist.splitlines() if line and not line.startswith("#"))
    assert player.send("GET", variant)[0] == 200
    return viewer, claims, player, variant


def test_revocation_on_one_server_is_honoured_by_the_other(cluster):
    viewer, claims, player, variant = playing_through_b(cluster, "viewer3")

    (entitlement,) = cluster.sql(
        "SELECT e.id FROM viewers_entitlement e JOIN viewers_user u ON u.id = e.user_id WHERE u.username = %s",
        ("viewer3",),
    )
    admin = Browser(cluster.a)
    assert admin.login("ops-admin") == 302
    admin.send("GET", "/admin/viewers/entitlement/")
    action = {"action": "revoke", "_selected_action": entitlement[0], "apply": "yes"}
    assert admin.csrf_post("/admin/viewers/entitlement/", action)[0] == 302

    # One of the two workers delivers it, once, through boto3 to the IVS API.
    assert cluster.wait_for(REVOCATION_DONE, (claims["aws:viewer-id"],), [("done",)]) == [("done",)]
    assert player.send("GET", variant)[0] == 403  # B's origin stops the running stream
    assert viewer.on(cluster.b).watch()[0] == 403  # B issues no new page
    assert viewer.on(cluster.b).refresh() == 403  # nor a refreshed token


def test_the_workers_stop_a_session_whose_window_simply_ended(cluster):
    _, claims, player, variant = playing_through_b(cluster, "viewer6")
    # A SQL fix from a console: no request, no signal. Only the periodic reconciliation can notice.
    ended = cluster.sql(
        "UPDATE viewers_entitlement SET ends_at = now() "
        "WHERE user_id = (SELECT id FROM viewers_user WHERE username = %s)",
        ("viewer6",),
    )
    assert ended == 1
    assert cluster.wait_for(REVOCATION_DONE, (claims["aws:viewer-id"],), [("done",)]) == [("done",)]
    assert player.send("GET", variant)[0] == 403


def test_device_limits_hold_across_servers(cluster):
    assert cluster.sql("UPDATE viewers_channel SET max_devices = 1 WHERE slug = %s", (CHANNEL,)) == 1
    try:
        first, second = Browser(cluster.a), Browser(cluster.b)
        first.login("viewer4")
        second.login("viewer4")
        # The page of a device-limited channel starts nothing: the player's POST does.
        assert first.watch()[0] == 200 and second.watch()[0] == 200
        old = first.start()[1]["aws:viewer-session-version"]
        new = second.start()[1]["aws:viewer-session-version"]
        rows = dict(cluster.sql("SELECT id, end_reason FROM viewers_tokenaudit WHERE id = ANY(%s)", ([old, new],)))
        assert rows == {old: "superseded", new: ""}
        # The old screen, asking either server for a new token, is told it lost to the other screen.
        status, _, body = first.on(cluster.b).csrf_post(f"/channels/{CHANNEL}/playback", {"session": old})
        assert status == 409 and "another of your devices" in body

        # Eight screens of one viewer start at once, spread over both servers: one stays open.
        screens = []
        for i in range(8):
            screen = Browser(cluster.a if i % 2 else cluster.b)
            screen.login("viewer5")
            screens.append(screen)
        with ThreadPoolExecutor(8) as pool:
            statuses = [status for status, _ in pool.map(lambda screen: screen.start(), screens)]
        assert statuses == [200] * 8
        open_sessions = cluster.sql(
            "SELECT count(*) FROM viewers_tokenaudit a JOIN viewers_user u ON u.id = a.user_id "
            "WHERE u.username = 'viewer5' AND a.ended_at IS NULL"
        )
        assert open_sessions == [(1,)]
    finally:
        cluster.sql("UPDATE viewers_channel SET max_devices = NULL WHERE slug = %s", (CHANNEL,))


def test_no_token_or_session_id_in_either_servers_log(cluster):
    """Last in the module: everything the servers wrote while the tests above ran."""
    logs = cluster.a.log() + cluster.b.log()
    assert "gunicorn.access" in logs and "/channels/prod-event/" in logs
    assert "Traceback" not in logs
    assert len(Browser.secrets_seen) > PAGE_LOADS
    leaked = [secret for secret in Browser.secrets_seen if secret in logs]
    assert not leaked
