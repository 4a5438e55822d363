"""The reconciler as the worker runs it: idempotent, once per period, its backlog in the admin, safe when two runs
race, alive through a database outage, and its settings checked at start-up."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests.factories import playing, revocation_row, run_at_once, task_worker
from viewers import reconcile, revocation, services
from viewers.models import Entitlement, Revocation, User

pytestmark = pytest.mark.django_db


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
        # One anti-join for playback and one for chat (and the savepoint around each, as this test runs inside a
        # transaction); nobody lost access.
        with django_assert_num_queries(6):
            reconcile.reconcile()
        Entitlement.objects.update(revoked_at=timezone.now())
        # Also: one update, one insert of revocations, then look for and enqueue the delivery task.
        with django_assert_num_queries(10):
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
