"""From login to moving video frames, in a real browser, against the local IVS origin."""

from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.core.signals import request_started

from localivs.models import PlaybackSession
from tests.browser.conftest import E2E_ARN, RequestLog, login
from viewers.models import Entitlement, PlaybackKey, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MULTIVARIANT = "/ivs/api/video/v1/"
PLAYING = "() => document.querySelector('video').currentTime > 2"


def wait_until_playing(page):
    page.wait_for_function(PLAYING, timeout=30_000)


def test_an_entitled_viewer_logs_in_and_the_video_plays(context, live_server, viewer, public_key, artifacts):
    page = context.new_page()
    log = RequestLog(page)
    login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    wait_until_playing(page)
    page.screenshot(path=str(artifacts / "playing.png"))

    playlist_requests = log.matching(MULTIVARIANT)
    assert len(playlist_requests) == 1
    token = parse_qs(urlsplit(playlist_requests[0]).query)["token"][0]
    claims = jwt.decode(token, public_key, algorithms=["ES384"])
    assert claims["aws:channel-arn"] == E2E_ARN
    assert claims["aws:viewer-id"] == viewer.viewer_id

    # Everything the browser asked the site for before the playlist: no token endpoint, no API call.
    before = log.urls[: log.urls.index(playlist_requests[0])]
    site_paths = {urlsplit(url).path for url in before if url.startswith(live_server.url)}
    assert site_paths <= {"/accounts/login/", "/channels/e2e-event/"} | {
        p for p in site_paths if p.startswith("/static/")
    }
    assert PlaybackSession.objects.get().viewer_id == viewer.viewer_id
    assert page.get_attribute("#player-status", "data-state") == "playing"
    assert not page.is_visible("#player-action") and not page.is_visible("#player-status")


def test_the_player_takes_its_worker_and_wasm_from_the_pages_preloads(context, live_server, viewer, player_settings):
    # Counted where the live server answers: the browser reports a cache hit as a request too.
    served = []

    def count(sender, environ, **kwargs):
        served.append(environ["PATH_INFO"])

    request_started.connect(count, dispatch_uid="count-preloads")
    try:
        page = context.new_page()
        login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
        wait_until_playing(page)
    finally:
        request_started.disconnect(dispatch_uid="count-preloads")
    for path in (player_settings.IVS_PLAYER_WASM_WORKER_URL, player_settings.IVS_PLAYER_WASM_BINARY_URL):
        initiators = page.evaluate(
            "(url) => performance.getEntriesByName(url).map(e => e.initiatorType)", live_server.url + path
        )
        assert initiators[0] == "link", path  # the page asked for it first, while the SDK was still arriving
        assert served.count(path) == 1, path  # and the worker did not ask again: it used that copy


def test_an_sd_viewer_gets_only_the_sd_rendition(context, live_server, e2e_channel):
    user = User.objects.create_user("sdviewer", "sd@example.com", "watch-it-now")
    Entitlement.objects.create(user=user, channel=e2e_channel, max_resolution="SD")
    page = context.new_page()
    log = RequestLog(page)
    login(page, live_server, "sdviewer", "watch-it-now", "/channels/e2e-event/")
    wait_until_playing(page)
    variants = {urlsplit(url).path.rsplit("/", 1)[1] for url in log.matching("/ivs/s/") if url.endswith(".m3u8")}
    assert variants == {"sd.m3u8"}
    assert not log.matching("/hd/")
    assert page.evaluate("document.querySelector('video').videoHeight") == 360


def test_a_stranger_gets_the_403_page_and_the_origin_hears_nothing(context, live_server, e2e_channel, artifacts):
    User.objects.create_user("stranger", "s@example.com", "watch-it-now")
    page = context.new_page()
    log = RequestLog(page)
    login(page, live_server, "stranger", "watch-it-now", "/channels/e2e-event/")
    assert "You do not have access to this channel." in page.content()
    page.screenshot(path=str(artifacts / "denied.png"))
    assert not log.matching("/ivs/")
    assert not PlaybackSession.objects.exists()


def test_a_single_use_token_cannot_be_replayed_from_another_browser(browser, context, live_server, viewer):
    page = context.new_page()
    login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    wait_until_playing(page)
    playback_url = page.evaluate("JSON.parse(document.getElementById('player-config').textContent).playbackUrl")

    other = browser.new_context()
    try:
        response = other.new_page().goto(playback_url)
        assert response.status == 403
        assert response.json()[0]["error_code"] == "invalid_playback_auth_token"
    finally:
        other.close()
    assert PlaybackSession.objects.count() == 1


def test_the_page_says_so_when_ivs_refuses_the_token(context, live_server, viewer):
    PlaybackKey.objects.all().delete()  # IVS no longer knows the signing key
    page = context.new_page()
    login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    page.wait_for_selector("#player-status[data-state=unauthorized]", timeout=20_000)
    assert "not authorised" in page.inner_text("#player-status")


def test_the_page_says_so_when_the_channel_is_offline(context, live_server, viewer, e2e_channel):
    e2e_channel.playback_url = e2e_channel.playback_url.replace("E2eChannel01", "NoSuchChannel")
    e2e_channel.save(update_fields=["playback_url"])
    page = context.new_page()
    login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    page.wait_for_selector("#player-status[data-state=offline]", timeout=20_000)
    assert "offline" in page.inner_text("#player-status")


def test_the_page_says_so_when_the_channel_is_at_its_viewer_limit(context, live_server, viewer):
    # The local origin has no viewer limit; answer the playlist the way IVS does at its limit.
    context.route(
        "**/ivs/api/video/v1/**",
        lambda route: route.fulfill(
            status=429,
            content_type="application/json",
            body='[{"error": "Too many viewers", "error_code": "concurrent_viewer_limit", "type": "error"}]',
        ),
    )
    page = context.new_page()
    login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    page.wait_for_selector("#player-status[data-state=viewer_limit]", timeout=20_000)
    assert "viewer limit" in page.inner_text("#player-status")
