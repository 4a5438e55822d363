"""What the home page and the player page say about a channel's live state and the viewer's own access: "Live now",
"Offline", nothing when it is not known, "Your access starts …" and "Your access ends …"."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.visible_text import visible_text
from viewers import stream_state
from viewers.ivs import aws
from viewers.models import Channel, Entitlement, User

pytestmark = pytest.mark.django_db

SINCE = datetime(2026, 12, 3, 13, 25, tzinfo=UTC)


def mark(channel, state, *, checked_ago=timedelta(seconds=10)):
    Channel.objects.filter(pk=channel.pk).update(
        stream_state=state,
        stream_started_at=SINCE if state == "live" else None,
        stream_checked_at=timezone.now() - checked_ago,
    )


def words(html):
    """The page's visible text, its whitespace as a browser shows it (one space)."""
    return " ".join(visible_text(html).split())


def home(client, user=None):
    if user is not None:
        client.force_login(user)
    return words(client.get("/").content.decode())


class TestTheHomePage:
    def test_a_live_channel_says_so_and_since_when(self, client, alice, private_channel):
        mark(private_channel, "live")
        assert "Live now since 3 Dec 2026, 13:25 UTC" in home(client, alice)

    def test_an_offline_channel_says_offline(self, client, public_channel):
        mark(public_channel, "offline")
        assert "Offline" in home(client)

    @pytest.mark.parametrize("checked_ago", [None, timedelta(minutes=10)])
    def test_a_state_never_read_or_too_old_is_not_shown(self, client, public_channel, checked_ago):
        if checked_ago:
            mark(public_channel, "live", checked_ago=checked_ago)
        text = home(client)
        assert "Open Lobby" in text and "Live now" not in text and "Offline" not in text

    def test_an_entitlement_with_an_end_says_when_access_ends(self, client, carol, private_channel):
        Entitlement.objects.create(user=carol, channel=private_channel, ends_at=datetime(2099, 1, 5, 18, 0, tzinfo=UTC))
        assert "Your access ends 5 Jan 2099, 18:00 UTC" in home(client, carol)

    def test_open_ended_access_has_no_end_to_tell(self, client, alice):
        assert "Your access" not in home(client, alice)

    def test_a_renewal_bought_ahead_carries_the_end(self, client, carol, private_channel, now):
        Entitlement.objects.create(user=carol, channel=private_channel, ends_at=now + timedelta(days=1))
        renewal_end = datetime(2099, 3, 1, 12, 0, tzinfo=UTC)
        Entitlement.objects.create(
            user=carol, channel=private_channel, starts_at=now + timedelta(hours=20), ends_at=renewal_end
        )
        assert "Your access ends 1 Mar 2099, 12:00 UTC" in home(client, carol)

    def test_an_event_bought_ahead_is_listed_with_its_start(self, client, carol, private_channel):
        Entitlement.objects.create(
            user=carol, channel=private_channel, starts_at=datetime(2099, 2, 1, 20, 0, tzinfo=UTC)
        )
        text = home(client, carol)
        assert "Main Event" in text and "Your access starts 1 Feb 2099, 20:00 UTC" in text

    def test_an_ended_or_revoked_entitlement_lists_nothing(self, client, dave, frank):
        assert "Main Event" not in home(client, dave)
        assert "Main Event" not in home(client, frank)

    def test_access_through_a_group_counts(self, client, bob, subscribers, now):
        Entitlement.objects.filter(group=subscribers).update(ends_at=datetime(2099, 1, 5, 18, 0, tzinfo=UTC))
        assert "Your access ends 5 Jan 2099, 18:00 UTC" in home(client, bob)

    def test_its_query_count_does_not_grow_with_channels_states_or_entitlements(
        self, client, carol, django_assert_max_num_queries
    ):
        client.force_login(carol)
        client.get("/")  # warm the session cache
        now = timezone.now()
        for i in range(60):
            arn = f"arn:aws:ivs:us-west-2:123456789012:channel/c{i}"
            channel = Channel.objects.create(
                name=f"Ch {i}", slug=f"ch-{i}", arn=arn, playback_url="https://h.example/x.m3u8"
            )
            mark(channel, ("live", "offline", "")[i % 3])
            window = {"ends_at": now + timedelta(days=1)} if i % 2 else {"starts_at": now + timedelta(days=1)}
            Entitlement.objects.create(user=carol, channel=channel, **window)
        # The session's user, the access times, the channels with their state.
        with django_assert_max_num_queries(3):
            response = client.get("/")
        text = words(response.content.decode())
        assert text.count("Live now") == 20 and text.count("Offline") == 20
        assert text.count("Your access ends") == 30 and text.count("Your access starts") == 30


class TestThePlayerPage:
    def test_it_shows_the_live_state_and_the_end_of_access(self, client, carol, private_channel):
        Entitlement.objects.create(user=carol, channel=private_channel, ends_at=datetime(2099, 1, 5, 18, 0, tzinfo=UTC))
        mark(private_channel, "live")
        client.force_login(carol)
        text = words(client.get("/channels/main-event/").content.decode())
        assert "Live now since 3 Dec 2026, 13:25 UTC" in text and "Your access ends 5 Jan 2099, 18:00 UTC" in text

    def test_an_offline_public_channel_says_offline_and_nothing_about_access(self, client, public_channel):
        mark(public_channel, "offline")
        text = words(client.get("/channels/lobby/").content.decode())
        assert "Offline" in text and "Your access" not in text


def test_after_the_demo_and_one_run_against_the_local_origin_the_demo_event_is_live(
    live_server, settings, monkeypatch, client
):
    settings.DEBUG = True
    call_command("demo", "--origin", live_server.url)
    settings.DEBUG = False
    settings.AWS_REGION = "us-west-2"
    settings.AWS_ENDPOINT_URL_IVS = live_server.url + "/ivs"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "tests")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "tests")
    aws._client.cache_clear()
    try:
        assert stream_state.refresh() == {"live": 2, "offline": 0, "failed": []}
    finally:
        aws._client.cache_clear()
    midnight = timezone.now().astimezone(UTC).strftime("%-d %b %Y")
    client.force_login(User.objects.get(username="viewer"))
    cards = client.get("/").content.decode().split('<li class="card">')[1:]
    (event,) = [words(card) for card in cards if "Demo Event" in card]
    assert f"Live now since {midnight}, 00:00 UTC" in event
