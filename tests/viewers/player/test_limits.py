"""The player page cannot be hammered, and a plain GET never kicks a viewer's other screen."""

import pytest
from django.test import Client

from tests.factories import audit_row
from tests.viewers.player.test_views import player_config
from viewers.models import TokenAudit

pytestmark = pytest.mark.django_db

PAGE = "/channels/main-event/"
START = "/channels/main-event/playback"


def viewer(user):
    client = Client()
    client.force_login(user)
    return client


class TestRateLimit:
    def test_a_burst_beyond_the_budget_gets_a_429_with_no_token_and_nothing_written(self, settings, alice):
        settings.IVS_PLAYER_PAGES_PER_MINUTE = 5
        client = viewer(alice)
        assert [client.get(PAGE).status_code for _ in range(5)] == [200] * 5
        response = client.get(PAGE)
        assert response.status_code == 429
        assert 1 <= int(response["Retry-After"]) <= 61
        assert response["Cache-Control"] == "private, no-store"
        assert "token=" not in response.content.decode()
        assert "Too many" in response.content.decode()
        assert TokenAudit.objects.count() == 5

    def test_the_default_budget_is_twenty_a_minute(self, alice):
        client = viewer(alice)
        statuses = [client.get(PAGE).status_code for _ in range(21)]
        assert statuses == [200] * 20 + [429]
        assert TokenAudit.objects.count() == 20

    def test_the_budget_is_per_viewer_and_channel(self, settings, alice, bob, private_channel, hidden_channel):
        from viewers.models import Entitlement

        settings.IVS_PLAYER_PAGES_PER_MINUTE = 1
        Entitlement.objects.create(user=alice, channel=hidden_channel)
        client = viewer(alice)
        assert client.get(PAGE).status_code == 200
        assert client.get(PAGE).status_code == 429
        assert client.get("/channels/backstage/").status_code == 200
        assert viewer(bob).get(PAGE).status_code == 200

    def test_the_refresh_endpoint_keeps_its_own_budget(self, settings, alice):
        settings.IVS_PLAYER_PAGES_PER_MINUTE = 1
        client = viewer(alice)
        client.get(PAGE)
        assert client.get(PAGE).status_code == 429
        assert client.post(START).status_code == 200

    def test_it_counts_the_last_sixty_seconds_of_tokens_not_a_calendar_minute(self, settings, alice):
        from datetime import timedelta

        settings.IVS_PLAYER_PAGES_PER_MINUTE = 2
        client = viewer(alice)
        assert [client.get(PAGE).status_code for _ in range(3)] == [200, 200, 429]
        oldest = TokenAudit.objects.order_by("pk").first()
        TokenAudit.objects.filter(pk=oldest.pk).update(issued_at=oldest.issued_at - timedelta(seconds=61))
        assert client.get(PAGE).status_code == 200  # one slot came free when that token left the window
        assert client.get(PAGE).status_code == 429

    def test_retry_after_is_when_the_oldest_counted_page_leaves_the_window(self, settings, alice):
        from datetime import timedelta

        from django.utils import timezone

        settings.IVS_PLAYER_PAGES_PER_MINUTE = 1
        client = viewer(alice)
        client.get(PAGE)
        TokenAudit.objects.update(issued_at=timezone.now() - timedelta(seconds=45))
        assert 14 <= int(client.get(PAGE)["Retry-After"]) <= 16

    def test_every_token_on_the_channel_counts_refreshes_too(self, settings, alice):
        """A reload loop and a refresh loop mint the same: the page budget is of tokens (refreshes also have their
        own, per viewer)."""
        settings.IVS_PLAYER_PAGES_PER_MINUTE = 3
        client = viewer(alice)
        session = client.post(START).json()["session"]
        assert client.post(START, {"session": session}).status_code == 200
        assert [client.get(PAGE).status_code for _ in range(2)] == [200, 429]
        assert TokenAudit.objects.count() == 3

    def test_tokens_older_than_the_window_never_count_however_many(self, settings, alice, private_channel):
        from datetime import timedelta

        from django.utils import timezone

        long_ago = timezone.now() - timedelta(days=30)
        TokenAudit.objects.bulk_create(
            audit_row(alice, private_channel, issued_at=long_ago, save=False) for _ in range(300)
        )
        settings.IVS_PLAYER_PAGES_PER_MINUTE = 2
        client = viewer(alice)
        assert [client.get(PAGE).status_code for _ in range(3)] == [200, 200, 429]

    def test_the_limit_holds_with_redis_down(self, settings, alice):
        """The count is the audit rows every token writes: no cache involved."""
        closed = {"BACKEND": "ivssite.cache.ResilientRedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
        settings.CACHES = {"default": closed, "sessions": {**closed, "OPTIONS": {"LOCAL_FALLBACK": False}}}
        settings.IVS_PLAYER_PAGES_PER_MINUTE = 2
        client = viewer(alice)
        assert [client.get(PAGE).status_code for _ in range(3)] == [200, 200, 429]

    def test_public_channels_are_not_counted(self, settings, public_channel):
        settings.IVS_PLAYER_PAGES_PER_MINUTE = 1
        assert [Client().get("/channels/lobby/").status_code for _ in range(3)] == [200] * 3


class TestDeviceLimitTakeover:
    @pytest.fixture
    def one_screen(self, private_channel):
        private_channel.max_devices = 1
        private_channel.save()
        return private_channel

    def test_the_page_of_a_limited_channel_writes_nothing_and_lets_the_player_start(self, alice, one_screen):
        page = viewer(alice).get(PAGE)
        assert page.status_code == 200
        config = player_config(page)
        assert config["playbackUrl"] is None and config["refreshUrl"] == START
        assert not TokenAudit.objects.exists()

    def test_a_plain_get_cannot_kick_the_other_screen(self, alice, one_screen):
        playing = viewer(alice).post(START).json()["session"]
        # A cross-site link, a link preview or a prefetch: a top-level GET with the viewer's cookies.
        assert viewer(alice).get(PAGE).status_code == 200
        assert TokenAudit.objects.get(pk=playing).ended_at is None

    def test_the_player_starting_on_another_screen_takes_over(self, alice, one_screen):
        first = viewer(alice).post(START).json()["session"]
        second = viewer(alice).post(START).json()["session"]
        assert TokenAudit.objects.get(pk=first).end_reason == "superseded"
        assert TokenAudit.objects.get(pk=second).ended_at is None
        assert TokenAudit.objects.get(pk=second).purpose == "page"  # a first token, not a refresh

    def test_starting_needs_the_csrf_token_a_cross_site_form_cannot_send(self, alice, one_screen):
        client = Client(enforce_csrf_checks=True)
        client.force_login(alice)
        assert client.post(START).status_code == 403
        assert not TokenAudit.objects.exists()


class TestCounter:
    """The counter on caches other than Redis (on Redis: one pipelined round trip, tests/ivssite/test_cache.py)."""

    @pytest.fixture(autouse=True)
    def memory_cache(self, monkeypatch):
        from django.core.cache.backends.locmem import LocMemCache

        from viewers import ratelimit

        monkeypatch.setattr(ratelimit, "cache", LocMemCache("counter-tests", {}))

    def test_a_reload_counts_with_one_cache_call(self, monkeypatch):
        from viewers import ratelimit

        assert ratelimit.hit("page:1:1", limit=5) == 0
        calls = []
        for name in ("add", "incr"):
            original = getattr(ratelimit.cache, name)
            monkeypatch.setattr(
                ratelimit.cache, name, lambda *a, _o=original, _n=name, **k: calls.append(_n) or _o(*a, **k)
            )
        assert ratelimit.hit("page:1:1", limit=5) == 0
        assert calls == ["incr"]

    def test_a_counter_another_request_made_meanwhile_is_counted_not_reset(self, monkeypatch):
        from viewers import ratelimit

        original_add = ratelimit.cache.add

        def add_after_a_rival(key, value, timeout):
            original_add(key, 1, timeout=timeout)  # the other app server got there first
            return original_add(key, value, timeout=timeout)

        monkeypatch.setattr(ratelimit.cache, "add", add_after_a_rival)
        assert ratelimit.hit("page:1:2", limit=1) > 0  # the rival's hit and this one: 2 > 1
