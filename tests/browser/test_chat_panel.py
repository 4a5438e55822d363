"""The chat panel in Chromium, with the real IVS Chat Messaging SDK (static/vendor/ivs/ivs-chat.js) against a fake
of the messaging socket (Playwright's WebSocket route, speaking the contract's frames) and of the chat-token and
chat-ban endpoints (routes). The player page is the real one, its view's context plus `chat`, and its
Content-Security-Policy carries the messaging origin through ivssite.csp.allow_chat, as the view's will."""

import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from ivssite import csp as site_csp
from tests.browser.conftest import login
from viewers.player import views

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAYER = "/channels/e2e-event/"
MESSAGING = "ws://127.0.0.1:8001"
TOKEN_URL = "/channels/e2e-event/chat-token"
BAN_URL = "/channels/e2e-event/chat-ban"
PLAYING = "() => document.querySelector('video').currentTime > 1"

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push({directive: e.effectiveDirective, blocked: e.blockedURI});
});
"""


def iso(delta):
    return (datetime.now(UTC) + delta).isoformat().replace("+00:00", "Z")


def token_answer(moderator=False):
    return (
        200,
        {
            "token": "AQICAHg-test-chat-token",
            "tokenExpirationTime": iso(timedelta(minutes=5)),
            "sessionExpirationTime": iso(timedelta(minutes=60)),
            "moderator": moderator,  # as the site's answer says it: the page's config does not
        },
        {},
    )


class FakeChat:
    """The chat-token and chat-ban endpoints and the IVS Chat messaging socket, as the page sees them."""

    def __init__(self, user_id, name, moderator=False):
        self.user_id, self.name, self.moderator = user_id, name, moderator
        self.sockets = []
        self.requests = []  # what the page sent over the socket
        self.token_answers = []  # (status, body, headers) to give, in order; then tokens
        self.token_requests = []
        self.bans = []
        self.ids = itertools.count(1)

    def install(self, context):
        context.route(f"**{TOKEN_URL}", self.token)
        context.route(f"**{BAN_URL}", self.ban)
        context.route_web_socket(re.compile(r"^ws://127\.0\.0\.1:8001/?$"), self.socket)

    def token(self, route):
        self.token_requests.append(route.request.headers)
        status, body, headers = self.token_answers.pop(0) if self.token_answers else token_answer(self.moderator)
        route.fulfill(status=status, json=body, headers=headers)

    def ban(self, route):
        self.bans.append((parse_qs(route.request.post_data), route.request.headers))
        route.fulfill(status=204, body="")

    def socket(self, ws):
        self.sockets.append(ws)
        ws.on_message(lambda text: self.receive(text))

    def broadcast(self, frame):
        for ws in self.sockets:
            ws.send(json.dumps(frame))

    def now(self):
        return iso(timedelta())

    def message(self, user_id, name, content, request_id=None):
        frame = {
            "Type": "MESSAGE",
            "Id": f"msg-{next(self.ids)}",
            "Content": content,
            "SendTime": self.now(),
            "Sender": {"UserId": user_id, "Attributes": {"displayName": name}},
        }
        if request_id:
            frame["RequestId"] = request_id
        self.broadcast(frame)
        return frame["Id"]

    def event(self, name, attributes, request_id=None):
        frame = {
            "Type": "EVENT",
            "Id": f"evt-{next(self.ids)}",
            "EventName": name,
            "Attributes": attributes,
            "SendTime": self.now(),
        }
        if request_id:
            frame["RequestId"] = request_id
        self.broadcast(frame)

    def receive(self, text):
        request = json.loads(text)
        self.requests.append(request)
        action, request_id = request["Action"], request["RequestId"]
        if action == "SEND_MESSAGE":
            self.message(self.user_id, self.name, request["Content"], request_id)
        elif action == "DELETE_MESSAGE":
            self.event(
                "aws:DELETE_MESSAGE", {"MessageID": request["Id"], "Reason": request.get("Reason", "")}, request_id
            )
        elif action == "DISCONNECT_USER":
            self.event(
                "aws:DISCONNECT_USER", {"UserId": request["UserId"], "Reason": request.get("Reason", "")}, request_id
            )

    def remove_me(self, reason):
        """DisconnectUser for this page's viewer: the event, then the close (code 1000)."""
        self.event("aws:DISCONNECT_USER", {"UserId": self.user_id, "Reason": reason})
        for ws in self.sockets:
            ws.close(code=1000, reason="Disconnected by moderator")


@pytest.fixture
def chat_for(monkeypatch, viewer):
    """The player view renders its page with this `chat` and allows its socket, as the core's view will."""

    def install(**overrides):
        chat = {
            "tokenUrl": TOKEN_URL,
            "banUrl": BAN_URL,
            "messagingUrl": MESSAGING,
            "userId": viewer.viewer_id,
            "displayName": "Vera Viewer",
            "moderator": False,
            "maxLength": 500,
            "loginUrl": "/accounts/login/?next=" + PLAYER,
            **overrides,
        }
        real_render = views.render

        def render(request, template, context=None, *args, **kwargs):
            if template != "viewers/player.html":
                return real_render(request, template, context, *args, **kwargs)
            response = real_render(request, template, {**context, "chat": chat}, *args, **kwargs)
            return site_csp.allow_chat(response, MESSAGING)

        monkeypatch.setattr(views, "render", render)
        return chat

    return install


def open_player(context, live_server, fake, *, log_in=True):
    context.add_init_script(COLLECT_VIOLATIONS)
    fake.install(context)
    page = context.new_page()
    if log_in:
        login(page, live_server, "viewer", "watch-it-now", PLAYER)
    else:
        page.goto(live_server.url + PLAYER)
    return page


def chat_state(page, name, timeout=15_000):
    page.wait_for_selector(f"#chat[data-state={name}]", timeout=timeout)


def messages(page):
    return page.locator("#chat-messages > li")


def no_csp_violation(page):
    assert page.evaluate("window.__cspViolations") == []


def test_a_moderator_chats_deletes_and_removes(context, live_server, viewer, chat_for, artifacts):
    chat = chat_for(moderator=True, displayName="Mo Derator")
    fake = FakeChat(chat["userId"], chat["displayName"], moderator=chat["moderator"])
    page = open_player(context, live_server, fake)
    chat_state(page, "connected")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert fake.token_requests[0]["x-csrftoken"]  # the page's CSRF token, as the player's refresh sends it

    bob = fake.message("u-bob", "Bob", "Is the stream starting soon?")
    fake.message("u-carol", "Carol", 'Free tickets here: <img src=x onerror="alert(1)"> <b>click</b>')
    fake.message("u-dan", "Dan Longname-With-A-Very-Long-Surname", "a" * 80)
    page.fill("#chat-input", "Welcome, everyone! It starts in five minutes.")
    page.press("#chat-input", "Enter")
    page.wait_for_selector("#chat-messages > li.own")
    assert page.input_value("#chat-input") == ""
    assert fake.requests[-1]["Content"] == "Welcome, everyone! It starts in five minutes."
    # A viewer's text is text: the markup shows as typed, and no element came of it.
    carol = messages(page).nth(1)
    assert 'onerror="alert(1)"' in carol.locator(".chat-text").inner_text()
    assert page.locator("#chat-messages img, #chat-messages b").count() == 0
    # Delete on every message, Remove on everyone else's.
    assert page.locator("#chat-messages button", has_text="Delete").count() == 4
    assert page.locator("#chat-messages li.own button", has_text="Remove").count() == 0
    page.wait_for_function(PLAYING, timeout=30_000)
    page.screenshot(path=str(artifacts / "chat-moderator-1280.png"))

    page.get_by_role("button", name="Delete message from Bob").click()
    page.wait_for_function("() => document.querySelectorAll('#chat-messages > li').length === 3")
    assert fake.requests[-1] == {**fake.requests[-1], "Action": "DELETE_MESSAGE", "Id": bob}
    assert "Is the stream starting soon?" not in page.inner_text("#chat-messages")

    page.get_by_role("button", name="Remove Carol from the chat").click()
    assert page.is_visible("#chat-remove")
    assert page.evaluate("document.activeElement.id") == "chat-remove-reason"
    page.fill("#chat-remove-reason", "Spam links")
    page.screenshot(path=str(artifacts / "chat-remove-form-1280.png"))
    page.press("#chat-remove-reason", "Enter")
    page.wait_for_selector("#chat-note[data-kind=ok]")
    form, headers = fake.bans[0]
    assert form == {"user_id": ["u-carol"], "reason": ["Spam links"]} and headers["x-csrftoken"]
    page.wait_for_function("() => document.querySelector('#chat-note').textContent.includes('Carol was removed')")
    assert fake.requests[-1]["Action"] == "DISCONNECT_USER"
    assert (fake.requests[-1]["UserId"], fake.requests[-1]["Reason"]) == ("u-carol", "Spam links")
    assert page.is_hidden("#chat-remove")

    # The form closes with Escape too, and the focus goes back to the button that opened it.
    page.get_by_role("button", name="Remove Dan Longname-With-A-Very-Long-Surname from the chat").focus()
    page.keyboard.press("Enter")
    assert page.is_visible("#chat-remove")
    page.keyboard.press("Escape")
    assert page.is_hidden("#chat-remove")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("Remove Dan")
    assert len(fake.bans) == 1

    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "chat-moderator-390.png"), full_page=True)
    no_csp_violation(page)


def test_a_viewer_writes_within_the_limit_and_the_log_keeps_200(context, live_server, viewer, chat_for, artifacts):
    chat = chat_for(maxLength=20)
    fake = FakeChat(chat["userId"], chat["displayName"], moderator=chat["moderator"])
    page = open_player(context, live_server, fake)
    chat_state(page, "connected")
    assert page.locator("#chat-messages button").count() == 0  # no moderation for a viewer

    page.fill("#chat-input", "😀" * 20)  # 20 characters as IVS Chat counts them (40 UTF-16 units)
    assert page.inner_text("#chat-count") == "0 left"
    page.fill("#chat-input", "x" * 23)
    assert page.inner_text("#chat-count") == "3 too many"
    page.press("#chat-input", "Enter")
    assert "3 characters too long" in page.inner_text("#chat-note")
    assert not [r for r in fake.requests if r["Action"] == "SEND_MESSAGE"]

    for n in range(205):
        fake.message("u-bob", "Bob", f"message {n}")
    page.wait_for_function(
        "() => document.querySelector('#chat-messages').lastElementChild?.textContent.includes('message 204')"
    )
    assert messages(page).count() == 200
    assert "message 4" not in messages(page).first.inner_text() and "message 5" in messages(page).first.inner_text()
    # The log followed the newest message.
    assert (
        page.evaluate("(l => l.scrollHeight - l.scrollTop - l.clientHeight)(document.getElementById('chat-log'))") < 5
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "chat-viewer-390.png"), full_page=True)


def test_a_ban_is_said_with_its_reason_and_not_asked_again(context, live_server, viewer, chat_for, artifacts):
    chat = chat_for()
    fake = FakeChat(chat["userId"], chat["displayName"], moderator=chat["moderator"])
    fake.token_answers.append(
        (403, {"error": "banned", "message": "A moderator removed you from this chat.", "reason": "Spam links"}, {})
    )
    page = open_player(context, live_server, fake)
    chat_state(page, "banned")
    assert page.inner_text("#chat-status") == "A moderator removed you from this chat. Reason: Spam links"
    assert page.is_hidden("#chat-form")
    page.wait_for_timeout(3000)
    assert len(fake.token_requests) == 1  # no loop: the SDK's own retries got the answer from the page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=str(artifacts / "chat-banned-1280.png"))


def test_access_ended_closes_the_chat(context, live_server, viewer, chat_for, artifacts):
    chat = chat_for()
    fake = FakeChat(chat["userId"], chat["displayName"], moderator=chat["moderator"])
    fake.token_answers.append((403, {"error": "ended", "message": "Your access to this channel has ended."}, {}))
    page = open_player(context, live_server, fake)
    chat_state(page, "access_ended")
    assert "closed because your access to this channel ended" in page.inner_text("#chat-status")
    page.wait_for_timeout(2500)
    assert len(fake.token_requests) == 1


def test_an_unavailable_chat_is_retried_with_a_wait(context, live_server, viewer, chat_for, artifacts):
    chat = chat_for()
    fake = FakeChat(chat["userId"], chat["displayName"], moderator=chat["moderator"])
    unavailable = (503, {"error": "chat_unavailable", "message": "Chat is unavailable."}, {})
    fake.token_answers += [unavailable, (429, {"error": "rate_limited", "message": "Slow down."}, {"Retry-After": "1"})]
    page = open_player(context, live_server, fake)
    chat_state(page, "unavailable")
    assert re.fullmatch(
        r"The chat is unavailable right now\. Trying again in \d s\.\s*Try again now", page.inner_text("#chat-status")
    )
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=str(artifacts / "chat-unavailable-1280.png"))
    chat_state(page, "rate_limited", timeout=5000)
    assert "Too many attempts to join the chat. Trying again in 1 s." in page.inner_text("#chat-status")
    chat_state(page, "connected", timeout=5000)
    assert len(fake.token_requests) == 3
    assert page.is_hidden("#chat-status")


def test_a_removed_viewer_is_told_and_the_chat_stops(context, live_server, viewer, chat_for, artifacts):
    chat = chat_for()
    fake = FakeChat(chat["userId"], chat["displayName"], moderator=chat["moderator"])
    page = open_player(context, live_server, fake)
    chat_state(page, "connected")
    fake.message("u-bob", "Bob", "hello")
    page.fill("#chat-input", "buy cheap stuff")
    page.press("#chat-input", "Enter")
    page.wait_for_selector("#chat-messages > li.own")
    # The site bans before the moderator's page disconnects: the panel's one more token request is refused.
    banned = {"error": "banned", "message": "A moderator removed you from this chat. Reason: Advertising"}
    fake.token_answers.append((403, {**banned, "reason": "Advertising"}, {}))
    fake.remove_me("Advertising")  # "You were removed from the chat. Reason: Advertising" for a moment, then:
    chat_state(page, "banned")
    assert page.is_hidden("#chat-form")
    assert page.inner_text("#chat-status") == "A moderator removed you from this chat. Reason: Advertising"
    assert messages(page).count() == 2  # what was said stays readable
    page.wait_for_timeout(3000)
    assert len(fake.token_requests) == 2  # the first, and the one that learnt of the ban: then no more
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "chat-removed-390.png"), full_page=True)


def test_an_anonymous_viewer_is_asked_to_log_in(context, live_server, e2e_channel, chat_for, artifacts):
    e2e_channel.is_private = False
    e2e_channel.save(update_fields=["is_private"])
    chat_for(userId=None, displayName="")
    fake = FakeChat(None, "")
    page = open_player(context, live_server, fake, log_in=False)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.reload()
    chat_state(page, "login")
    link = page.get_by_role("link", name="Log in to chat")
    assert link.get_attribute("href") == "/accounts/login/?next=" + PLAYER
    assert not [url for url in requested if "chat" in url.rsplit("/", 1)[-1]]  # no module, no token, no socket
    assert fake.token_requests == [] and fake.sockets == []
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=str(artifacts / "chat-anonymous-1280.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "chat-anonymous-390.png"), full_page=True)
    no_csp_violation(page)
