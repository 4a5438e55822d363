"""Running a live event, in Chromium: two viewers play, the channel's live page counts them from their players'
heartbeats (2, then 1 once one closes the tab), "stop watching" stops one viewer's stream, the attendance export
has both with their minutes, and one login playing from two addresses is flagged.

Heartbeats every 2 s (folded every second) and a reconcile period of 3 s keep it short; the real worker runs in a
thread, as in the other browser tests. Each viewer's browser sends its own X-Forwarded-For, which the site trusts
here, so the two contexts come from two addresses."""

import csv
import io

import pytest

from tests.browser.conftest import login
from tests.factories import assert_playback_stopped
from viewers.attendance import fold
from viewers.attendance import store as stores
from viewers.models import Entitlement, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAYING = "() => document.querySelector('video').currentTime > 1"
BEATS_FOLDED_MS = 15_000  # two heartbeat periods and a fold, with room for a loaded machine


@pytest.fixture
def event(settings, ivs_worker, e2e_channel, viewer):
    settings.IVS_HEARTBEAT_SECONDS = 2
    settings.TRUST_X_FORWARDED_FOR = True
    stores.reset()
    fold.schedule(delay=0)
    second = User.objects.create_user("second", "second@example.com", "watch-it-too")
    Entitlement.objects.create(user=second, channel=e2e_channel)
    yield e2e_channel
    stores.reset()


def viewer_page(browser, live_server, username, password, address):
    context = browser.new_context(
        viewport={"width": 900, "height": 700}, extra_http_headers={"X-Forwarded-For": address}
    )
    page = context.new_page()
    login(page, live_server, username, password, "/channels/e2e-event/")
    page.wait_for_function(PLAYING, timeout=30_000)
    return page


def live_page(browser, live_server, channel, admin_user):
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/viewers/channel/{channel.pk}/live/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "password")
    with page.expect_navigation():
        page.click("input[type=submit]")
    return page


def count_says(page, text, timeout=BEATS_FOLDED_MS):
    page.wait_for_function(
        "text => document.getElementById('watching-now').textContent === text", arg=text, timeout=timeout
    )


def test_two_viewers_counted_one_stopped_attendance_exported(browser, live_server, event, admin_user, artifacts):
    first = viewer_page(browser, live_server, "viewer", "watch-it-now", "192.0.2.10")
    second = viewer_page(browser, live_server, "second", "watch-it-too", "192.0.2.20")
    ops = live_page(browser, live_server, event, admin_user)
    count_says(ops, "2 viewers watching now.")

    second.close()  # the tab closes: its pagehide heartbeat says so, or its silence does within two periods
    count_says(ops, "1 viewer watching now.")

    ops.reload()
    ops.screenshot(path=str(artifacts / "live-page.png"), full_page=True)
    ops.click("text=Stop watching")
    assert "Stop <strong>viewer</strong>" in ops.content()
    ops.screenshot(path=str(artifacts / "stop-watching.png"), full_page=True)
    with ops.expect_navigation():
        ops.click("input[type=submit]")
    first.wait_for_selector("#player-status[data-state=stopped]", timeout=3_000 + 15_000)
    assert "An organiser stopped your playback." in first.text_content("#player-status")
    assert_playback_stopped(first)

    response = ops.request.get(f"{live_server.url}/admin/viewers/channel/{event.pk}/live/attendance.csv")
    rows = list(csv.DictReader(io.StringIO(response.text().removeprefix("\ufeff"))))
    watched = {row["viewer"]: int(row["seconds_watched"]) for row in rows}
    assert set(watched) == {"viewer", "second"}
    assert all(seconds > 0 for seconds in watched.values()), watched
    assert {row["viewer"]: row["addresses"] for row in rows} == {"viewer": "192.0.2.10", "second": "192.0.2.20"}


def test_one_login_from_two_addresses_is_flagged(browser, live_server, event, admin_user, artifacts):
    viewer_page(browser, live_server, "viewer", "watch-it-now", "198.51.100.7")
    viewer_page(browser, live_server, "viewer", "watch-it-now", "203.0.113.9")
    ops = live_page(browser, live_server, event, admin_user)
    count_says(ops, "1 viewer watching now (2 sessions).")
    ops.reload()
    evidence = ops.text_content(".ops-evidence")
    assert "198.51.100.7" in evidence and "203.0.113.9" in evidence
    ops.screenshot(path=str(artifacts / "live-page-shared.png"), full_page=True)
