"""docs/DEMO.md, "Another channel for the demo": a channel added in the admin with the demo's ARN and a playback URL on
the local origin plays, as that section says, with nothing else to configure."""

import pytest

from localivs.models import PlaybackSession
from tests.browser.conftest import RequestLog, login
from viewers.models import Channel, Entitlement, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECOND_ARN = "arn:aws:ivs:us-west-2:123456789012:channel/SecondStage01"


def test_a_second_channel_added_in_the_admin_plays_from_the_local_origin(browser, live_server, viewer, artifacts):
    User.objects.create_superuser("operator", "operator@example.com", "run-the-show")
    admin = browser.new_context()
    try:
        page = admin.new_page()
        page.goto(f"{live_server.url}/admin/login/?next=/admin/viewers/channel/add/")
        page.fill("#id_username", "operator")
        page.fill("#id_password", "run-the-show")
        with page.expect_navigation():
            page.click("input[type=submit]")
        page.fill("#id_name", "Second Stage")
        page.fill("#id_arn", SECOND_ARN)
        assert page.input_value("#id_slug") == "second-stage"  # the admin fills it in from the name
        page.fill(
            "#id_playback_url", f"{live_server.url}/ivs/api/video/v1/us-west-2.123456789012.channel.SecondStage01.m3u8"
        )
        with page.expect_navigation():
            page.click("input[name=_save]")
        assert "was added successfully" in page.content(), page.inner_text("#content")
    finally:
        admin.close()
    second = Channel.objects.get(slug="second-stage")
    assert second.is_private
    Entitlement.objects.create(user=viewer, channel=second)

    watcher = browser.new_context(viewport={"width": 1100, "height": 820})
    try:
        page = watcher.new_page()
        log = RequestLog(page)
        login(page, live_server, "viewer", "watch-it-now", "/channels/second-stage/")
        page.wait_for_function("() => document.querySelector('video').currentTime > 1", timeout=30_000)
        page.screenshot(path=str(artifacts / "second-channel.png"))
    finally:
        watcher.close()
    assert len(log.matching("/ivs/api/video/v1/us-west-2.123456789012.channel.SecondStage01.m3u8?token=")) == 1
    assert PlaybackSession.objects.get().channel_arn == SECOND_ARN
