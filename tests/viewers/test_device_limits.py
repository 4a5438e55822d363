"""Device limits: a new screen beyond a channel's limit stops the oldest session, through the same revocation path,
and concurrent screens cannot both pass the limit."""

import pytest

from tests.factories import expect_single, run_at_once, watch
from viewers.access import AccessDecision
from viewers.models import Revocation, TokenAudit
from viewers.player import playback

pytestmark = pytest.mark.django_db


class TestDeviceLimit:
    def test_a_new_screen_beyond_the_limit_revokes_the_oldest(self, client, alice, private_channel, ivs, act):
        private_channel.max_devices = 2
        private_channel.save()
        client.force_login(alice)

        def start():  # on a device-limited channel the player's POST starts a session, never the page's GET
            return client.post("/channels/main-event/playback").json()["session"]

        first, second = start(), start()
        assert not Revocation.objects.exists()
        expect_single(ivs, alice, first)
        act(start)
        assert TokenAudit.objects.get(pk=first).end_reason == "superseded"
        assert TokenAudit.objects.get(pk=second).ended_at is None
        assert Revocation.objects.get().status == "done"

    def test_the_default_is_unlimited(self, client, alice):
        for _ in range(5):
            watch(alice, client=client)
        assert not TokenAudit.objects.filter(ended_at__isnull=False).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_screens_cannot_both_pass_the_limit(alice, private_channel, rf):
    """Real concurrency on PostgreSQL: eight app-server threads start playback for one viewer at once."""
    private_channel.max_devices = 1
    private_channel.save()
    decision = AccessDecision(True, "entitled", "")
    errors = run_at_once(
        8, lambda: playback.issue(user=alice, channel=private_channel, decision=decision, request=rf.get("/"))
    )
    assert errors == []
    assert TokenAudit.objects.count() == 8
    assert TokenAudit.objects.filter(ended_at__isnull=True).count() == 1
    newest = TokenAudit.objects.latest("pk")
    assert newest.ended_at is None
