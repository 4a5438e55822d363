"""Stopping playback that has already started.

IVS checks a token only when playback starts, so withdrawing access must also tell IVS to stop the
sessions already running: StartViewerSessionRevocation(channel, viewer id, versions <= N). A
session's version is its TokenAudit id, so "through N" stops one session and every older one.

Every revocation is first written down as a Revocation row, in the same transaction as the change
that caused it, together with a task row for the worker (`manage.py ivs_worker`), which delivers it
through boto3: to AWS, or in the demo to the local origin's copy of the IVS API (AWS_ENDPOINT_URL_IVS).
Requests never call AWS. What cannot be delivered now (AWS unreachable, throttled) stays pending and
the worker's periodic run picks it up when it is due; `manage.py ivs_sync_revocations` is a manual tool.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from viewers import validators
from viewers.ivs import aws
from viewers.models import Revocation, RevocationKind, RevocationStatus, SessionEnd, TokenAudit

logger = logging.getLogger(__name__)

BATCH_SIZE = 20  # BatchStartViewerSessionRevocation's limit
BATCH_INTERVAL = 0.5  # about 2 batch calls a second
SINGLE_INTERVAL = 0.1  # about 10 single calls a second
DISCONNECT_INTERVAL = 0.02  # 20 disconnects of a batch in 0.4 s, then BATCH_INTERVAL: about 20 a second
THROTTLE_RETRIES = 3
MAX_ATTEMPTS = 12
CLAIM_LEASE_SECONDS = 120  # longer than a batch's calls with boto3's timeouts and retries
DELIVERY_BUDGET_SECONDS = 20  # one delivery turn; the rest is handed to the next task
PERMANENT_ERRORS = {"ValidationException", "ResourceNotFoundException", "AccessDeniedException"}


def watching(channels, now=None) -> dict:
    """Who may still be watching `channels`: their open sessions, and the distinct viewers behind them."""
    return (
        TokenAudit.objects.open(now)
        .filter(channel__in=channels)
        .aggregate(sessions=Count("pk"), viewers=Count("viewer_id", distinct=True))
    )


def revoke_sessions(*, user_id, channel, reason, through_version=None) -> int:
    """End a viewer's open sessions on a channel (up to through_version) and queue the IVS call."""
    sessions = TokenAudit.objects.open().filter(user_id=user_id, channel=channel)
    if through_version is not None:
        sessions = sessions.filter(pk__lte=through_version)
    return end_and_queue(sessions, reason=reason)


def stop_watching(*, user, channel) -> int:
    """An operator's "stop watching" (the channel's live page): end the viewer's open sessions on the channel now.
    Ended as stopped, so the player's automatic retry is refused (views.channel_playback) rather than handed a
    fresh token; a reload may watch again while the viewer still has access."""
    return end_and_queue(TokenAudit.objects.open().filter(user=user, channel=channel), reason=SessionEnd.STOPPED)


def end_and_queue(sessions, *, reason, now=None) -> int:
    """End `sessions` and queue one revocation per (channel ARN, viewer), through that viewer's newest version there.

    Each revocation goes to the ARN the sessions' tokens were signed for, as recorded in their audit rows: a
    channel re-pointed to another ARN, or deleted, leaves its sessions playing on the old one at IVS.

    The rows are claimed first (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite runs one write transaction at
    a time), so two workers, or a worker and a request, never end the same session twice or queue it twice. Only
    the sessions being ended are read, in bounded chunks: the cost follows what is revoked, not the audience.
    """
    now = now or timezone.now()
    with transaction.atomic():
        claimed = list(
            sessions.select_for_update(of=("self",), skip_locked=True)
            .exclude(viewer_id="")
            .values_list("pk", "channel_arn", "viewer_id", "channel_id")
        )
        if not claimed:
            return 0
        # Bounded IN lists (SQLite allows 32,766 parameters): one UPDATE for up to 10,000 sessions.
        for start in range(0, len(claimed), 10_000):
            chunk = [pk for pk, *_ in claimed[start : start + 10_000]]
            TokenAudit.objects.filter(pk__in=chunk).update(ended_at=now, end_reason=reason)
        newest: dict[tuple[str, str], tuple[int, int | None]] = {}
        for pk, channel_arn, viewer_id, channel_id in claimed:
            if pk > newest.get((channel_arn, viewer_id), (0, None))[0]:
                newest[channel_arn, viewer_id] = (pk, channel_id)
        Revocation.objects.bulk_create(
            Revocation(
                channel_id=channel_id, channel_arn=channel_arn, viewer_id=viewer_id, max_version=version, reason=reason
            )
            for (channel_arn, viewer_id), (version, channel_id) in sorted(newest.items(), key=lambda item: item[1][0])
        )
        deliver_soon()
    return len(newest)


def deliver_soon():
    """Ask the worker to deliver what is due. Only a row is written: no request waits for AWS.

    Written in the caller's transaction, so the task exists exactly when the revocations it is for do.
    """
    if not DBTaskResult.objects.ready().filter(task_path=deliver_revocations.module_path).exists():
        deliver_revocations.enqueue()


@task()
def deliver_revocations():
    """The worker's delivery task: send due revocations for up to DELIVERY_BUDGET_SECONDS, then hand over.

    Throttling pauses happen here, in the worker, and a large backlog is cut into turns so the periodic
    reconciliation (a task on the same queue) is never starved behind it.
    """
    report = deliver_pending(deadline=time.monotonic() + DELIVERY_BUDGET_SECONDS)
    if report.more:
        deliver_revocations.enqueue()
    return {"delivered": report.delivered, "pending": report.pending, "failed": report.failed}


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    more: bool = False  # due revocations were left for the next turn
    errors: list[str] = field(default_factory=list)


def deliver_pending(
    *, limit=1000, deadline=None, throttle_retries=THROTTLE_RETRIES, sleep=time.sleep, now=None
) -> DeliveryReport:
    """Send due revocations to IVS through boto3, BATCH_SIZE at a time, paced to IVS's rate limits.

    Stops after `limit` rows or at `deadline` (time.monotonic()). Each batch is claimed before it is sent (see
    _claim), so several workers on several machines deliver each revocation once.
    """
    report = DeliveryReport()
    sent = 0
    while sent < limit:
        if deadline is not None and time.monotonic() >= deadline:
            report.more = Revocation.objects.due(now).exists()
            break
        batch = _claim(min(BATCH_SIZE, limit - sent), now)
        if not batch:
            break
        if sent:
            sleep(BATCH_INTERVAL if len(batch) > 1 else SINGLE_INTERVAL)
        _deliver(batch, report, throttle_retries=throttle_retries, sleep=sleep)
        sent += len(batch)
    else:
        report.more = Revocation.objects.due(now).exists()
    return report


def _claim(size, now=None) -> list[Revocation]:
    """Take up to `size` due revocations for this worker: lock them (SKIP LOCKED, so concurrent workers take
    different rows) and push their next attempt a lease ahead, then commit before calling AWS.

    No transaction stays open across the network call: on SQLite it would hold the database's only write lock
    while the demo's local IVS API, in the same database, waits for it. A worker that dies mid-call leaves its
    rows to come due again when the lease ends; a revocation delivered twice is harmless at IVS.
    """
    with transaction.atomic():
        batch = list(
            Revocation.objects.due(now).select_for_update(of=("self",), skip_locked=True).order_by("pk")[:size]
        )
        lease_ends = timezone.now() + timedelta(seconds=CLAIM_LEASE_SECONDS)
        Revocation.objects.filter(pk__in=[revocation.pk for revocation in batch]).update(next_attempt_at=lease_ends)
    return batch


def _deliver(batch, report, *, throttle_retries, sleep):
    if not aws.aws_configured():
        for revocation in batch:
            _retry_later(revocation, "AWS is not configured (set AWS_REGION); kept for later", report)
        return
    by_region: dict[tuple[str, str], list] = {}
    for revocation in batch:
        # A channel ARN without a region falls back to AWS_REGION in ivs_client().
        key = (revocation.kind, validators.region_of_arn(revocation.channel_arn))
        by_region.setdefault(key, []).append(revocation)
    for (kind, region), revocations in by_region.items():
        if kind == RevocationKind.CHAT:
            _send_disconnects(aws.ivschat_client(region), revocations, report, throttle_retries, sleep)
        else:
            _send_chunk(aws.ivs_client(region), revocations, report, throttle_retries=throttle_retries, sleep=sleep)


def _send_disconnects(client, revocations, report, throttle_retries, sleep):
    """IVS Chat's DisconnectUser, one call per (room, viewer): it has no batch form. Paced at DISCONNECT_INTERVAL,
    well inside its 100 calls a second (shared with the moderators' own disconnects in the chat); each call is
    retried and judged as a playback batch is (_send_chunk)."""
    for index, revocation in enumerate(revocations):
        if index:
            sleep(DISCONNECT_INTERVAL)
        _send_chunk(client, [revocation], report, throttle_retries=throttle_retries, sleep=sleep, call=_disconnect)


def _disconnect(client, chunk) -> list[dict]:
    (revocation,) = chunk
    client.disconnect_user(
        roomIdentifier=revocation.channel_arn, userId=revocation.viewer_id, reason=revocation.get_reason_display()
    )
    return []


def _send_chunk(client, chunk, report, *, throttle_retries, sleep, call=None):
    for attempt in range(throttle_retries + 1):
        try:
            errors = (call or _call)(client, chunk)
        except ClientError as exc:
            code = aws.error_code(exc)
            if code == "ThrottlingException" and attempt < throttle_retries:
                sleep(BATCH_INTERVAL * 2**attempt)
                continue
            message = aws.describe_error(exc)
            for revocation in chunk:
                if code in PERMANENT_ERRORS:
                    _fail(revocation, message, report)
                else:
                    _retry_later(revocation, message, report)
            return
        except BotoCoreError as exc:  # unreachable endpoint, no credentials, timeouts
            for revocation in chunk:
                _retry_later(revocation, f"{type(exc).__name__}: {exc}", report)
            return
        failed = {(e["channelArn"], e["viewerId"]): e for e in errors}
        for revocation in chunk:
            error = failed.get((revocation.channel_arn, revocation.viewer_id))
            if error is None:
                _mark_done(revocation, report)
            elif error.get("code") in PERMANENT_ERRORS:
                _fail(revocation, f"{error.get('code')}: {error.get('message', '')}", report)
            else:
                _retry_later(revocation, f"{error.get('code')}: {error.get('message', '')}", report)
        return


def _call(client, chunk) -> list[dict]:
    if len(chunk) == 1:
        revocation = chunk[0]
        client.start_viewer_session_revocation(
            channelArn=revocation.channel_arn,
            viewerId=revocation.viewer_id,
            viewerSessionVersionsLessThanOrEqualTo=revocation.max_version,
        )
        return []
    response = client.batch_start_viewer_session_revocation(
        viewerSessions=[
            {
                "channelArn": revocation.channel_arn,
                "viewerId": revocation.viewer_id,
                "viewerSessionVersionsLessThanOrEqualTo": revocation.max_version,
            }
            for revocation in chunk
        ]
    )
    return response.get("errors", [])


def _mark_done(revocation, report):
    revocation.status = RevocationStatus.DONE
    revocation.delivered_at = timezone.now()
    revocation.attempts += 1
    revocation.last_error = ""
    revocation.save(update_fields=["status", "delivered_at", "attempts", "last_error"])
    report.delivered += 1


def _retry_later(revocation, message, report):
    revocation.attempts += 1
    revocation.last_error = message[:500]
    if revocation.attempts >= MAX_ATTEMPTS:
        revocation.status = RevocationStatus.FAILED
        report.failed += 1
    else:
        # 30 s, 1 min, 2 min … capped at an hour.
        delay = min(30 * 2 ** (revocation.attempts - 1), 3600)
        revocation.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        report.pending += 1
    revocation.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
    report.errors.append(message)
    logger.warning("revocation %s not delivered: %s", revocation.pk, message)


def _fail(revocation, message, report):
    revocation.attempts += 1
    revocation.status = RevocationStatus.FAILED
    revocation.last_error = message[:500]
    revocation.save(update_fields=["attempts", "status", "last_error"])
    report.failed += 1
    report.errors.append(message)
    logger.error("revocation %s failed: %s", revocation.pk, message)


def retry(revocations) -> int:
    """Admin action: put failed or waiting revocations back in the queue, due now."""
    with transaction.atomic():
        count = revocations.exclude(status=RevocationStatus.DONE).update(
            status=RevocationStatus.PENDING, next_attempt_at=timezone.now()
        )
        if count:
            deliver_soon()
    return count
