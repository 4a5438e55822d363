"""The chat's two endpoints on the player page: a chat token, and a moderator removing a viewer.

JSON out, with the refresh endpoint's error shape ({"error": code, "message": text for the viewer}); never a token
in an error, never a 500 for anything a client or IVS can do.
"""

import math

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from viewers import access, ratelimit
from viewers.chat import moderation, tokens
from viewers.chat.forms import BanForm
from viewers.models import ChatBan
from viewers.player import geo, pageread
from viewers.player.views import no_store
from viewers.reasons import Reason

UNAVAILABLE_RETRY_SECONDS = 10


@no_store
@require_POST
def chat_token(request, slug):
    """A chat token for this viewer in this channel's room, if the access rule lets them watch it now."""
    if not request.user.is_authenticated:
        return _error(401, Reason.LOGIN_REQUIRED, "Log in to chat.")
    retry_after = ratelimit.hit(f"chat-token:{request.user.pk}", limit=settings.IVS_CHAT_TOKENS_PER_MINUTE)
    if retry_after:
        return _error(
            429, Reason.RATE_LIMITED, "Too many attempts to join the chat. Please wait a moment.", retry_after
        )
    now = timezone.now()
    page = pageread.read(slug, request.user, now, page_limit=settings.IVS_PLAYER_PAGES_PER_MINUTE)
    channel = page.channel
    if channel is None:
        return _error(404, Reason.NOT_FOUND, "This channel no longer exists.")
    if page.chat is None:
        return _error(404, "no_chat", "This channel has no chat.")
    decision = access.decide(request.user, channel, now, country=geo.viewer_country(request), held=page.held)
    if not decision.allowed:
        geo.count_denial(channel, decision)
        return _error(403, decision.reason, decision.message)
    ban = ChatBan.objects.active().filter(channel=channel, user=request.user).values_list("reason", flat=True).first()
    if ban is not None:
        message = "A moderator removed you from this chat." + (f" Reason: {ban}" if ban else "")
        return JsonResponse({"error": "banned", "message": message, "reason": ban}, status=403)
    ends_at = access.access_times(page.held, now).ends_at if channel.is_private else None
    minutes = tokens.session_minutes(ends_at, now)
    if minutes < 1:
        return _error(403, Reason.ENDED, "Your access ends within a minute, so the chat is closed to you.")
    moderator = tokens.is_moderator(request.user)
    try:
        token = tokens.obtain(
            user=request.user,
            channel=channel,
            room_arn=page.chat.room_arn,
            minutes=minutes,
            moderator=moderator,
            request=request,
            now=now,
        )
    except tokens.ChatUnavailable:
        message = "The chat is not available right now. It will try again shortly."
        return _error(503, "chat_unavailable", message, UNAVAILABLE_RETRY_SECONDS)
    return JsonResponse(
        {
            "token": token.token,
            "tokenExpirationTime": token.token_expires_at.isoformat(),
            "sessionExpirationTime": token.session_expires_at.isoformat(),
            "moderator": moderator,  # the panel shows the moderator's buttons from this
        }
    )


@no_store
@require_POST
def chat_ban(request, slug):
    """A moderator removes a viewer from this channel's chat: banned until lifted, and disconnected by the worker
    (the moderator's page also disconnects them over the chat's own socket at once)."""
    if not request.user.is_authenticated:
        return _error(401, Reason.LOGIN_REQUIRED, "Log in again to moderate.")
    if not tokens.is_moderator(request.user):
        return _error(403, "not_moderator", "Only moderators may remove people from the chat.")
    now = timezone.now()
    page = pageread.read(slug, request.user, now, page_limit=settings.IVS_PLAYER_PAGES_PER_MINUTE)
    if page.channel is None or page.chat is None:
        return _error(404, "no_chat", "This channel has no chat.")
    form = BanForm(request.POST, moderator=request.user)
    if not form.is_valid():
        return _error(form.status, "invalid", form.first_error())
    moderation.ban(channel=page.channel, user=form.target, reason=form.cleaned_data["reason"], by=request.user)
    return HttpResponse(status=204)


def _error(status, code, message, retry_after=None):
    response = JsonResponse({"error": code, "message": message}, status=status)
    if retry_after:
        response["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response
