"""The query rules on EntitlementQuerySet and the resolution ladder, which the access rule, the reconciler, the
admin and the activity page all build on."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from localivs import hls
from viewers import access, resolutions
from viewers.ivs import tokens
from viewers.models import Entitlement, Resolution

pytestmark = pytest.mark.django_db


def usernames(users):
    return sorted(user.username for user in users)


class TestWindows:
    def test_each_fixture_entitlement_is_in_exactly_one_state(self, alice, bob, dave, erin, frank, now):
        entitlements = Entitlement.objects.all()
        current, upcoming, ended = entitlements.current(now), entitlements.upcoming(now), entitlements.ended(now)
        assert usernames(e.user for e in current if e.user) == ["alice"]
        assert current.filter(group__isnull=False).count() == 1  # bob's group
        assert [e.user.username for e in upcoming] == ["erin"]
        assert [e.user.username for e in ended] == ["dave"]
        revoked = entitlements.exclude(pk__in=[e.pk for e in [*current, *upcoming, *ended]])
        assert [e.user.username for e in revoked] == ["frank"]

    def test_the_window_is_half_open(self, alice, now):
        Entitlement.objects.filter(user=alice).update(starts_at=now, ends_at=now + timedelta(hours=1))
        assert Entitlement.objects.current(now).exists()
        assert Entitlement.objects.ended(now + timedelta(hours=1)).exists()
        assert not Entitlement.objects.current(now + timedelta(hours=1)).exists()


class TestHolders:
    def test_held_by_finds_direct_and_group_entitlements(self, alice, bob, carol):
        assert Entitlement.objects.values("pk").held_by(alice).count() == 1
        assert Entitlement.objects.values("pk").held_by(bob).count() == 1
        assert Entitlement.objects.values("pk").held_by(carol).count() == 0

    def test_holders_counts_each_person_once(self, alice, bob, private_channel, subscribers):
        alice.groups.add(subscribers)  # now entitled directly and through the group
        assert usernames(Entitlement.objects.all().holders()) == ["alice", "bob"]

    def test_holders_of_nothing_is_nobody(self, alice):
        assert not Entitlement.objects.none().holders().exists()


class TestEndAfterStart:
    def test_the_model_refuses_an_end_before_the_start(self, alice, private_channel, now):
        entitlement = Entitlement(user=alice, channel=private_channel, starts_at=now, ends_at=now)
        with pytest.raises(ValidationError) as caught:
            entitlement.full_clean()
        assert caught.value.message_dict == {"ends_at": ["The end must be after the start."]}

    def test_an_open_window_is_fine(self, now):
        Entitlement.check_window(None, now)
        Entitlement.check_window(now, None)


class TestTheLadder:
    def test_everything_reads_one_ladder(self):
        assert tuple(Resolution.values) == tokens.RESOLUTIONS == hls.RESOLUTION_LEVELS == resolutions.CLAIM_VALUES
        assert resolutions.LADDER == ("SD", "HD", "FULL_HD", "")

    def test_no_limit_is_the_most_generous(self):
        assert resolutions.most_generous(["HD", "", "SD"]) == ""
        assert resolutions.most_generous(["HD", "FULL_HD", "SD"]) == "FULL_HD"
        assert resolutions.at_least("HD") == ("HD", "FULL_HD", "")

    def test_the_access_rule_grants_the_most_generous_of_several(self, bob, private_channel):
        Entitlement.objects.create(user=bob, channel=private_channel, max_resolution="FULL_HD")
        assert access.decide(bob, private_channel).max_resolution == "FULL_HD"
