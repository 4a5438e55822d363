"""Withdrawal leaves the chat too: the chat half of the reconciler (viewers/reconcile.py).

IVS Chat checks a token once, when the viewer connects; a viewer who lost access keeps chatting until their session
ends (up to three hours) unless IVS is told to DisconnectUser. So every reconciliation compares the open chat
sessions (ChatSession) with the access rule, the bans and the configuration as they stand now, ends those none of
them allows any more, and queues one disconnect per (room, viewer) on the revocation queue (viewers/revocation.py),
which delivers it paced and retried like a playback revocation. Set-based, like the playback half: one SELECT finds
the sessions to end, whatever the audience.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Case, CharField, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone

from viewers.models import ChatBan, ChatEnd, ChatSession, Entitlement, Revocation, RevocationKind, SessionEnd, User
from viewers.revocation import deliver_soon


def holds_moderation(user_field: str = "user_id", prefix: str = "user__") -> Q:
    """The user in `user_field` holds viewers.moderate_chat: directly, through a group, or as a superuser. The one
    place the moderator rule is written (the chat token, the player page and this reconciler use it)."""
    permission = Permission.objects.filter(content_type__app_label="viewers", codename="moderate_chat")
    direct = User.user_permissions.through.objects.filter(user_id=OuterRef(user_field), permission__in=permission)
    through_group = Group.permissions.through.objects.filter(
        permission__in=permission, group__user=OuterRef(user_field)
    )
    return Q(**{f"{prefix}is_superuser": True}) | Exists(direct) | Exists(through_group)


def chat_sessions_to_end(now):
    """Open chat sessions nothing lets stay, each annotated with why it must end (`why`, a ChatEnd):

    - changed: the channel was deleted, its chat room unlinked, or re-pointed to another room ARN (IVS keeps the
      old room's connections; only the session's own row still knows which room it was);
    - banned: a moderator removed the viewer from this channel's chat;
    - revoked: the viewer is gone or inactive, holds no current entitlement on a private channel (directly or
      through a group), or the session was a moderator's and they no longer hold the permission.
    """
    held_directly, held_through_group = (
        Entitlement.objects.current(now).filter(channel_id=OuterRef("channel_id")).held_by_outer_user("user_id")
    )
    banned = ChatBan.objects.active().filter(channel_id=OuterRef("channel_id"), user_id=OuterRef("user_id"))
    changed = Q(channel__isnull=True) | Q(channel__chat_room__isnull=True) | ~Q(channel__chat_room__arn=F("room_arn"))
    not_entitled = Q(channel__is_private=True) & ~Exists(held_directly) & ~Exists(held_through_group)
    revoked = Q(user__isnull=True) | Q(user__is_active=False) | not_entitled | (Q(moderator=True) & ~holds_moderation())
    why = Case(
        When(changed, then=Value(ChatEnd.CHANGED)),
        When(Exists(banned), then=Value(ChatEnd.BANNED)),
        When(revoked, then=Value(ChatEnd.REVOKED)),
        default=None,
        output_field=CharField(),
    )
    return ChatSession.objects.open(now).annotate(why=why).filter(why__isnull=False)


def reconcile(now=None) -> int:
    """End every open chat session that may not stay and queue its disconnect, in one SELECT when none must end.
    Returns the disconnects queued."""
    return end_and_queue(chat_sessions_to_end(now or timezone.now()), now=now)


def end_and_queue(sessions, *, reason=None, now=None) -> int:
    """End `sessions` (for `reason`, or each for its own `why`) and queue one DisconnectUser per (room, chat user):
    IVS drops every connection of that user in that room at once. Claimed first, as revocation.end_and_queue claims
    playback sessions, so two workers never queue the same disconnect twice."""
    now = now or timezone.now()
    if reason is not None:
        sessions = sessions.annotate(why=Value(reason, output_field=CharField()))
    with transaction.atomic():
        claimed = list(
            sessions.select_for_update(of=("self",), skip_locked=True).values_list(
                "pk", "room_arn", "chat_user_id", "channel_id", "why"
            )
        )
        if not claimed:
            return 0
        by_reason: dict[str, list[int]] = {}
        for pk, *_, why in claimed:
            by_reason.setdefault(why, []).append(pk)
        for why, pks in by_reason.items():
            for start in range(0, len(pks), 10_000):
                ChatSession.objects.filter(pk__in=pks[start : start + 10_000]).update(ended_at=now, end_reason=why)
        targets = {(room_arn, user_id): (channel_id, why) for _, room_arn, user_id, channel_id, why in claimed}
        Revocation.objects.bulk_create(
            Revocation(
                kind=RevocationKind.CHAT,
                channel_id=channel_id,
                channel_arn=room_arn,
                viewer_id=user_id,
                max_version=0,
                reason=_REVOCATION_REASON[why],
            )
            for (room_arn, user_id), (channel_id, why) in sorted(targets.items())
        )
        deliver_soon()
    return len(targets)


# Why the revocation queue's row exists, in its own words.
_REVOCATION_REASON = {
    ChatEnd.REVOKED: SessionEnd.REVOKED,
    ChatEnd.BANNED: SessionEnd.BANNED,
    ChatEnd.CHANGED: SessionEnd.REVOKED,
}
