"""The worker's fold: heartbeats become Viewing rows, checked against their sessions' owners, and nothing is lost
or counted twice when a fold dies half-way."""

import time

import pytest

from tests.factories import make_user, playing
from viewers.attendance import fold
from viewers.attendance.store import Beat
from viewers.models import PendingHeartbeat, Viewing

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["database", "redis"])
def store(request):
    return request.getfixturevalue(f"{request.param}_store")


def test_beats_become_one_row_per_session(store, alice, private_channel):
    session = playing(alice, private_channel)
    start = time.time()
    store.record(Beat(session.pk, alice.pk, 60, start, "192.0.2.1"))
    store.record(Beat(session.pk, alice.pk, 60, start + 60, "192.0.2.9"))
    assert fold.fold(store) == 1
    row = Viewing.objects.get()
    assert (row.session_id, row.channel_id, row.user_id) == (session.pk, private_channel.pk, alice.pk)
    assert row.seconds_watched == 60 + 60
    assert row.first_seen_at.timestamp() == pytest.approx(start, abs=0.01)
    assert row.last_seen_at.timestamp() == pytest.approx(start + 60, abs=0.01)
    assert row.last_ip == "192.0.2.9"
    assert row.left_at is None


def test_later_folds_add_to_the_row(store, alice, private_channel):
    session = playing(alice, private_channel)
    start = time.time()
    store.record(Beat(session.pk, alice.pk, 60, start, "192.0.2.1"))
    fold.fold(store)
    store.record(Beat(session.pk, alice.pk, 30, start + 60, None))
    fold.fold(store)
    row = Viewing.objects.get()
    assert row.seconds_watched == 90
    assert row.last_ip == "192.0.2.1"  # a beat without an address keeps the last one
    assert fold.fold(store) == 0  # nothing left: a fold never counts twice
    assert Viewing.objects.get().seconds_watched == 90


def test_the_pagehide_beat_marks_the_session_left_and_a_later_beat_clears_it(store, alice, private_channel):
    session = playing(alice, private_channel)
    start = time.time()
    store.record(Beat(session.pk, alice.pk, 60, start, None))
    store.record(Beat(session.pk, alice.pk, 10, start + 70, None, final=True))
    fold.fold(store)
    assert Viewing.objects.get().left_at.timestamp() == pytest.approx(start + 70, abs=0.01)
    store.record(Beat(session.pk, alice.pk, 60, start + 200, None))  # back from the back/forward cache
    fold.fold(store)
    assert Viewing.objects.get().left_at is None


def test_a_beat_for_another_users_session_is_dropped(store, alice, private_channel):
    mallory = make_user("mallory")
    session = playing(alice, private_channel)
    store.record(Beat(session.pk, mallory.pk, 60, time.time(), "203.0.113.5"))
    store.record(Beat(987654, alice.pk, 60, time.time(), None))  # no such session
    fold.fold(store)
    assert not Viewing.objects.exists()
    assert not PendingHeartbeat.objects.exists()  # dropped, not kept for ever


def test_a_player_cannot_claim_more_than_the_time_between_its_beats(store, alice, private_channel, settings):
    session = playing(alice, private_channel)
    now = time.time()
    for _ in range(10):  # ten beats in the same second, each claiming two periods
        store.record(Beat(session.pk, alice.pk, 2 * settings.IVS_HEARTBEAT_SECONDS, now, None))
    fold.fold(store)
    assert Viewing.objects.get().seconds_watched == settings.IVS_HEARTBEAT_SECONDS


def test_a_fold_that_dies_loses_nothing_and_counts_nothing_twice(redis_store, alice, private_channel, monkeypatch):
    session = playing(alice, private_channel)
    redis_store.record(Beat(session.pk, alice.pk, 60, time.time(), None))

    def dies(sessions):
        raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        redis_store.fold(dies)
    redis_store.record(Beat(session.pk, alice.pk, 60, time.time() + 60, None))  # arrives meanwhile
    fold.fold(redis_store)
    assert Viewing.objects.get().seconds_watched == 120
    assert not redis_store.client.exists(redis_store.pending, redis_store.folding, redis_store.lock)


def test_a_second_worker_does_not_fold_while_the_first_does(redis_store, alice, private_channel):
    session = playing(alice, private_channel)
    redis_store.record(Beat(session.pk, alice.pk, 60, time.time(), None))
    redis_store.client.set(redis_store.lock, "1")  # the other worker's lock
    assert fold.fold(redis_store) == 0
    redis_store.client.delete(redis_store.lock)
    assert fold.fold(redis_store) == 1


def test_many_sessions_fold_in_batches(database_store, private_channel, django_assert_max_num_queries):
    users = [make_user(f"viewer{i}") for i in range(30)]
    sessions = [playing(user, private_channel) for user in users]
    for user, session in zip(users, sessions, strict=True):
        database_store.record(Beat(session.pk, user.pk, 60, time.time(), None))
    with django_assert_max_num_queries(12):
        fold.fold(database_store)
    assert Viewing.objects.count() == 30


def test_the_periodic_fold_books_its_next_run(database_store, settings):
    from django_tasks_db.models import DBTaskResult

    settings.IVS_HEARTBEAT_SECONDS = 60
    fold.fold_periodically.call()
    booked = DBTaskResult.objects.get(task_path=fold.fold_periodically.module_path)
    assert 25 < (booked.run_after - booked.enqueued_at).total_seconds() <= 31


@pytest.mark.parametrize(
    ("seconds", "redis_url", "debug", "expected"),
    [
        (60, "redis://127.0.0.1:6379/0", False, []),
        (1, "redis://127.0.0.1:6379/0", False, ["ivs.E070"]),
        (601, "redis://127.0.0.1:6379/0", False, ["ivs.E070"]),
        (60, "", False, ["ivs.W070"]),
        (60, "", True, []),  # the embedded default: one process, a table is fine
    ],
)
def test_the_start_up_check_says_what_is_wrong(settings, seconds, redis_url, debug, expected):
    settings.IVS_HEARTBEAT_SECONDS, settings.IVS_HEARTBEAT_REDIS_URL, settings.DEBUG = seconds, redis_url, debug
    assert [message.id for message in fold.check_heartbeat_settings()] == expected
