"""The player's one retry timer: whatever asks for a retry (an error, another error, a page back from the
back/forward cache), playback starts once per retry, never twice in parallel."""

import pytest

from tests.browser.conftest import RequestLog, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MULTIVARIANT = "/ivs/api/video/v1/"
REFRESH = "/channels/e2e-event/playback"
OFFLINE = "#player-status[data-state=offline]"
# What the browser does when it shows a page again from the back/forward cache (Chromium keeps no page there
# under automation, so the event is the page's own).
BACK_FROM_BFCACHE = "() => window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))"


def wait_for_count(page, log, fragment, count):
    for _ in range(100):
        if len(log.matching(fragment)) >= count:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{len(log.matching(fragment))} requests for {fragment}, expected {count}")


def test_an_offline_retry_and_a_pageshow_start_playback_once(context, live_server, viewer, e2e_channel):
    e2e_channel.playback_url = e2e_channel.playback_url.replace("E2eChannel01", "NoSuchChannel")
    e2e_channel.save(update_fields=["playback_url"])
    # The page's clock, so that the 15 s offline retry can be reached without waiting for it.
    context.clock.install()
    page = context.new_page()
    log = RequestLog(page)
    login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    page.wait_for_selector(OFFLINE, timeout=20_000)  # the embedded token's load: a retry is now pending
    assert len(log.matching(MULTIVARIANT)) == 1

    page.evaluate(BACK_FROM_BFCACHE)  # starts at once, with a fresh token: the pending retry has no more to do
    wait_for_count(page, log, MULTIVARIANT, 2)
    page.wait_for_selector(OFFLINE, timeout=20_000)
    page.wait_for_timeout(1_000)  # the second load's error, and the one retry it asks for
    assert (len(log.matching(MULTIVARIANT)), len(log.matching(REFRESH))) == (2, 1)

    # Past both the first retry's time and the second's: one retry runs, one load.
    page.clock.fast_forward(17_000)
    wait_for_count(page, log, MULTIVARIANT, 3)
    page.wait_for_selector(OFFLINE, timeout=20_000)
    page.wait_for_timeout(2_000)  # a second, parallel load would have reached the origin by now
    assert (len(log.matching(MULTIVARIANT)), len(log.matching(REFRESH))) == (3, 2)
    assert page.get_attribute("#player-status", "data-state") == "offline"
