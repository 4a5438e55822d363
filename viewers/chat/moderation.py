"""Removing a viewer from a channel's chat, and letting them back: the one write path for bans (the moderator's
button on the player page and the admin both call these)."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from viewers import reconcile
from viewers.chat import withdrawal
from viewers.models import ChatBan, ChatEnd, ChatSession


def ban(*, channel, user, reason: str, by) -> ChatBan:
    """Ban `user` from `channel`'s chat and end their open chat sessions there (the worker disconnects them at IVS).
    Banning someone already banned keeps the first ban and its reason."""
    try:
        with transaction.atomic():
            chat_ban, _ = ChatBan.objects.active().get_or_create(
                channel=channel, user=user, defaults={"reason": reason.strip()[:200], "banned_by": by}
            )
            withdrawal.end_and_queue(
                ChatSession.objects.open().filter(channel=channel, user=user), reason=ChatEnd.BANNED
            )
    except IntegrityError:  # another moderator banned them at the same moment
        chat_ban = ChatBan.objects.active().get(channel=channel, user=user)
    return chat_ban


def lift(bans, *, by) -> int:
    """Lift `bans`: the viewers may get chat tokens again (if they still have access)."""
    return bans.active().update(lifted_at=timezone.now(), lifted_by=by)


def ban_from_admin(chat_ban: ChatBan, *, by) -> ChatBan:
    """The admin's add form: the same ban as a moderator's, then an early reconcile as any write path asks."""
    made = ban(channel=chat_ban.channel, user=chat_ban.user, reason=chat_ban.reason, by=by)
    reconcile.reconcile_soon()
    return made
