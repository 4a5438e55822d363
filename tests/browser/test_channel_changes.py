"""Changing a channel while a viewer watches: the operator deletes it, or re-points it to another ARN and then
revokes the viewer, in the admin, in Chromium. The stream stops within the reconcile period, because each session's
revocation goes to the ARN its token was signed for, and the token audit outlives the channel."""

import time

import pytest

from tests.browser.conftest import E2E_ARN, login
from tests.factories import assert_playback_stopped, playback_url_for
from viewers.models import Channel, Revocation, TokenAudit, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAYING = "() => document.querySelector('video').currentTime > 1"
RECONCILE_PERIOD_MS = 3_000  # the ivs_worker fixture's
WITHIN_THE_PERIOD = RECONCILE_PERIOD_MS + 12_000  # plus delivery and the player's next segment request


@pytest.fixture
def operator(transactional_db):
    return User.objects.create_superuser("operator", "operator@example.com", "run-the-event")


def admin_page(context, live_server, path):
    page = context.new_page()
    page.goto(f"{live_server.url}{path}")
    if page.is_visible("#login-form"):
        page.fill("#id_username", "operator")
        page.fill("#id_password", "run-the-event")
        with page.expect_navigation():
            page.click("input[type=submit]")
    return page


def watching(browser, live_server):
    viewer_context = browser.new_context(viewport={"width": 1100, "height": 820})
    page = viewer_context.new_page()
    login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    page.wait_for_function(PLAYING, timeout=30_000)
    return viewer_context, page


def test_deleting_the_channel_in_the_admin_stops_the_stream_and_keeps_its_audit(
    browser, context, live_server, viewer, e2e_channel, operator, ivs_worker, artifacts
):
    viewer_context, player = watching(browser, live_server)
    try:
        admin = admin_page(context, live_server, f"/admin/viewers/channel/{e2e_channel.pk}/delete/")
        assert "1 viewer may be watching now" in admin.inner_text("#content")
        admin.screenshot(path=str(artifacts / "channel-delete-confirmation.png"), full_page=True)
        with admin.expect_navigation():
            admin.click("input[type=submit]")
        deleted_at = time.monotonic()
        assert not Channel.objects.exists()

        player.wait_for_selector("#player-status[data-state=error]", timeout=WITHIN_THE_PERIOD)
        assert time.monotonic() - deleted_at < WITHIN_THE_PERIOD / 1000
        assert "no longer exists" in player.inner_text("#player-status")
        assert_playback_stopped(player)
        player.screenshot(path=str(artifacts / "channel-deleted-player.png"))
    finally:
        viewer_context.close()
    audits = list(TokenAudit.objects.values_list("channel_id", "channel_name", "channel_arn", "end_reason"))
    assert audits == [(None, "E2E Event", E2E_ARN, "revoked")]
    assert list(Revocation.objects.values_list("channel_arn", "status")) == [(E2E_ARN, "done")]


def test_re_pointing_the_channel_then_revoking_the_viewer_stops_both_streams(
    browser, context, live_server, viewer, e2e_channel, operator, ivs_worker, artifacts
):
    new_arn = E2E_ARN.replace("E2eChannel01", "E2eChannel02")
    viewer_context, player = watching(browser, live_server)
    try:
        admin = admin_page(context, live_server, f"/admin/viewers/channel/{e2e_channel.pk}/change/")
        admin.fill("#id_arn", new_arn)
        admin.fill("#id_playback_url", playback_url_for(new_arn, base=live_server.url + "/ivs"))
        with admin.expect_navigation():
            admin.click("input[name=_save]")
        assert "played its old ARN: IVS is told to stop that stream" in admin.inner_text("body")
        admin.screenshot(path=str(artifacts / "channel-re-pointed.png"), full_page=True)

        # The session on the old ARN is revoked there; the player's one retry gets a token for the new ARN.
        deadline = time.monotonic() + WITHIN_THE_PERIOD / 1000
        while not TokenAudit.objects.filter(channel_arn=new_arn).exists() and time.monotonic() < deadline:
            player.wait_for_timeout(250)
        player.wait_for_function(
            "() => document.querySelector('#player-status').dataset.state === 'playing'", timeout=WITHIN_THE_PERIOD
        )
        player.wait_for_function(PLAYING, timeout=15_000)
        assert list(Revocation.objects.values_list("channel_arn", flat=True)) == [E2E_ARN]

        entitlements = admin_page(context, live_server, "/admin/viewers/entitlement/")
        entitlements.check("input[name=_selected_action]")
        entitlements.select_option("select[name=action]", "revoke")
        with entitlements.expect_navigation():
            entitlements.click("button[name=index]")
        with entitlements.expect_navigation():
            entitlements.click("input[name=apply]")
        revoked_at = time.monotonic()

        player.wait_for_selector("#player-status[data-state=unauthorized]", timeout=WITHIN_THE_PERIOD)
        assert time.monotonic() - revoked_at < WITHIN_THE_PERIOD / 1000
        assert "has been revoked" in player.inner_text("#player-status")
        assert_playback_stopped(player)
    finally:
        viewer_context.close()
    revoked = dict(Revocation.objects.values_list("channel_arn", "status"))
    assert revoked == {E2E_ARN: "done", new_arn: "done"}
