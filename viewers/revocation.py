"""Stopping playback that has already started.

IVS checks a token only when playback starts, so withdrawing access must also tell IVS to stop the
sessions already running: StartViewerSessionRevocation(channel, viewer id, versions <= N). A
session's version is its TokenAudit id, so "through N" stops one session and every older one.

Every revocation is first written down as a Revocation row, in the same transaction as the change
that caused it, then delivered after commit. What cannot be delivered now (AWS unreachable,
throttled) stays pending for `manage.py ivs_sync_revocations`.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from viewers import access, aws
from viewers.models import Channel, Revocation, RevocationStatus, SessionEnd, TokenAudit

logger = logging.getLogger(__name__)

BATCH_SIZE = 20  # BatchStartViewerSessionRevocation's limit
BATCH_INTERVAL = 0.5  # about 2 batch calls a second
SINGLE_INTERVAL = 0.1  # about 10 single calls a second
THROTTLE_RETRIES = 3
MAX_ATTEMPTS = 12
PERMANENT_ERRORS = {"ValidationException", "ResourceNotFoundException", "AccessDeniedException"}


def open_sessions(now=None):
    """Sessions that may still be playing: not ended, and started within IVS's longest broadcast."""
    now = now or timezone.now()
    horizon = now - timedelta(hours=settings.IVS_SESSION_MAX_HOURS)
    return TokenAudit.objects.filter(ended_at__isnull=True, issued_at__gte=horizon).exclude(viewer_id="")


def end_sessions_without_access(*, user_ids=None, channel_ids=None, reason=SessionEnd.REVOKED) -> int:
    """After access changed: stop the open sessions of viewers the access rule no longer lets in.

    Narrow the search with user_ids and/or channel_ids. Returns how many revocations were queued.
    """
    sessions = open_sessions()
    if user_ids is not None:
        sessions = sessions.filter(user_id__in=user_ids)
    if channel_ids is not None:
        sessions = sessions.filter(channel_id__in=channel_ids)
    pairs = sessions.values("channel_id", "user_id").distinct()
    by_channel: dict[int, set[int]] = {}
    for pair in pairs:
        by_channel.setdefault(pair["channel_id"], set()).add(pair["user_id"])
    queued = 0
    for channel in Channel.objects.filter(pk__in=by_channel):
        denied = by_channel[channel.pk] - access.users_who_may_watch(channel, by_channel[channel.pk])
        if denied:
            queued += _end(open_sessions().filter(channel=channel, user_id__in=denied), channel, reason)
    return queued


def revoke_sessions(*, user_id, channel, reason, through_version=None) -> int:
    """End a viewer's open sessions on a channel (up to through_version) and queue the IVS call."""
    sessions = open_sessions().filter(user_id=user_id, channel=channel)
    if through_version is not None:
        sessions = sessions.filter(pk__lte=through_version)
    return _end(sessions, channel, reason)


def _end(sessions, channel, reason) -> int:
    """End `sessions` (all on `channel`) and queue one revocation per viewer, through their newest version.

    Three queries however many viewers: a group of thousands is revoked as cheaply as one person.
    """
    newest = list(sessions.order_by().values("viewer_id").annotate(newest=Max("pk")).order_by("newest"))
    if not newest:
        return 0
    sessions.update(ended_at=timezone.now(), end_reason=reason)
    Revocation.objects.bulk_create(
        Revocation(channel=channel, viewer_id=row["viewer_id"], max_version=row["newest"], reason=reason)
        for row in newest
    )
    transaction.on_commit(deliver_soon)
    return len(newest)


def deliver_soon():
    """Right after the change commits, one quick attempt; the cron command does the rest."""
    try:
        deliver_pending(limit=BATCH_SIZE * 2, throttle_retries=0)
    except Exception:  # never fail the admin's request over delivery; the row stays pending
        logger.exception("revocation delivery failed; ivs_sync_revocations will retry")


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)


def deliver_pending(*, limit=1000, throttle_retries=THROTTLE_RETRIES, sleep=time.sleep, now=None) -> DeliveryReport:
    """Send due revocations to IVS (or to the local origin when AWS is not configured)."""
    now = now or timezone.now()
    due = list(
        Revocation.objects.filter(status=RevocationStatus.PENDING, next_attempt_at__lte=now)
        .select_related("channel")
        .order_by("pk")[:limit]
    )
    report = DeliveryReport()
    if not due:
        return report
    if aws.aws_configured():
        _deliver_to_ivs(due, report, throttle_retries=throttle_retries, sleep=sleep)
    elif apps.is_installed("localivs"):
        _deliver_locally(due, report)
    else:
        for revocation in due:
            _retry_later(revocation, "AWS is not configured (set AWS_REGION); kept for later", report)
    return report


def _deliver_locally(due, report):
    from localivs import state

    for revocation in due:
        state.start_viewer_session_revocation(revocation.channel.arn, revocation.viewer_id, revocation.max_version)
        _mark_done(revocation, report)


def _deliver_to_ivs(due, report, *, throttle_retries, sleep):
    client = aws.ivs_client()
    for start in range(0, len(due), BATCH_SIZE):
        chunk = due[start : start + BATCH_SIZE]
        if start:
            sleep(BATCH_INTERVAL if len(chunk) > 1 else SINGLE_INTERVAL)
        _send_chunk(client, chunk, report, throttle_retries=throttle_retries, sleep=sleep)


def _send_chunk(client, chunk, report, *, throttle_retries, sleep):
    for attempt in range(throttle_retries + 1):
        try:
            errors = _call(client, chunk)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ThrottlingException" and attempt < throttle_retries:
                sleep(BATCH_INTERVAL * 2**attempt)
                continue
            message = f"{code}: {exc.response.get('Error', {}).get('Message', '')}"
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
            error = failed.get((revocation.channel.arn, revocation.viewer_id))
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
            channelArn=revocation.channel.arn,
            viewerId=revocation.viewer_id,
            viewerSessionVersionsLessThanOrEqualTo=revocation.max_version,
        )
        return []
    response = client.batch_start_viewer_session_revocation(
        viewerSessions=[
            {
                "channelArn": revocation.channel.arn,
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
    count = revocations.exclude(status=RevocationStatus.DONE).update(
        status=RevocationStatus.PENDING, next_attempt_at=timezone.now()
    )
    transaction.on_commit(deliver_soon)
    return count


def end_sessions_for_entitlements(entitlement_ids) -> int:
    """After entitlements were revoked, ended or moved: stop the viewers they no longer cover."""
    from django.contrib.auth.models import Group

    from viewers.models import Entitlement, User

    rows = list(Entitlement.objects.filter(pk__in=list(entitlement_ids)).values("channel_id", "user_id", "group_id"))
    if not rows:
        return 0
    user_ids = {row["user_id"] for row in rows if row["user_id"]}
    group_ids = {row["group_id"] for row in rows if row["group_id"]}
    if group_ids:
        members = User.groups.through.objects.filter(group__in=Group.objects.filter(pk__in=group_ids))
        user_ids |= set(members.values_list("user_id", flat=True))
    return end_sessions_without_access(user_ids=user_ids, channel_ids={row["channel_id"] for row in rows})


def revoke_all_sessions(user_id, reason=SessionEnd.REVOKED) -> int:
    """Stop every open session of a viewer, whatever the access rule says (the account is going away)."""
    channel_ids = set(open_sessions().filter(user_id=user_id).values_list("channel_id", flat=True))
    return sum(
        revoke_sessions(user_id=user_id, channel=channel, reason=reason)
        for channel in Channel.objects.filter(pk__in=channel_ids)
    )
