"""The player page's database work is a constant: the session (cached), the user, the channel with the access
decision's rows (one statement), and the audit insert."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import audit_row
from viewers.models import Channel, Entitlement, TokenAudit, User

pytestmark = pytest.mark.django_db


def page_queries(client, path):
    client.get(path)  # warm the cached session
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_the_player_page_makes_at_most_three_queries(client, alice):
    client.force_login(alice)
    queries = page_queries(client, "/channels/main-event/")
    assert len(queries) <= 3, "\n".join(queries)


def test_the_count_does_not_grow_with_data(client, alice, bob, private_channel, subscribers):
    client.force_login(bob)
    before = len(page_queries(client, "/channels/main-event/"))
    for i in range(200):
        user = User.objects.create_user(f"u{i}", password="x")
        user.groups.add(subscribers)
        channel = Channel.objects.create(
            name=f"c{i}",
            slug=f"c{i}",
            arn=f"arn:aws:ivs:us-west-2:123456789012:channel/c{i}",
            playback_url=f"https://h.us-west-2.playback.live-video.net/api/video/v1/us-west-2.123456789012.channel.c{i}.m3u8",
        )
        Entitlement.objects.create(user=bob, channel=channel)
    TokenAudit.objects.bulk_create(
        audit_row(bob, private_channel, viewer_id=bob.viewer_id, issued_at=datetime(2026, 1, 1, tzinfo=UTC), save=False)
        for _ in range(500)
    )
    assert len(page_queries(client, "/channels/main-event/")) == before <= 3
