"""The withdrawal guarantee: whatever path takes access away, the next reconciliation ends the session.

Each path here changes the database the way that path does and then runs the reconciler alone, with no
signal or service helping, so a test passes only if the level-triggered comparison catches the change.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests.factories import PRIVATE_ARN, audit_row, playback_url_for, revocation_row, run_at_once, task_worker
from viewers import access, reconcile, revocation, services
from viewers.models import Channel, Entitlement, Revocation, User

pytestmark = pytest.mark.django_db

OTHER_ARN = PRIVATE_ARN.replace("MainEvent01", "MainEvent02")


def playing(user, channel, *, resolution="", issued_at=None):
    """An open playback session, as the player page records it."""
    issued_at = issued_at or timezone.now()
    return audit_row(user, channel, viewer_id=user.viewer_id, max_resolution=resolution, issued_at=issued_at)


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


class TestIdempotence:
    def test_a_second_run_queues_nothing(self, alice, private_channel):
        playing(alice, private_channel)
        Entitlement.objects.all().delete()
        assert reconcile.reconcile() == 1
        assert reconcile.reconcile() == 0
        assert Revocation.objects.count() == 1

    def test_one_revocation_per_viewer_through_the_newest_session(self, alice, private_channel):
        older, newer = playing(alice, private_channel), playing(alice, private_channel)
        Entitlement.objects.all().delete()
        assert reconcile.reconcile() == 1
        assert Revocation.objects.get().max_version == newer.pk > older.pk

    def test_its_queries_do_not_grow_with_the_audience(self, private_channel, django_assert_num_queries):
        for i in range(40):
            user = User.objects.create_user(f"viewer{i}")
            Entitlement.objects.create(user=user, channel=private_channel)
            playing(user, private_channel)
        # One anti-join (and the savepoint around it, as this test runs inside a transaction); nobody lost access.
        with django_assert_num_queries(3):
            reconcile.reconcile()
        Entitlement.objects.update(revoked_at=timezone.now())
        # Also: one update, one insert of revocations, then look for and enqueue the delivery task.
        with django_assert_num_queries(7):
            assert reconcile.reconcile() == 40


class TestTheWorker:
    def test_a_request_only_writes_rows_and_the_worker_delivers(self, client, alice, private_channel, worker):
        # A withdrawal in a request makes no IVS call and no revocation yet: only a task row for the worker.
        playing(alice, private_channel)
        services.entitlements_delete(entitlements=Entitlement.objects.filter(user=alice))
        assert not Revocation.objects.exists()
        assert DBTaskResult.objects.ready().filter(task_path=reconcile.reconcile_periodically.module_path).exists()
        worker()
        assert Revocation.objects.get().status == "pending"  # AWS is not configured in tests
        assert "AWS is not configured" in Revocation.objects.get().last_error

    def test_the_periodic_run_books_exactly_one_next_run(self, settings, worker):
        reconcile.schedule(delay=0)
        worker()
        waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
        assert waiting.count() == 1
        delay = (waiting.get().run_after - timezone.now()).total_seconds()
        assert settings.IVS_RECONCILE_SECONDS - 5 < delay <= settings.IVS_RECONCILE_SECONDS
        reconcile.schedule(delay=settings.IVS_RECONCILE_SECONDS)  # a second worker starting
        assert waiting.count() == 1

    def test_an_early_run_is_booked_once_however_many_writes_ask(self, alice, private_channel):
        for _ in range(3):
            reconcile.reconcile_soon()
        assert DBTaskResult.objects.ready().count() == 1

    def test_old_task_rows_are_pruned(self, settings, worker):
        reconcile.schedule(delay=0)
        worker()
        DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).update(
            finished_at=timezone.now() - timedelta(hours=settings.TASK_RESULTS_KEEP_HOURS + 1)
        )
        DBTaskResult.objects.filter(status=TaskResultStatus.READY).update(run_after=timezone.now())
        worker()
        assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == 1

    def test_a_delivery_backlog_is_handed_over_in_turns(self, alice, private_channel, monkeypatch):
        for version in range(3):
            revocation_row(channel=private_channel, viewer_id=f"v{version}", max_version=version, reason="revoked")
        monkeypatch.setattr(revocation, "DELIVERY_BUDGET_SECONDS", 0)
        revocation.deliver_revocations.call()
        assert DBTaskResult.objects.ready().filter(task_path=revocation.deliver_revocations.module_path).exists()

    def test_a_claimed_revocation_is_not_due_for_another_worker(self, private_channel):
        revocation_row(channel=private_channel, viewer_id="v1", max_version=1, reason="revoked")
        assert [r.viewer_id for r in revocation._claim(20)] == ["v1"]
        assert not Revocation.objects.due().exists()  # leased until the first worker reports back
        assert revocation._claim(20) == []


class TestTheAdminShowsTheBacklog:
    def test_a_stopped_worker_and_its_backlog_are_visible(self, admin_client, alice, private_channel):
        revocation_row(channel=private_channel, viewer_id=alice.viewer_id, max_version=1, reason="revoked")
        page = admin_client.get("/admin/viewers/revocation/").content.decode()
        assert "1 pending" in page
        assert "has not reconciled recently" in page

    def test_a_running_worker_is_reported_as_such(self, admin_client, worker):
        reconcile.schedule(delay=0)
        worker()
        page = admin_client.get("/admin/viewers/revocation/").content.decode()
        assert "Nothing pending" in page
        assert "last compared open sessions with the access rule" in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_queue_each_revocation_once(private_channel):
    for i in range(200):
        user = User.objects.create_user(f"v{i}")
        playing(user, private_channel)
    counts = []
    errors = run_at_once(2, lambda: counts.append(reconcile.reconcile()))
    assert errors == []
    assert sum(counts) == 200
    assert Revocation.objects.count() == Revocation.objects.values("viewer_id").distinct().count() == 200


def test_the_worker_survives_a_database_outage(monkeypatch):
    """db_worker's own loop exits on a database error; ivs_worker's waits and carries on."""
    from django.db import OperationalError

    from viewers.management.commands import ivs_worker

    runs = []

    def flaky_run(self):
        runs.append(1)
        assert len(runs) < 5, "the worker kept failing"
        if len(runs) == 1:
            raise OperationalError("connection refused")

    monkeypatch.setattr(ivs_worker.Worker, "run", flaky_run)
    monkeypatch.setattr(ivs_worker.reconcile, "schedule", lambda delay: None)
    monkeypatch.setattr(ivs_worker.connections, "close_all", lambda: None)
    monkeypatch.setattr(ivs_worker.time, "sleep", lambda seconds: None)
    worker = task_worker(ivs_worker.ResilientWorker, interval=0, batch=True, worker_id="t")
    worker.run()
    assert len(runs) == 2


@pytest.mark.parametrize(
    ("setting", "value", "code"),
    [
        ("IVS_RECONCILE_SECONDS", 0, "ivs.E050"),
        ("IVS_RECONCILE_SECONDS", 3600, "ivs.W050"),
        ("AWS_READ_TIMEOUT_SECONDS", 0, "ivs.E051"),
        ("AWS_CONNECT_TIMEOUT_SECONDS", 600, "ivs.E051"),
    ],
)
def test_bad_worker_settings_are_caught_at_start_up(settings, setting, value, code):
    setattr(settings, setting, value)
    assert [message.id for message in reconcile.check_reconcile_settings()] == [code]
