"""The withdrawal guarantee: whatever path takes access away, the next reconciliation ends the session.

Each path here changes the database the way that path does and then runs the reconciler alone, with no
signal or service helping, so a test passes only if the level-triggered comparison catches the change.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.factories import PRIVATE_ARN, audit_row, playback_url_for, playing
from viewers import access, reconcile, services
from viewers.models import Channel, Entitlement, Revocation, User

pytestmark = pytest.mark.django_db

OTHER_ARN = PRIVATE_ARN.replace("MainEvent01", "MainEvent02")


def ended_by_reconcile(session, now=None):
    queued = reconcile.reconcile(now)
    session.refresh_from_db()
    return session.end_reason == "revoked" and queued == 1


class TestEveryPathStopsPlayback:
    def test_the_entitling_group_deleted(self, bob, subscribers, private_channel):
        session = playing(bob, private_channel, resolution="HD")
        subscribers.delete()
        assert ended_by_reconcile(session)

    def test_the_entitlement_moved_to_another_user(self, alice, carol, private_channel):
        session = playing(alice, private_channel)
        Entitlement.objects.filter(user=alice).update(user=carol)
        assert ended_by_reconcile(session)

    def test_the_entitlement_moved_to_a_group_the_viewer_is_not_in(self, alice, private_channel):
        session = playing(alice, private_channel)
        Entitlement.objects.filter(user=alice).update(user=None, group=Group.objects.create(name="others"))
        assert ended_by_reconcile(session)

    def test_the_entitlement_moved_to_another_channel(self, alice, private_channel, public_channel):
        session = playing(alice, private_channel)
        Entitlement.objects.filter(user=alice).update(channel=public_channel)
        assert ended_by_reconcile(session)

    def test_the_window_ends_with_nothing_else_happening(self, alice, private_channel, now):
        Entitlement.objects.filter(user=alice).update(ends_at=now + timedelta(minutes=10))
        session = playing(alice, private_channel)
        assert reconcile.reconcile(now + timedelta(minutes=9)) == 0
        assert ended_by_reconcile(session, now + timedelta(minutes=10))

    def test_a_bulk_update_that_fires_no_signal(self, alice, private_channel):
        session = playing(alice, private_channel)
        Entitlement.objects.filter(user=alice).update(revoked_at=timezone.now())
        assert ended_by_reconcile(session)

    def test_the_user_deleted(self, alice, private_channel):
        session = playing(alice, private_channel)
        alice.delete()
        assert ended_by_reconcile(session)
        assert Revocation.objects.get().viewer_id == session.viewer_id

    def test_the_user_deactivated_by_update(self, alice, private_channel):
        session = playing(alice, private_channel)
        User.objects.filter(pk=alice.pk).update(is_active=False)
        assert ended_by_reconcile(session)

    def test_the_viewer_removed_from_the_group(self, bob, subscribers, private_channel):
        session = playing(bob, private_channel, resolution="HD")
        User.groups.through.objects.filter(user=bob).delete()
        assert ended_by_reconcile(session)


class TestTheChannelChanges:
    """The configuration's half of the guarantee: a channel deleted, made public or re-pointed ends its sessions,
    each revoked at the ARN its token was signed for, by whatever path the channel changed."""

    def test_a_deleted_channel_ends_its_sessions_and_keeps_their_audit(self, alice, private_channel):
        session = playing(alice, private_channel)
        arn = private_channel.arn
        Channel.objects.filter(pk=private_channel.pk).delete()  # a queryset delete: no admin, no service
        assert ended_by_reconcile(session)
        assert (session.channel_id, session.channel_arn, session.channel_name) == (None, arn, "Main Event")
        queued = Revocation.objects.get()
        assert (queued.channel_id, queued.channel_arn, queued.viewer_id) == (None, arn, alice.viewer_id)

    def test_a_re_pointed_channel_ends_the_sessions_on_its_old_arn(self, alice, private_channel):
        session = playing(alice, private_channel)
        old_arn = private_channel.arn
        Channel.objects.filter(pk=private_channel.pk).update(arn=OTHER_ARN, playback_url=playback_url_for(OTHER_ARN))
        assert ended_by_reconcile(session)
        assert Revocation.objects.get().channel_arn == old_arn

    def test_sessions_on_the_new_arn_play_on(self, alice, private_channel):
        Channel.objects.filter(pk=private_channel.pk).update(arn=OTHER_ARN, playback_url=playback_url_for(OTHER_ARN))
        private_channel.refresh_from_db()
        session = playing(alice, private_channel)
        assert reconcile.reconcile() == 0
        session.refresh_from_db()
        assert session.ended_at is None

    def test_a_revocation_after_a_re_point_goes_to_the_arn_the_session_runs_on(self, alice, private_channel):
        session = playing(alice, private_channel)
        old_arn = private_channel.arn
        private_channel.arn, private_channel.playback_url = OTHER_ARN, playback_url_for(OTHER_ARN)
        private_channel.save()
        services.entitlements_revoke(entitlements=Entitlement.objects.filter(user=alice))
        assert ended_by_reconcile(session)
        assert list(Revocation.objects.values_list("channel_arn", flat=True)) == [old_arn]

    def test_a_channel_made_public_ends_its_tokened_sessions(self, alice, private_channel):
        session = playing(alice, private_channel)
        Channel.objects.filter(pk=private_channel.pk).update(is_private=False)
        assert ended_by_reconcile(session)
        assert Revocation.objects.get().channel_arn == private_channel.arn

    @pytest.mark.parametrize("change", ["delete", "re-point", "make public"])
    def test_every_channel_change_books_an_early_run(self, alice, private_channel, change):
        DBTaskResult.objects.all().delete()
        if change == "delete":
            private_channel.delete()
        else:
            if change == "re-point":
                private_channel.arn, private_channel.playback_url = OTHER_ARN, playback_url_for(OTHER_ARN)
            else:
                private_channel.is_private = False
            private_channel.save()
        assert DBTaskResult.objects.filter(task_path=reconcile.reconcile_periodically.module_path).exists()


class TestWhatItLeavesAlone:
    def test_a_viewer_still_entitled_through_a_group_and_directly(self, bob, private_channel):
        Entitlement.objects.create(user=bob, channel=private_channel, max_resolution="HD")
        session = playing(bob, private_channel, resolution="HD")
        Entitlement.objects.filter(user=bob).update(revoked_at=timezone.now())
        assert reconcile.reconcile() == 0
        session.refresh_from_db()
        assert session.ended_at is None

    def test_an_entitled_viewer_on_an_unchanged_channel_plays_on(self, alice, private_channel):
        session = playing(alice, private_channel)
        private_channel.description = "edited"
        private_channel.save()
        assert reconcile.reconcile() == 0
        session.refresh_from_db()
        assert session.ended_at is None

    def test_sessions_older_than_the_longest_broadcast_are_not_open(self, alice, private_channel, settings):
        playing(alice, private_channel, issued_at=timezone.now() - timedelta(hours=settings.IVS_SESSION_MAX_HOURS + 1))
        Entitlement.objects.all().delete()
        assert reconcile.reconcile() == 0

    def test_tokens_without_a_viewer_id_cannot_be_revoked_and_are_skipped(self, alice, private_channel):
        audit_row(alice, private_channel)
        Entitlement.objects.all().delete()
        assert reconcile.reconcile() == 0


class TestResolution:
    def test_a_narrowed_entitlement_ends_the_higher_resolution_session(self, alice, private_channel):
        session = playing(alice, private_channel, resolution="HD")
        Entitlement.objects.filter(user=alice).update(max_resolution="SD")
        assert ended_by_reconcile(session)

    def test_a_session_within_the_new_limit_keeps_playing(self, alice, private_channel):
        session = playing(alice, private_channel, resolution="SD")
        Entitlement.objects.filter(user=alice).update(max_resolution="HD")
        assert reconcile.reconcile() == 0
        session.refresh_from_db()
        assert session.ended_at is None

    def test_an_unlimited_token_needs_an_unlimited_entitlement(self, alice, private_channel):
        session = playing(alice, private_channel, resolution="")
        Entitlement.objects.filter(user=alice).update(max_resolution="FULL_HD")
        assert ended_by_reconcile(session)


PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank", "ivan", "sam", "admin_user")
CHANNELS = ("private_channel", "public_channel", "hidden_channel", "finals")


def test_decide_users_who_may_watch_and_the_reconciler_agree_for_every_fixture_person_and_channel(request, subscribers):
    """The rule's three forms: one viewer and channel (decide), a set of viewers (users_who_may_watch) and every
    open session (the reconciler). Bob also gets Finals through his group, and Alice Finals directly, but ended."""
    people = [request.getfixturevalue(name) for name in PEOPLE]
    channels = [request.getfixturevalue(name) for name in CHANNELS]
    finals = channels[-1]
    Entitlement.objects.create(group=subscribers, channel=finals, max_resolution="SD")
    Entitlement.objects.create(user=people[0], channel=finals, ends_at=timezone.now() - timedelta(minutes=1))
    expected, sessions = {}, {}
    for channel in channels:
        may_watch = access.users_who_may_watch(channel, [person.pk for person in people])
        for person in people:
            decision = access.decide(person, channel)
            assert (person.pk in may_watch) == decision.allowed, (person.username, channel.slug)
            if not channel.is_private:
                continue  # public pages mint no token and so open no session the site could end
            # The session the player page would have started: at the decided resolution, or SD for a refusal.
            resolution = (decision.max_resolution or "") if decision.allowed else "SD"
            sessions[person.username, channel.slug] = playing(person, channel, resolution=resolution)
            expected[person.username, channel.slug] = decision.allowed
    assert any(expected.values()) and not all(expected.values())
    reconcile.reconcile()
    for key, session in sessions.items():
        session.refresh_from_db()
        assert (session.ended_at is None) == expected[key], key
