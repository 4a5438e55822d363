"""The pages, walked through anonymous → stranger → entitled."""

import json
import re

import jwt
import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PRIVATE_ARN
from viewers.models import Channel, TokenAudit

CHANNEL_URL = "/channels/main-event/"


def login(client, user):
    client.force_login(user)
    return client


def player_config(response):
    match = re.search(rb'<script id="player-config" type="application/json">(.*?)</script>', response.content)
    assert match, "the page has no embedded player config"
    return json.loads(match.group(1))


def token_of(response):
    url = player_config(response)["playbackUrl"]
    return url.split("?token=", 1)[1]


@pytest.mark.django_db
class TestPlayerPage:
    def test_it_sends_anonymous_viewers_to_login(self, client, private_channel):
        response = client.get(CHANNEL_URL)
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/channels/main-event/"

    @pytest.mark.parametrize(
        "person, reason_text",
        [
            ("carol", "do not have access"),
            ("dave", "has ended"),
            ("erin", "has not started yet"),
            ("frank", "has been revoked"),
            ("sam", "do not have access"),
        ],
    )
    def test_it_tells_strangers_why_and_hides_the_stream(self, client, person, reason_text, request, private_channel):
        user = request.getfixturevalue(person)
        response = login(client, user).get(CHANNEL_URL)
        assert response.status_code == 403
        body = response.content.decode()
        assert reason_text in body
        assert "token=" not in body and "player-config" not in body
        assert "m3u8" not in body and "playback.live-video.net" not in body
        assert not TokenAudit.objects.exists()

    def test_an_inactive_viewer_cannot_get_a_token(self, client, ivan):
        # An inactive user's session is dropped by auth: they are anonymous again.
        response = login(client, ivan).get(CHANNEL_URL)
        assert response.status_code == 302
        assert not TokenAudit.objects.exists()

    def test_it_embeds_a_token_ivs_would_accept(self, client, alice, public_key):
        response = login(client, alice).get(CHANNEL_URL)
        assert response.status_code == 200
        config = player_config(response)
        assert config["playbackUrl"].startswith(
            "https://a1b2c3d4e5f6.us-west-2.playback.live-video.net/api/video/v1/"
            "us-west-2.123456789012.channel.MainEvent01.m3u8?token="
        )
        claims = jwt.decode(token_of(response), public_key, algorithms=["ES384"])
        assert claims["aws:channel-arn"] == PRIVATE_ARN
        assert claims["aws:viewer-id"] == alice.viewer_id
        # The session version is the audit row's id: newer sessions always carry higher versions.
        assert claims["aws:viewer-session-version"] == TokenAudit.objects.get().pk
        assert claims["exp"] - claims["iat"] == 300
        assert "aws:maximum-resolution" not in claims
        assert re.fullmatch(r"[0-9a-f-]{36}", claims["aws:single-use-uuid"])

    def test_the_viewer_id_reveals_nothing_about_the_person(self, client, alice, public_key):
        claims = jwt.decode(token_of(login(client, alice).get(CHANNEL_URL)), public_key, algorithms=["ES384"])
        viewer_id = claims["aws:viewer-id"]
        assert len(viewer_id) <= 40
        for personal in ("alice", "example.com", str(alice.pk)):
            assert personal not in viewer_id or viewer_id != personal

    def test_a_group_member_gets_the_groups_resolution(self, client, bob, public_key):
        claims = jwt.decode(token_of(login(client, bob).get(CHANNEL_URL)), public_key, algorithms=["ES384"])
        assert claims["aws:maximum-resolution"] == "HD"

    def test_each_page_gets_a_fresh_token(self, client, alice):
        login(client, alice)
        assert token_of(client.get(CHANNEL_URL)) != token_of(client.get(CHANNEL_URL))

    def test_nothing_may_cache_the_page(self, client, alice):
        response = login(client, alice).get(CHANNEL_URL)
        assert response["Cache-Control"] == "private, no-store"

    def test_it_audits_the_token_without_storing_it(self, client, alice, public_key):
        response = login(client, alice).get(CHANNEL_URL, HTTP_USER_AGENT="TestBrowser/1.0", REMOTE_ADDR="203.0.113.9")
        token = token_of(response)
        claims = jwt.decode(token, public_key, algorithms=["ES384"])
        audit = TokenAudit.objects.get()
        assert (audit.user, audit.channel.slug, audit.viewer_id) == (alice, "main-event", alice.viewer_id)
        assert str(audit.single_use_uuid) == claims["aws:single-use-uuid"]
        assert int(audit.expires_at.timestamp()) == claims["exp"]
        assert (audit.client_ip, audit.user_agent) == ("203.0.113.9", "TestBrowser/1.0")
        for field in TokenAudit._meta.concrete_fields:
            assert token not in str(getattr(audit, field.attname))

    def test_it_loads_the_sdk_from_settings(self, client, alice, settings):
        settings.IVS_PLAYER_SDK_URL = "https://cdn.example.com/ivs/player.min.js"
        assert b'src="https://cdn.example.com/ivs/player.min.js"' in login(client, alice).get(CHANNEL_URL).content

    def test_it_opens_the_connection_to_the_playback_host_early_and_loads_the_player_as_a_module(self, client, alice):
        client.force_login(alice)
        html = client.get("/channels/main-event/").content.decode()
        host = "https://a1b2c3d4e5f6.us-west-2.playback.live-video.net"
        assert f'<link rel="preconnect" href="{host}" crossorigin>' in html
        assert f'<link rel="dns-prefetch" href="{host}">' in html
        assert '<script type="module" src="/static/js/player.js"></script>' in html

    def test_it_preloads_the_players_worker_and_wasm_it_hands_the_sdk(self, client, alice, settings):
        settings.IVS_PLAYER_WASM_WORKER_URL = "/static/vendor/ivs/amazon-ivs-wasmworker.min.js"
        settings.IVS_PLAYER_WASM_BINARY_URL = "/static/vendor/ivs/amazon-ivs-wasmworker.min.wasm"
        response = login(client, alice).get(CHANNEL_URL)
        html = response.content.decode()
        assert '<link rel="preload" href="/static/vendor/ivs/amazon-ivs-wasmworker.min.js" as="script">' in html
        assert (
            '<link rel="preload" href="/static/vendor/ivs/amazon-ivs-wasmworker.min.wasm" as="fetch" '
            'type="application/wasm" crossorigin>'
        ) in html
        # The same URLs the SDK is told to use: a preload of another URL would be fetched twice.
        config = player_config(response)
        assert (config["wasmWorker"], config["wasmBinary"]) == (
            settings.IVS_PLAYER_WASM_WORKER_URL,
            settings.IVS_PLAYER_WASM_BINARY_URL,
        )

    def test_it_preloads_nothing_the_sdk_finds_for_itself(self, client, alice, settings):
        settings.IVS_PLAYER_WASM_WORKER_URL = settings.IVS_PLAYER_WASM_BINARY_URL = ""
        assert b'rel="preload"' not in login(client, alice).get(CHANNEL_URL).content

    def test_a_public_channel_plays_without_a_token_or_login(self, client, public_channel):
        response = client.get("/channels/lobby/")
        assert response.status_code == 200
        assert player_config(response)["playbackUrl"] == public_channel.playback_url
        assert not TokenAudit.objects.exists()

    def test_a_hidden_channel_plays_for_the_entitled_by_link(self, client, alice, hidden_channel):
        from viewers.models import Entitlement

        Entitlement.objects.create(user=alice, channel=hidden_channel)
        assert login(client, alice).get("/channels/backstage/").status_code == 200

    def test_a_hidden_channel_is_still_protected(self, client, carol, hidden_channel):
        assert login(client, carol).get("/channels/backstage/").status_code == 403

    @pytest.mark.parametrize(
        "path",
        ["/channels/nope/", "/channels/../admin/", "/channels/%00/", "/channels/a b/", "/channels/" + "x" * 500 + "/"],
    )
    def test_unknown_or_malformed_slugs_are_404(self, client, alice, path):
        assert login(client, alice).get(path).status_code == 404

    def test_head_answers_an_entitled_viewer_as_get_would_but_mints_no_token(self, client, alice):
        login(client, alice)
        head = client.head(CHANNEL_URL)
        assert head.status_code == 200 and head.content == b""
        assert not TokenAudit.objects.exists()
        get = client.get(CHANNEL_URL)
        assert TokenAudit.objects.count() == 1
        assert sorted(head.headers) == sorted(get.headers)
        for name in ("Content-Type", "Cache-Control", "X-Frame-Options", "Referrer-Policy"):
            assert head[name] == get[name]

    @pytest.mark.parametrize(
        ("person", "path", "status"),
        [
            (None, CHANNEL_URL, 302),
            ("carol", CHANNEL_URL, 403),
            ("dave", CHANNEL_URL, 403),
            ("alice", "/channels/nope/", 404),
        ],
        ids=["anonymous", "stranger", "ended", "unknown channel"],
    )
    def test_head_answers_everyone_else_as_get_would(self, client, request, private_channel, person, path, status):
        if person:
            login(client, request.getfixturevalue(person))
        head, get = client.head(path), client.get(path)
        assert head.status_code == get.status_code == status
        assert head.get("Location") == get.get("Location")
        assert not TokenAudit.objects.exists()

    def test_head_over_the_page_budget_is_429_like_get(self, client, alice, settings):
        settings.IVS_PLAYER_PAGES_PER_MINUTE = 1
        login(client, alice).get(CHANNEL_URL)
        head = client.head(CHANNEL_URL)
        assert head.status_code == 429 and int(head["Retry-After"]) >= 1
        assert TokenAudit.objects.count() == 1

    def test_it_refuses_posts(self, client, alice):
        assert login(client, alice).post(CHANNEL_URL).status_code == 405

    def test_a_missing_key_is_a_clean_error_not_a_token(self, client, alice, settings):
        from viewers.ivs import signing_keys

        settings.IVS_PLAYBACK_PRIVATE_KEY = ""
        signing_keys.forget_cached_keys()
        client.raise_request_exception = False
        try:
            response = login(client, alice).get(CHANNEL_URL)
        finally:
            signing_keys.forget_cached_keys()
        assert response.status_code == 500
        assert b"token=" not in response.content
        assert b"BEGIN" not in response.content


@pytest.mark.django_db
class TestHome:
    def test_it_lists_what_the_viewer_may_watch(self, client, alice, public_channel, hidden_channel):
        body = login(client, alice).get("/").content.decode()
        assert "Main Event" in body and "Open Lobby" in body and "Backstage" not in body

    def test_it_has_a_clear_empty_state(self, client, carol):
        body = login(client, carol).get("/").content.decode()
        assert "No channels for you yet" in body

    def test_anonymous_visitors_see_public_channels_and_a_login_link(self, client, public_channel, private_channel):
        body = client.get("/").content.decode()
        assert "Open Lobby" in body and "Main Event" not in body and "/accounts/login/" in body

    def test_its_query_count_does_not_grow_with_channels(self, client, alice, django_assert_max_num_queries):
        login(client, alice)
        client.get("/")  # warm the session cache
        for i in range(1000):
            Channel.objects.create(
                name=f"Ch {i}",
                slug=f"ch-{i}",
                arn=f"arn:aws:ivs:us-west-2:123456789012:channel/c{i}",
                playback_url=f"https://h.us-west-2.playback.live-video.net/api/video/v1/us-west-2.123456789012.channel.c{i}.m3u8",
                is_private=i % 2 == 0,
            )
        # The session's user, the viewer's access times (when it ends or starts), the channels with their state.
        with django_assert_max_num_queries(3):
            response = client.get("/")
        assert response.content.count(b'class="card"') == 501


@pytest.mark.django_db
class TestLogin:
    def test_the_real_login_form_logs_in_and_follows_next(self, alice, private_channel):
        client = Client()
        response = client.post("/accounts/login/", {"username": "alice", "password": "password", "next": CHANNEL_URL})
        assert response.status_code == 302 and response["Location"] == CHANNEL_URL

    @pytest.mark.parametrize("evil", ["https://evil.example.com/", "//evil.example.com/", "https:evil.example.com"])
    def test_it_does_not_redirect_to_another_site(self, alice, evil):
        response = Client().post("/accounts/login/", {"username": "alice", "password": "password", "next": evil})
        assert response.status_code == 302
        assert response["Location"] == reverse("home")

    def test_a_wrong_password_gets_a_clear_message(self, alice):
        response = Client().post("/accounts/login/", {"username": "alice", "password": "nope"})
        assert response.status_code == 200
        assert b"correct username and password" in response.content

    def test_logout_and_password_change_have_pages(self, client, alice):
        login(client, alice)
        assert client.get("/accounts/password_change/").status_code == 200
        assert client.post("/accounts/logout/").status_code == 200
        assert client.get(CHANNEL_URL).status_code == 302
