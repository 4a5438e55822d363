"""What many tests build or check: rows as the site writes them (for tests that need them without going through a
page), the cast's channel ARNs, users, the task worker, the "playback stopped" assertion and system-check
messages."""

from datetime import timedelta

from cryptography.hazmat.primitives import serialization
from django.core.checks import run_checks
from django.utils import timezone

from viewers.ivs import signing_keys
from viewers.models import Revocation, TokenAudit, User


def audit_row(user, channel, *, issued_at=None, ttl=timedelta(minutes=5), save=True, **fields) -> TokenAudit:
    """A token's audit row (a playback session) as viewers.player.playback writes it: with the ARN and name of the
    channel the token was signed for, and the fingerprint of the key that signed it. Unsaved with save=False
    (bulk_create)."""
    issued_at = issued_at or timezone.now()
    signed_for = {
        "channel_arn": channel.arn,
        "channel_name": channel.name,
        "key_fingerprint": signing_keys.signing_fingerprint(),
    }
    row = TokenAudit(user=user, channel=channel, issued_at=issued_at, expires_at=issued_at + ttl, **signed_for | fields)
    if save:
        row.save()
    return row


def revocation_row(*, channel, **fields) -> Revocation:
    """A queued revocation, addressed like viewers.revocation addresses it: to the channel's ARN."""
    return Revocation.objects.create(channel=channel, channel_arn=channel.arn, **fields)


# The cast's IVS channels (us-west-2) and a second region's (eu-west-1).
PRIVATE_ARN = "arn:aws:ivs:us-west-2:123456789012:channel/MainEvent01"
PUBLIC_ARN = "arn:aws:ivs:us-west-2:123456789012:channel/OpenLobby01"
HIDDEN_ARN = "arn:aws:ivs:us-west-2:123456789012:channel/Backstage01"
FINALS_ARN = "arn:aws:ivs:eu-west-1:123456789012:channel/Finals01"


def playback_url_for(arn: str, base="https://a1b2c3d4e5f6.us-west-2.playback.live-video.net") -> str:
    region, account, channel_id = arn.split(":")[3], arn.split(":")[4], arn.rsplit("/", 1)[1]
    return f"{base}/api/video/v1/{region}.{account}.channel.{channel_id}.m3u8"


def make_user(username, **extra):
    """A viewer with the password "password" and the e-mail <username>@example.com."""
    return User.objects.create_user(username, f"{username}@example.com", "password", **extra)


def make_invited(username):
    """A user as a bulk import invites one: inactive, with no password until the invitation's link sets one."""
    return User.objects.create_user(username, f"{username}@example.com", is_active=False)


def run_worker(max_tasks=100) -> int:
    """Run the task rows that are due, in order, as `manage.py ivs_worker` would, but in this thread and
    raising what a task raises. Returns how many ran."""
    from django_tasks_db.models import DBTaskResult

    ran = 0
    while ran < max_tasks:
        due = DBTaskResult.objects.ready().order_by("run_after", "enqueued_at").first()
        if due is None:
            return ran
        due.claim("tests")
        result = due.task_result
        due.set_successful(due.task.call(*result.args, **result.kwargs))
        ran += 1
    raise AssertionError(f"the worker still had tasks after {max_tasks}: a task keeps re-queueing itself")


def run_at_once(count, action, timeout=60) -> list:
    """Run `action` in `count` threads released together (real concurrency, each with its own database
    connection). Returns the exceptions they raised."""
    import threading

    from django.db import connection as thread_connection

    barrier = threading.Barrier(count)
    errors = []

    def run():
        try:
            barrier.wait()
            action()
        except Exception as exc:  # returned to the test
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return errors


def task_worker(worker_class=None, **options):
    """django-tasks-db's worker (or `worker_class`, a subclass) on the default queue, as `manage.py ivs_worker`
    starts it, without the start-up delay; `options` override (interval, batch, worker_id…)."""
    if worker_class is None:
        from django_tasks_db.management.commands.db_worker import Worker as worker_class
    defaults = {
        "queue_names": ["default"],
        "interval": 0.2,
        "batch": False,
        "backend_name": "default",
        "startup_delay": False,
        "max_tasks": None,
        "worker_id": "tests",
        "excluded_queue_names": [],
    }
    return worker_class(**defaults | options)


def assert_playback_stopped(page, *, watch_ms=2_000):
    """The page's video does not advance (by more than half a second) over `watch_ms`: IVS ended the session, so
    the player has nothing left to play. A paused or frozen frame is all a viewer may still see."""
    stopped_at = page.evaluate("document.querySelector('video').currentTime")
    page.wait_for_timeout(watch_ms)
    advanced = page.evaluate("document.querySelector('video').currentTime") - stopped_at
    assert advanced < 0.5, f"the video went on playing for {advanced:.1f} s after access was withdrawn"


def pem_of(key) -> str:
    """A private key as the PEM text IVS_PLAYBACK_PRIVATE_KEY holds (PKCS#8, unencrypted)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def ivs_messages():
    """The start-up checks' messages about viewers (localivs registers checks under the same tag)."""
    return [m for m in run_checks(tags=["ivs"]) if m.id.startswith("ivs.")]


def check_ids(messages):
    return sorted(m.id for m in messages)


def the_one(messages, check_id):
    found = [m for m in messages if m.id == check_id]
    assert len(found) == 1, f"expected one {check_id}, got {check_ids(messages)}"
    return found[0]


def playing(user, channel, *, resolution="", issued_at=None) -> TokenAudit:
    """An open playback session of `user` on `channel`, as the player page records it (revocable: with a viewer id)."""
    issued_at = issued_at or timezone.now()
    return audit_row(user, channel, viewer_id=user.viewer_id, max_resolution=resolution, issued_at=issued_at)


def watch(viewer, slug="main-event", *, client=None) -> int:
    """`viewer` opens a channel's player page (in `client`, else a fresh browser): one token signed with the
    configured key, recorded in the audit. Returns the playback session (the audit row's id, the token's
    session version)."""
    from django.test import Client

    client = client or Client()
    client.force_login(viewer)
    assert client.get(f"/channels/{slug}/").status_code == 200
    return TokenAudit.objects.filter(user=viewer).latest("pk").pk


def expect_single(ivs, user, version):
    """The Stubbed IVS client `ivs` expects one StartViewerSessionRevocation: `user`'s sessions on the Main Event
    up to `version`."""
    ivs.add_response(
        "start_viewer_session_revocation",
        {},
        {"channelArn": PRIVATE_ARN, "viewerId": user.viewer_id, "viewerSessionVersionsLessThanOrEqualTo": version},
    )


def viewed(session, *, seconds=60, ip=None, first=None, last=None, left=False):
    """What the fold would have written for `session` (a TokenAudit row) after its heartbeats."""
    from viewers.models import Viewing

    last = last or timezone.now()
    return Viewing.objects.create(
        session=session,
        channel_id=session.channel_id,
        user_id=session.user_id,
        first_seen_at=first or last - timedelta(seconds=seconds),
        last_seen_at=last,
        seconds_watched=seconds,
        last_ip=ip,
        left_at=last if left else None,
    )
