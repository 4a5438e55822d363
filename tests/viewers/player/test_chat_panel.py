"""The chat panel in the player template (templates/viewers/_chat.html): rendered with the context the player view
passes today plus `chat`, the dict the contract fixes (the view's side of it is the core's)."""

import json
import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from tests.visible_text import visible_text
from viewers import access
from viewers.player.views import player_page_config

MODERATOR = {
    "tokenUrl": "/channels/main-event/chat-token",
    "banUrl": "/channels/main-event/chat-ban",
    "messagingUrl": "ws://127.0.0.1:8001",
    "userId": "v-3f2a9c",
    "displayName": "Alice",
    "moderator": True,
    "maxLength": 500,
    "loginUrl": "/accounts/login/?next=/channels/main-event/",
}
ANONYMOUS = {**MODERATOR, "userId": None, "displayName": "", "moderator": False}


def page(channel, user, chat="absent"):
    """The player page as the view renders it, with `chat` added (or not given at all, as today)."""
    request = RequestFactory().get(f"/channels/{channel.slug}/")
    request.user = user
    now = timezone.now()
    decision = access.decide(user, channel, now)
    context = player_page_config(request, channel, decision, None)
    context.update(live_state=channel.live_state(now), access=None)
    if chat != "absent":
        context["chat"] = chat
    return render_to_string("viewers/player.html", context, request=request)


def chat_config(html):
    match = re.search(r'<script id="chat-config" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1)) if match else None


class Elements(HTMLParser):
    """Every start tag, with its attributes, in order."""

    def __init__(self, html):
        super().__init__()
        self.tags = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag=None, **attrs):
        return [a for t, a in self.tags if (tag is None or t == tag) and all(a.get(k) == v for k, v in attrs.items())]

    def by_id(self, id_):
        found = self.find(id=id_)
        assert len(found) == 1, f"#{id_}: {len(found)} elements"
        return found[0]


@pytest.mark.django_db
class TestChatPanel:
    @pytest.mark.parametrize("chat", ["absent", None])
    def test_no_chat_no_panel_and_no_script(self, alice, private_channel, chat):
        html = page(private_channel, alice, chat)
        assert 'id="chat"' not in html and "chat-config" not in html
        assert "chat.js" not in html and "ivs-chat.js" not in html and "chat-logic.js" not in html
        assert 'class="watch"' in html  # the player alone, full width

    def test_a_viewer_gets_the_panel_its_config_and_its_module(self, alice, private_channel):
        html = page(private_channel, alice, MODERATOR)
        assert chat_config(html) == MODERATOR
        elements = Elements(html)
        assert elements.find("script", type="module", src="/static/js/chat.js")
        # Its two imports are fetched beside it, at the URLs it imports them from.
        assert elements.find("link", rel="modulepreload", href="/static/js/chat-logic.js")
        assert elements.find("link", rel="modulepreload", href="/static/vendor/ivs/ivs-chat.js")
        assert elements.find("div", **{"class": "watch with-chat"})
        section = elements.by_id("chat")
        assert section["aria-labelledby"] == "chat-title" and section["data-state"] == "connecting"
        assert "Connecting to the chat…" in visible_text(html)

    def test_the_panel_is_accessible(self, alice, private_channel):
        elements = Elements(page(private_channel, alice, MODERATOR))
        log = elements.by_id("chat-log")
        assert log["role"] == "log" and log["aria-live"] == "polite" and log["aria-label"] == "Chat messages"
        assert log["tabindex"] == "0"  # scrollable with the keyboard
        assert elements.by_id("chat-status")["role"] == "status"
        assert elements.find("label", **{"for": "chat-input"})
        assert elements.find("label", **{"for": "chat-remove-reason"})
        assert elements.by_id("chat-remove-reason")["maxlength"] == "200"
        assert "hidden" in elements.by_id("chat-remove")  # the moderator's reason form, shown on "Remove"
        assert elements.by_id("chat-send")["type"] == "submit"

    def test_it_keeps_the_page_free_of_inline_script_and_style(self, alice, private_channel):
        html = page(private_channel, alice, MODERATOR)
        elements = Elements(html)
        assert not [a for _, a in elements.tags if "style" in a or any(k.startswith("on") for k in a)]
        assert "<style" not in html
        # Every script is a file or data (the two json_script blocks).
        for _, attrs in [(t, a) for t, a in elements.tags if t == "script"]:
            assert "src" in attrs or attrs.get("type") == "application/json"

    def test_the_viewer_s_own_name_is_text(self, alice, private_channel):
        html = page(private_channel, alice, {**MODERATOR, "displayName": '<img src=x onerror="alert(1)">'})
        assert "<img src=x" not in html
        assert chat_config(html)["displayName"] == '<img src=x onerror="alert(1)">'  # json_script escapes it
        assert 'Chatting as <img src=x onerror="alert(1)"> · moderator' in visible_text(html)

    def test_an_anonymous_viewer_is_asked_to_log_in_and_loads_nothing(self, public_channel):
        html = page(public_channel, AnonymousUser(), ANONYMOUS)
        elements = Elements(html)
        assert elements.by_id("chat-login")["href"] == ANONYMOUS["loginUrl"]
        assert "hidden" not in elements.by_id("chat-login")
        assert elements.by_id("chat")["data-state"] == "login"
        assert "Log in to chat" in visible_text(html)
        # No socket to open: no module, no config, no send box.
        assert "chat.js" not in html and "ivs-chat.js" not in html and chat_config(html) is None
        assert 'id="chat-form"' not in html and 'id="chat-log"' not in html

    def test_a_logged_in_viewer_has_no_login_link_showing(self, alice, private_channel):
        elements = Elements(page(private_channel, alice, {**MODERATOR, "moderator": False}))
        assert "hidden" in elements.by_id("chat-login")
        assert "moderator" not in visible_text(page(private_channel, alice, {**MODERATOR, "moderator": False}))
