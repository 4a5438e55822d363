"""The access rule, through the one function every caller uses."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser

from viewers import access
from viewers.models import Channel, Entitlement


@pytest.mark.django_db
class TestDecide:
    def test_a_direct_entitlement_allows(self, alice, private_channel):
        decision = access.decide(alice, private_channel)
        assert (decision.allowed, decision.reason, decision.max_resolution) == (True, "entitled", None)

    def test_a_group_entitlement_allows_with_its_resolution(self, bob, private_channel):
        decision = access.decide(bob, private_channel)
        assert (decision.allowed, decision.max_resolution) == (True, "HD")

    def test_no_entitlement_denies(self, carol, private_channel):
        assert access.decide(carol, private_channel).reason == "no_entitlement"

    def test_an_ended_entitlement_denies_and_says_when(self, dave, private_channel, now):
        decision = access.decide(dave, private_channel)
        assert (decision.allowed, decision.reason) == (False, "ended")
        assert decision.when < now

    def test_a_future_entitlement_denies_and_says_when(self, erin, private_channel, now):
        decision = access.decide(erin, private_channel)
        assert (decision.allowed, decision.reason) == (False, "not_started")
        assert decision.when > now

    def test_a_revoked_entitlement_denies(self, frank, private_channel):
        assert access.decide(frank, private_channel).reason == "revoked"

    def test_an_inactive_user_is_denied_despite_an_entitlement(self, ivan, private_channel):
        assert access.decide(ivan, private_channel).reason == "inactive"

    def test_staff_get_no_implicit_access(self, sam, admin_user, private_channel):
        assert not access.decide(sam, private_channel).allowed
        assert not access.decide(admin_user, private_channel).allowed

    def test_anonymous_is_asked_to_log_in(self, private_channel):
        assert access.decide(AnonymousUser(), private_channel).reason == "login_required"

    def test_a_public_channel_is_open_to_anyone(self, public_channel):
        assert access.decide(AnonymousUser(), public_channel).allowed

    def test_an_entitlement_for_another_channel_does_not_count(self, carol, hidden_channel, private_channel):
        Entitlement.objects.create(user=carol, channel=hidden_channel)
        assert not access.decide(carol, private_channel).allowed
        assert access.decide(carol, hidden_channel).allowed

    def test_the_window_is_start_inclusive_end_exclusive(self, carol, private_channel, now):
        start, end = now + timedelta(hours=1), now + timedelta(hours=2)
        Entitlement.objects.create(user=carol, channel=private_channel, starts_at=start, ends_at=end)
        assert not access.decide(carol, private_channel, now=start - timedelta(microseconds=1)).allowed
        assert access.decide(carol, private_channel, now=start).allowed
        assert access.decide(carol, private_channel, now=end - timedelta(microseconds=1)).allowed
        assert access.decide(carol, private_channel, now=end).reason == "ended"

    def test_it_follows_the_clock(self, carol, private_channel, now):
        Entitlement.objects.create(
            user=carol, channel=private_channel, starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2)
        )
        with time_machine.travel(now + timedelta(days=1, hours=1)):
            assert access.decide(carol, private_channel).allowed
        with time_machine.travel(now + timedelta(days=3)):
            assert access.decide(carol, private_channel).reason == "ended"

    def test_the_most_generous_resolution_wins(self, bob, private_channel):
        Entitlement.objects.create(user=bob, channel=private_channel, max_resolution="SD")
        assert access.decide(bob, private_channel).max_resolution == "HD"
        Entitlement.objects.create(user=bob, channel=private_channel, max_resolution="")
        assert access.decide(bob, private_channel).max_resolution is None

    def test_a_revoked_or_expired_generous_entitlement_does_not_raise_the_resolution(self, bob, private_channel, now):
        Entitlement.objects.create(user=bob, channel=private_channel, revoked_at=now)
        Entitlement.objects.create(user=bob, channel=private_channel, ends_at=now - timedelta(seconds=1))
        assert access.decide(bob, private_channel).max_resolution == "HD"

    def test_a_live_entitlement_beats_a_revoked_one(self, frank, private_channel):
        Entitlement.objects.create(user=frank, channel=private_channel)
        assert access.decide(frank, private_channel).allowed

    def test_leaving_the_group_ends_access(self, bob, subscribers, private_channel):
        bob.groups.remove(subscribers)
        assert access.decide(bob, private_channel).reason == "no_entitlement"

    def test_it_costs_one_query(self, bob, private_channel, django_assert_num_queries):
        with django_assert_num_queries(1):
            access.decide(bob, private_channel)


@pytest.mark.django_db
class TestListing:
    def test_it_lists_watchable_private_and_listed_public_channels(self, alice, public_channel, hidden_channel):
        Entitlement.objects.create(user=alice, channel=hidden_channel)
        assert [c.slug for c in Channel.objects.listed_for(alice)] == ["main-event", "lobby"]

    def test_strangers_see_public_channels_only(self, carol, private_channel, public_channel):
        assert [c.slug for c in Channel.objects.listed_for(carol)] == ["lobby"]
        assert [c.slug for c in Channel.objects.listed_for(AnonymousUser())] == ["lobby"]

    @pytest.mark.parametrize("person", ["dave", "erin", "frank", "ivan"])
    def test_lapsed_viewers_do_not_see_the_channel(self, person, request):
        user = request.getfixturevalue(person)
        assert not Channel.objects.listed_for(user).filter(slug="main-event").exists()

    def test_group_members_see_the_channel(self, bob):
        assert Channel.objects.listed_for(bob).filter(slug="main-event").exists()
