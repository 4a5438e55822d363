"""Chat beside the stream, in Chromium, end to end: the real IVS Chat Messaging SDK in the page, the local IVS Chat
stand-in (its control plane under the live server's /ivschat/, its messaging WebSocket server in a thread), and the
real worker, which creates the room through boto3 and delivers the disconnects.

Two viewers chat; a moderator deletes a message and it disappears for both; the moderator removes one viewer, who
cannot get a new chat token, while their stream plays on; revoking a viewer's entitlement stops their stream and
disconnects them from the chat within the reconcile period (3 s here); a stranger's chat-token POST is a 403 and
asks IVS for nothing."""

import time

import pytest
from django.contrib.auth.models import Permission

from localivs.models import ChatToken as IssuedToken
from tests.browser.conftest import login
from tests.factories import assert_playback_stopped
from viewers import services
from viewers.chat import rooms
from viewers.models import ChatBan, ChatRoom, ChatSession, Entitlement, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAYING = "() => document.querySelector('video').currentTime > 1"
CONNECTED = "#chat[data-state=connected]"
STOPPED = "#player-status[data-state=unauthorized]"  # the player's retry was refused: access withdrawn
WITHDRAWN_MS = 3_000 + 15_000  # the reconcile period, the disconnect's delivery, room for a loaded machine

POST_TOKEN = """async () => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const response = await fetch(location.pathname + "chat-token", {method: "POST", headers: {"X-CSRFToken": csrf}});
  return {status: response.status, body: await response.json()};
}"""


@pytest.fixture
def chat(settings, live_server, chat_server, ivs_worker, e2e_channel, viewer):
    """The E2E channel with a room the worker creates at the stand-in, a second viewer and a moderator."""
    settings.AWS_ENDPOINT_URL_IVSCHAT = live_server.url + "/ivschat"
    settings.IVS_CHAT_MESSAGING_URL = chat_server
    second = User.objects.create_user(
        "second", "second@example.com", "watch-it-too", first_name="Sam", last_name="Second"
    )
    moderator = User.objects.create_user("mod", "mod@example.com", "moderate-it")
    moderator.user_permissions.add(Permission.objects.get(codename="moderate_chat"))
    for user in (second, moderator):
        Entitlement.objects.create(user=user, channel=e2e_channel)
    ChatRoom.objects.create(channel=e2e_channel, maximum_message_length=200)
    rooms.sync_soon()
    deadline = time.monotonic() + 20
    while not ChatRoom.objects.get().is_ready:
        assert time.monotonic() < deadline, f"the worker did not make the room: {ChatRoom.objects.get().last_error}"
        time.sleep(0.2)
    return e2e_channel


@pytest.fixture
def opened(browser):
    """The browser contexts a test opens, closed after it: an open context keeps its connections to the live
    server, and so that server's database connections, alive past the test."""
    contexts = []

    class Opener:
        def new(self, **options):
            contexts.append(browser.new_context(**options))
            return contexts[-1]

    yield Opener()
    for context in contexts:
        context.close()


def open_player(opened, live_server, username, password):
    page = opened.new(viewport={"width": 1280, "height": 820}).new_page()
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.violations = violations
    login(page, live_server, username, password, "/channels/e2e-event/")
    page.wait_for_function(PLAYING, timeout=30_000)
    page.wait_for_selector(CONNECTED, timeout=15_000)
    return page


def say(page, text):
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")


def sees(page, text, timeout=10_000):
    page.wait_for_function(
        "text => [...document.querySelectorAll('#chat-messages .chat-text')].some(node => node.textContent === text)",
        arg=text,
        timeout=timeout,
    )


def no_longer_sees(page, text, timeout=10_000):
    page.wait_for_function(
        "text => ![...document.querySelectorAll('#chat-messages .chat-text')].some(node => node.textContent === text)",
        arg=text,
        timeout=timeout,
    )


def message_item(page, text):
    return page.locator("#chat-messages li", has=page.locator(".chat-text", has_text=text))


def test_two_viewers_chat_a_moderator_deletes_and_removes(opened, live_server, chat, artifacts):
    first = open_player(opened, live_server, "viewer", "watch-it-now")
    second = open_player(opened, live_server, "second", "watch-it-too")
    moderator = open_player(opened, live_server, "mod", "moderate-it")

    say(first, "Hello from the first viewer")
    sees(second, "Hello from the first viewer")
    say(second, "Buy followers at spam.example")
    for page in (first, second, moderator):
        sees(page, "Buy followers at spam.example")
    assert message_item(second, "Hello from the first viewer").locator(".chat-name").text_content() == "viewer"
    assert message_item(first, "Buy followers").locator(".chat-name").text_content() == "Sam Second"
    moderator.screenshot(path=str(artifacts / "chat-moderator.png"))

    message_item(moderator, "Buy followers").get_by_role("button", name="Delete message from Sam Second").click()
    for page in (first, second, moderator):
        no_longer_sees(page, "Buy followers at spam.example")

    say(second, "I will keep posting links")
    sees(moderator, "I will keep posting links")
    message_item(moderator, "I will keep posting links").get_by_role(
        "button", name="Remove Sam Second from the chat"
    ).click()
    moderator.fill("#chat-remove-reason", "spam links")
    moderator.screenshot(path=str(artifacts / "chat-remove-form.png"))
    moderator.click("#chat-remove button[type=submit]")

    # Disconnected at once over the socket; the panel's next token request is refused: banned, with the reason.
    second.wait_for_selector("#chat[data-state=banned]", timeout=10_000)
    assert second.text_content("#chat-status-text") == "A moderator removed you from this chat. Reason: spam links"
    second.screenshot(path=str(artifacts / "chat-removed.png"))
    ban = ChatBan.objects.get()
    assert (ban.user.username, ban.reason, ban.banned_by.username) == ("second", "spam links", "mod")
    answer = second.evaluate(POST_TOKEN)
    assert answer["status"] == 403 and answer["body"]["error"] == "banned"
    assert "spam links" in answer["body"]["message"]

    # Removed from the chat, not from the stream; the others chat on.
    second.wait_for_function("() => !document.querySelector('video').paused")
    say(first, "Still here")
    sees(moderator, "Still here")
    assert not any(page.violations for page in (first, second, moderator))


def test_revoking_access_stops_the_stream_and_leaves_the_chat(opened, live_server, chat, viewer, artifacts):
    first = open_player(opened, live_server, "viewer", "watch-it-now")
    second = open_player(opened, live_server, "second", "watch-it-too")
    say(first, "Before the refund")
    sees(second, "Before the refund")

    revoked_at = time.monotonic()
    services.entitlements_revoke(entitlements=Entitlement.objects.filter(user=viewer))
    first.wait_for_selector("#chat[data-state=access_ended]", timeout=WITHDRAWN_MS)
    left_chat = time.monotonic() - revoked_at
    assert first.text_content("#chat-status-text") == "The chat has closed because your access to this channel ended."
    first.wait_for_selector(STOPPED, timeout=WITHDRAWN_MS)
    print(
        f"revoked: out of the chat after {left_chat:.1f} s, stream stopped after {time.monotonic() - revoked_at:.1f} s"
    )
    assert_playback_stopped(first)
    first.screenshot(path=str(artifacts / "chat-access-ended.png"))
    assert ChatSession.objects.get(user=viewer).end_reason == "revoked"
    answer = first.evaluate(POST_TOKEN)
    assert answer["status"] == 403 and answer["body"]["error"] == "revoked"

    say(second, "After the refund")  # the other viewer is still connected
    sees(second, "After the refund")


def test_a_strangers_chat_token_is_refused_without_asking_ivs(opened, live_server, chat):
    User.objects.create_user("stranger", "stranger@example.com", "no-ticket")
    page = opened.new().new_page()
    login(page, live_server, "stranger", "no-ticket", "/channels/e2e-event/")
    assert "no entitlement" in page.content().lower() or page.url.endswith("/channels/e2e-event/")
    issued = IssuedToken.objects.count()
    page.goto(f"{live_server.url}/")
    csrf = page.context.cookies()
    token = next((cookie["value"] for cookie in csrf if cookie["name"] == "csrftoken"), "")
    answer = page.request.post(
        f"{live_server.url}/channels/e2e-event/chat-token", headers={"X-CSRFToken": token, "Referer": live_server.url}
    )
    assert answer.status == 403 and answer.json()["error"] == "no_entitlement"
    assert IssuedToken.objects.count() == issued and not ChatSession.objects.exists()
