"""The chat's WebSocket origin joins connect-src on the responses that carry a chat panel, and on no other."""

import copy

import pytest
from csp.decorators import csp_update
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory

from ivssite import csp as site_csp


def directives(response):
    return {part.split()[0]: part.split()[1:] for part in response["Content-Security-Policy"].split("; ")}


def served(view):
    """The response as django-csp's middleware sends it."""
    return CSPMiddleware(view)(RequestFactory().get("/channels/main-event/"))


def chat_page(url):
    return lambda request: site_csp.allow_chat(HttpResponse("chat"), url)


def plain_page(request):
    return HttpResponse("no chat")


class TestAllowChat:
    def test_the_response_gets_the_messaging_origin_and_others_do_not(self, settings):
        settings.CONTENT_SECURITY_POLICY = site_csp.policy("/static/p.js", ["https://*.live-video.net"])
        with_chat = directives(served(chat_page("ws://127.0.0.1:8001")))
        without = directives(served(plain_page))
        assert with_chat["connect-src"] == ["'self'", "https://*.live-video.net", "ws://127.0.0.1:8001"]
        assert without["connect-src"] == ["'self'", "https://*.live-video.net"]
        # Nothing else moves: the policy stays as strict as every other page's.
        assert {k: v for k, v in with_chat.items() if k != "connect-src"} == {
            k: v for k, v in without.items() if k != "connect-src"
        }
        assert "ws://127.0.0.1:8001" not in served(plain_page)["Content-Security-Policy"]

    def test_the_aws_endpoint_is_reduced_to_its_origin(self):
        response = served(chat_page("wss://edge.ivschat.eu-west-1.amazonaws.com/some/path?x=1"))
        assert directives(response)["connect-src"][-1] == "wss://edge.ivschat.eu-west-1.amazonaws.com"

    def test_the_settings_policy_is_not_changed_for_later_responses(self, settings):
        before = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        served(chat_page("ws://127.0.0.1:8001"))
        served(chat_page("wss://edge.ivschat.us-west-2.amazonaws.com"))
        assert before == settings.CONTENT_SECURITY_POLICY
        assert "ivschat" not in served(plain_page)["Content-Security-Policy"]

    def test_it_adds_to_an_update_the_view_already_has(self):
        @csp_update({"connect-src": ["https://api.example.net"]})
        def view(request):
            return HttpResponse("both")

        response = served(lambda request: site_csp.allow_chat(view(request), "ws://127.0.0.1:8001"))
        assert directives(response)["connect-src"][-2:] == ["https://api.example.net", "ws://127.0.0.1:8001"]

    def test_twice_the_same_origin_is_listed_once(self):
        response = served(
            lambda request: site_csp.allow_chat(
                site_csp.allow_chat(HttpResponse(), "ws://127.0.0.1:8001/a"), "ws://127.0.0.1:8001/b"
            )
        )
        assert directives(response)["connect-src"].count("ws://127.0.0.1:8001") == 1

    @pytest.mark.parametrize(
        ("url", "origin"),
        [
            ("ws://127.0.0.1:8001", "ws://127.0.0.1:8001"),
            ("wss://EDGE.ivschat.us-east-1.amazonaws.com", "wss://edge.ivschat.us-east-1.amazonaws.com"),
            ("wss://user:secret@chat.example.net:8443/x", "wss://chat.example.net:8443"),
            ("ws://[::1]:8001/", "ws://[::1]:8001"),
        ],
    )
    def test_socket_origin(self, url, origin):
        assert site_csp.socket_origin(url) == origin

    @pytest.mark.parametrize("url", ["", "https://edge.ivschat.us-east-1.amazonaws.com", "/chat", "ws://"])
    def test_only_websocket_urls_are_allowed(self, url):
        with pytest.raises(ValueError):
            site_csp.allow_chat(HttpResponse(), url)

    def test_it_takes_the_response_not_the_request(self):
        with pytest.raises(TypeError, match="response"):
            site_csp.allow_chat(RequestFactory().get("/"), "ws://127.0.0.1:8001")
