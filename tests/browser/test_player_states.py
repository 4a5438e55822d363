"""The player page's states a viewer must be able to act on: a stream that cannot be reached (the page gives up
and offers to try again) and autoplay the browser muted (the page offers the sound)."""

import socket

import pytest

from ivssite import csp as site_csp
from tests.browser.conftest import CHROMIUM, RequestLog, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAYER = "/channels/e2e-event/"
REFRESH = "/channels/e2e-event/playback"
MULTIVARIANT = "/ivs/api/video/v1/"
PLAYING = "() => document.querySelector('video').currentTime > 1"
# Between two automatic retries (player-logic.js OFFLINE_RETRY_MS), on the page's installed clock.
PAST_A_RETRY_MS = 16_000


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that refuses connections: bound, so nothing else takes it, but never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def attempts(log):
    """The player's attempts: one playback URL each (a fresh token for each after the first), which the SDK may
    request several times before it reports the error."""
    return len(set(log.matching(MULTIVARIANT)))


def wait_for_attempts(page, log, count):
    for _ in range(300):
        if attempts(log) >= count:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{attempts(log)} attempts, expected {count}")


def state(page, name):
    page.wait_for_selector(f"#player-status[data-state={name}]", timeout=30_000)


def test_an_unreachable_stream_gives_up_and_tries_again_when_asked(
    context, live_server, viewer, e2e_channel, closed_port, settings, artifacts
):
    host = f"http://127.0.0.1:{closed_port}"
    e2e_channel.playback_url = e2e_channel.playback_url.replace(live_server.url, host)
    e2e_channel.save(update_fields=["playback_url"])
    # The policy lets the page ask that host, as it lets it ask IVS: the request is refused by the host, not the CSP.
    settings.CONTENT_SECURITY_POLICY = site_csp.policy(settings.IVS_PLAYER_SDK_URL, [host])
    context.clock.install()  # the retries' 15 s waits, without waiting for them
    page = context.new_page()
    log = RequestLog(page)
    login(page, live_server, "viewer", "watch-it-now", PLAYER)

    state(page, "network")  # the embedded token's attempt: "Retrying…"
    assert "Retrying" in page.inner_text("#player-status")
    for attempt, then in [(2, "network"), (3, "unreachable")]:
        page.clock.fast_forward(PAST_A_RETRY_MS)
        wait_for_attempts(page, log, attempt)
        state(page, then)  # the attempt's error: only then is the next retry pending
    assert page.inner_text("#player-message") == "The stream cannot be reached right now."
    assert page.is_visible("#player-action") and page.inner_text("#player-action") == "Try again"
    page.screenshot(path=str(artifacts / "player-unreachable.png"))

    # Given up: no more attempts by itself, however long the page stays open.
    requests = len(log.matching(MULTIVARIANT))
    page.clock.fast_forward(5 * PAST_A_RETRY_MS)
    page.wait_for_timeout(1_000)
    assert (attempts(log), len(log.matching(REFRESH))) == (3, 2)
    assert len(log.matching(MULTIVARIANT)) == requests
    assert page.get_attribute("#player-status", "data-state") == "unreachable"

    # The viewer's click: one fresh attempt, with a fresh token (the embedded one was used), counted from one again.
    page.click("#player-action")
    wait_for_attempts(page, log, 4)
    state(page, "network")
    assert len(log.matching(REFRESH)) == 3
    assert not page.is_visible("#player-action")
    assert all("?token=" in url for url in log.matching(MULTIVARIANT))


def wait_for_segments(page, log, count):
    for _ in range(300):
        if len([url for url in log.matching("/ivs/s/") if url.endswith(".ts")]) >= count:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"fewer than {count} segments requested")


@pytest.fixture
def autoplay_muted_only(browser):
    """Chromium as a first visit meets it: sound needs a gesture on the page, muted video may autoplay."""
    strict = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--autoplay-policy=document-user-activation-required", "--disable-gpu"],
    )
    yield strict
    strict.close()


def test_muted_autoplay_offers_unmute_and_the_click_unmutes(autoplay_muted_only, live_server, viewer, artifacts):
    context = autoplay_muted_only.new_context(viewport={"width": 1100, "height": 820})
    try:
        # Logged in on another tab: the login's click must not count as a gesture on the player's page.
        login_page = context.new_page()
        login(login_page, live_server, "viewer", "watch-it-now", "/")
        login_page.close()
        page = context.new_page()
        log = RequestLog(page)
        page.goto(live_server.url + PLAYER)
        # Waited for from the network side: Playwright's evaluations run as user gestures, and one before the
        # player's play() would let the browser play with sound.
        wait_for_segments(page, log, 3)
        page.wait_for_selector("#player-unmute", state="visible", timeout=10_000)
        assert page.evaluate("document.querySelector('video').muted") is True
        assert page.inner_text("#player-unmute") == "Unmute"
        page.screenshot(path=str(artifacts / "player-unmute.png"))

        page.click("#player-unmute")
        page.wait_for_selector("#player-unmute", state="hidden", timeout=5_000)
        assert page.evaluate("document.querySelector('video').muted") is False
        assert page.evaluate("window.ivsPlayer.isMuted()") is False
        assert page.get_attribute("#player-status", "data-state") == "playing"
    finally:
        context.close()


def test_when_the_browser_allows_sound_there_is_no_unmute(context, live_server, viewer):
    page = context.new_page()  # the suite's Chromium: --autoplay-policy=no-user-gesture-required
    login(page, live_server, "viewer", "watch-it-now", PLAYER)
    page.wait_for_function(PLAYING, timeout=30_000)
    page.wait_for_timeout(500)
    assert page.evaluate("document.querySelector('video').muted") is False
    assert not page.is_visible("#player-unmute")


# What a browser that blocks all autoplay does (a strict policy, a data saver): play() without a gesture on the
# page rejects with NotAllowedError. Chromium always allows muted autoplay, whatever its flags, so it is stubbed.
BLOCK_AUTOPLAY = """
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  if (!navigator.userActivation.hasBeenActive) {
    console.log("autoplay blocked");
    return Promise.reject(new DOMException("blocked", "NotAllowedError"));
  }
  return play.call(this);
};
"""


def test_when_the_browser_blocks_autoplay_a_play_button_starts_it(context, live_server, viewer, artifacts):
    login_page = context.new_page()  # logged in on another tab, so no gesture reaches the player's page
    login(login_page, live_server, "viewer", "watch-it-now", "/")
    login_page.close()
    page = context.new_page()
    page.add_init_script(BLOCK_AUTOPLAY)
    blocked = []
    page.on("console", lambda message: message.text == "autoplay blocked" and blocked.append(message))
    page.goto(live_server.url + PLAYER)
    # Waited for from the console, not by polling the page: Playwright's evaluations count as user gestures.
    for _ in range(150):
        if blocked:
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(500)
    assert page.get_attribute("#player-status", "data-state") == "blocked"
    assert page.inner_text("#player-message") == "Your browser did not start the video by itself."
    assert page.inner_text("#player-action") == "Play"
    page.screenshot(path=str(artifacts / "player-blocked.png"))

    page.click("#player-action")
    page.wait_for_function(PLAYING, timeout=15_000)
    assert page.get_attribute("#player-status", "data-state") == "playing"
