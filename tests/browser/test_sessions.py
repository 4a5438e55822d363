"""Long viewing sessions, revocation mid-stream and device limits, in a real browser."""

import pytest

from tests.browser.conftest import RequestLog, login
from tests.factories import assert_playback_stopped
from viewers import services
from viewers.models import Entitlement, Revocation, TokenAudit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAYING = "() => document.querySelector('video').currentTime > 2"


def refresh_calls(log):
    return [url for url in log.matching("/channels/e2e-event/playback")]


def test_a_page_kept_open_past_its_tokens_expiry_still_plays_with_one_refresh(context, live_server, viewer, settings):
    settings.IVS_TOKEN_TTL_SECONDS = 6
    page = context.new_page()
    log = RequestLog(page)
    # Hold the player script back until the embedded token has expired, as if the page sat in a background tab.
    page.route("**/ivs-player.js", lambda route: (page.wait_for_timeout(7_000), route.continue_()))
    login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    page.wait_for_function(PLAYING, timeout=40_000)
    assert len(refresh_calls(log)) == 1
    assert list(TokenAudit.objects.values_list("purpose", flat=True).order_by("pk")) == ["page", "refresh"]


def test_the_first_load_makes_no_refresh_call(context, live_server, viewer):
    page = context.new_page()
    log = RequestLog(page)
    login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    page.wait_for_function(PLAYING, timeout=30_000)
    page.wait_for_timeout(1_000)
    assert refresh_calls(log) == []


def test_revoking_the_entitlement_stops_the_video_with_a_clear_message(
    context, live_server, viewer, artifacts, ivs_worker
):
    page = context.new_page()
    login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    page.wait_for_function(PLAYING, timeout=30_000)

    services.entitlements_revoke(entitlements=Entitlement.objects.filter(user=viewer))

    page.wait_for_selector("#player-status[data-state=unauthorized]", timeout=15_000)
    assert "has been revoked" in page.inner_text("#player-status")
    assert_playback_stopped(page, watch_ms=3_000)
    assert Revocation.objects.get().status == "done"
    page.screenshot(path=str(artifacts / "revoked.png"))


def test_with_a_device_limit_of_one_a_second_screen_stops_the_first(
    browser, context, live_server, viewer, e2e_channel, ivs_worker
):
    e2e_channel.max_devices = 1
    e2e_channel.save(update_fields=["max_devices"])
    first = context.new_page()
    login(first, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    first.wait_for_function(PLAYING, timeout=30_000)

    second_context = browser.new_context()
    try:
        second = second_context.new_page()
        login(second, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
        second.wait_for_function(PLAYING, timeout=30_000)
        first.wait_for_selector("#player-status[data-state=superseded]", timeout=15_000)
        assert "playing on another of your devices" in first.inner_text("#player-status")
        assert first.is_visible("#player-action")
        second.wait_for_timeout(2_000)
        assert second.get_attribute("#player-status", "data-state") == "playing"
    finally:
        second_context.close()
