"""Level-triggered withdrawal: make the open playback sessions agree with the access rule.

IVS checks a token only when playback starts, so a viewer who lost access keeps watching until IVS is told to
revoke the session. Hooks on the write paths we know (admin actions, signals) cannot cover the ones we do not
(a group deleted, an entitlement moved to someone else, a window that simply ends, a bulk UPDATE from a script).
So the worker runs `reconcile()` every IVS_RECONCILE_SECONDS: it compares every open session with the rule as it
stands now and ends, and queues a revocation for, each one the rule no longer allows. The same holds for the
configuration: a channel deleted, made public or re-pointed to another ARN by any path ends its sessions. The hooks
only ask for an early run (reconcile_soon); the guarantee is this function.

Set-based on purpose: one SELECT, an anti-join of open sessions against the entitlements that cover them, finds
the sessions to end; only those are then touched (revocation.end_and_queue). When nobody lost access that is the
same one query for ten sessions or a million, and no IN (…) list grows with the audience.
"""

from datetime import timedelta

from django.conf import settings
from django.core import checks
from django.db.models import CharField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from viewers import periodic, resolutions
from viewers.chat import rooms as chat_rooms
from viewers.chat import withdrawal as chat_withdrawal
from viewers.models import ChatRoom, Entitlement, Revocation, SessionEnd, TokenAudit
from viewers.revocation import deliver_soon, end_and_queue


def _covers_session_resolution() -> Q:
    """An entitlement allows at least the resolution the outer session's token was minted for."""
    return Q(
        *[Q(session_resolution=level, max_resolution__in=resolutions.at_least(level)) for level in resolutions.LADDER],
        _connector=Q.OR,
    )


def sessions_without_access(now):
    """Open sessions that nothing lets play on any more: their viewer lost access, or their channel changed.

    The set form of access.decide(): the viewer is gone or inactive, or holds no current entitlement on the
    session's channel, directly or through a group, that allows the resolution the token carried. A narrowed
    entitlement (HD → SD) therefore ends the HD session; the player's one retry gets an SD token.

    And the configuration's half: a session whose channel was deleted, made public, or re-pointed to another ARN
    is ended too. IVS keeps playing the ARN the token was signed for whatever the site forgets, and only the
    session's own audit row still knows it (channel_arn). The player's retry then finds the channel gone, or
    gets a token (or a public URL) for the channel as it is now.
    """
    covering = (
        Entitlement.objects.current(now)
        .filter(channel_id=OuterRef("channel_id"))
        .annotate(session_resolution=ExpressionWrapper(OuterRef("max_resolution"), output_field=CharField()))
        .filter(_covers_session_resolution())
    )
    held_directly, held_through_group = covering.held_by_outer_user("user_id")
    channel_changed = Q(channel__isnull=True) | Q(channel__is_private=False) | ~Q(channel__arn=F("channel_arn"))
    access_lost = (
        Q(user__isnull=True) | Q(user__is_active=False) | (~Exists(held_directly) & ~Exists(held_through_group))
    )
    return TokenAudit.objects.open(now).filter(channel_changed | access_lost)


def reconcile(now=None) -> int:
    """End every open session the access rule no longer allows and queue its revocation, and the same for chat
    (viewers/chat/withdrawal.py: withdrawal leaves the chat too). Returns how many revocations (one per channel and
    viewer) and chat disconnects (one per room and viewer) were queued. Idempotent: ended sessions are no longer
    open."""
    now = now or timezone.now()
    queued = end_and_queue(sessions_without_access(now), reason=SessionEnd.REVOKED, now=now)
    return queued + chat_withdrawal.reconcile(now)


@task()
def reconcile_periodically():
    """The worker's periodic task: reconcile, hand due deliveries (retries included) over, tidy up.

    It books its own next run before doing anything, so an error below never ends the cycle; a worker killed
    mid-run is covered by `ivs_worker`, which books a run when it starts.
    """
    schedule(delay=settings.IVS_RECONCILE_SECONDS)
    queued = reconcile()
    if Revocation.objects.due().exists():
        deliver_soon()
    if ChatRoom.objects.due().exists():
        chat_rooms.sync_soon()
    DBTaskResult.objects.finished().filter(
        finished_at__lt=timezone.now() - timedelta(hours=settings.TASK_RESULTS_KEEP_HOURS)
    ).delete()
    return {"queued": queued}


def schedule(*, delay: float = 0) -> None:
    """Book a reconciliation `delay` seconds from now, unless one is already waiting (there is one cycle)."""
    periodic.book(reconcile_periodically, delay=delay)


def reconcile_soon() -> None:
    """A write path that withdrew access asks for an early run; the periodic one would find it anyway."""
    schedule(delay=0)


def last_run():
    """When the worker last finished a reconciliation (None: never, or the worker is not running)."""
    return (
        DBTaskResult.objects.successful()
        .filter(task_path=reconcile_periodically.module_path)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )


@checks.register(checks.Tags.compatibility)
def check_reconcile_settings(app_configs=None, **kwargs):
    """The guarantee's period and the AWS timeouts must be usable numbers: say so at start-up, not in the worker."""
    errors = []
    if settings.IVS_RECONCILE_SECONDS < 1:
        errors.append(checks.Error("IVS_RECONCILE_SECONDS must be at least 1.", id="ivs.E050"))
    elif settings.IVS_RECONCILE_SECONDS > 300:
        errors.append(
            checks.Warning(
                f"IVS_RECONCILE_SECONDS={settings.IVS_RECONCILE_SECONDS}: withdrawn access may keep playing that long.",
                id="ivs.W050",
            )
        )
    for name in ("AWS_CONNECT_TIMEOUT_SECONDS", "AWS_READ_TIMEOUT_SECONDS"):
        if not 0 < getattr(settings, name) <= 60:
            errors.append(checks.Error(f"{name} must be between 0 and 60 seconds.", id="ivs.E051"))
    return errors
