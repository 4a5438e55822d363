import functools
import math
import time

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST, require_safe

from ivssite import csp as site_csp
from viewers import access, ratelimit
from viewers.attendance import tickets
from viewers.chat import page as chat_page
from viewers.ivs import origins
from viewers.models import Channel, SessionEnd, TokenAudit
from viewers.player import geo, pageread, playback
from viewers.player.forms import RefreshForm
from viewers.reasons import Reason

# The refresh endpoint's error codes, for player.js, which gets them in the page's config rather than typing them.
REASONS = {reason.name: reason.value for reason in Reason}


@require_safe
def home(request):
    """The channels a viewer may watch (and public ones), each with its live state and the viewer's own access:
    when it ends, or, for an event bought ahead, when it starts. The live state comes with the channel rows
    (viewers/models/streams.py) and the access times in one more query: the count does not grow with channels."""
    now = timezone.now()
    times = access.access_times_by_channel(request.user, now)
    cards = [
        {"channel": channel, "live_state": channel.live_state(now), "access": times.get(channel.pk)}
        for channel in Channel.objects.listed_for(request.user, now, upcoming=True)
    ]
    return render(request, "viewers/home.html", {"cards": cards})


# Player pages carry bearer tokens: no shared cache and no browser cache may keep them.
no_store = cache_control(private=True, no_store=True)


@no_store
@require_safe
def channel_detail(request, slug):
    now = timezone.now()
    page = pageread.read(slug, request.user, now, page_limit=settings.IVS_PLAYER_PAGES_PER_MINUTE)
    channel, held = page.channel, page.held
    if channel is None:
        raise Http404("No such channel.")
    if channel.is_private and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if channel.is_private and page.page_free_at:
        # Each private page mints a token and writes an audit row: a reload loop must not.
        response = render(request, "viewers/too_many.html", {"channel": channel}, status=429)
        response["Retry-After"] = str(max(1, math.ceil((page.page_free_at - now).total_seconds())))
        return response
    decision = access.decide(request.user, channel, now, country=geo.viewer_country(request), held=held)
    if not decision.allowed:
        geo.count_denial(channel, decision)
        return denied(request, channel, decision)
    # A GET changes nothing on a channel with a device limit: the player's first POST takes over a screen. A HEAD
    # gets a GET's answer without its body, so a token minted (and audited) for it would reach nobody.
    issued = None
    if request.method == "GET" and not playback.takes_over_screens(channel):
        issued = playback.issue(user=request.user, channel=channel, decision=decision, request=request)
    context = player_page_config(request, channel, decision, issued)
    # From the rows the page read already: the live state is on the channel, the access times in `held`.
    chat = chat_page.chat_config(request, channel, page.chat)
    context.update(
        live_state=channel.live_state(now),
        access=access.access_times(held, now) if channel.is_private else None,
        chat=chat,
    )
    response = render(request, "viewers/player.html", context)
    if chat and chat["userId"]:  # a visitor's panel only says "Log in to chat": no socket to allow
        site_csp.allow_chat(response, chat["messagingUrl"])
    return response


def denied(request, channel, decision):
    """The 403 page that says why, and what the viewer can do about it."""
    context = {"channel": channel, "decision": decision, "Reason": Reason}
    return render(request, "viewers/denied.html", context, status=403)


def player_page_config(request, channel, decision, issued):
    """The player template's context. Without `issued`, the page fetches its first token itself."""
    playback_json = _playback_json(request, issued) if issued else {"playbackUrl": None, "serverNow": time.time()}
    player_config = {
        **playback_json,
        "refreshUrl": _refresh_url(get_script_prefix(), channel.slug) if channel.is_private else None,
        # Private sessions only: a public channel's player has no session to report.
        "heartbeatUrl": _heartbeat_url(get_script_prefix()) if channel.is_private else None,
        "heartbeatSeconds": settings.IVS_HEARTBEAT_SECONDS,
        "viewer": request.user.pk if channel.is_private else None,
        "wasmWorker": settings.IVS_PLAYER_WASM_WORKER_URL or None,
        "wasmBinary": settings.IVS_PLAYER_WASM_BINARY_URL or None,
        "reasons": REASONS,
    }
    return {
        "channel": channel,
        "decision": decision,
        "player_config": player_config,
        "sdk_url": settings.IVS_PLAYER_SDK_URL,
        # Opened while the player starts: a real IVS host costs DNS, TCP and TLS before the first playlist.
        "playback_origin": origins.origin_of(channel.playback_url),
    }


@functools.lru_cache(maxsize=4096)
def _refresh_url(script_prefix, slug):
    # reverse() walks the URL resolver: ~0.08 ms a player page for the same few answers (bench/breakdown.py).
    # The script prefix is part of the key because reverse() puts it in front.
    return reverse("channel-playback", args=[slug])


@functools.lru_cache(maxsize=8)
def _heartbeat_url(script_prefix):
    return reverse("heartbeat")


@no_store
@require_POST
def channel_playback(request, slug):
    """A fresh playback URL, for a player page that outlived its token. JSON in, JSON out."""
    if not request.user.is_authenticated:
        return _json_error(401, Reason.LOGIN_REQUIRED, "Your session has ended. Log in again to keep watching.")
    retry_after = ratelimit.hit(f"refresh:{request.user.pk}", limit=settings.IVS_REFRESH_PER_MINUTE)
    if retry_after:
        response = _json_error(429, Reason.RATE_LIMITED, "Too many attempts. Please wait a moment.")
        response["Retry-After"] = str(retry_after)
        return response
    now = timezone.now()
    page = pageread.read(slug, request.user, now, page_limit=settings.IVS_PLAYER_PAGES_PER_MINUTE)
    channel, held = page.channel, page.held
    if channel is None:
        return _json_error(404, Reason.NOT_FOUND, "This channel no longer exists.")
    session = RefreshForm(request.POST).session_id
    ended = _ended_by(request.user, channel, session) if session is not None else None
    if ended == SessionEnd.SUPERSEDED:
        return _json_error(409, Reason.SUPERSEDED, "This channel is now playing on another of your devices.")
    if ended == SessionEnd.STOPPED:
        # Not a fresh token at once: the player's retry would undo the operator's "stop watching".
        return _json_error(409, Reason.STOPPED, "An organiser stopped your playback.")
    decision = access.decide(request.user, channel, now, country=geo.viewer_country(request), held=held)
    if not decision.allowed:
        geo.count_denial(channel, decision)
        return _json_error(403, decision.reason, decision.message)
    # Without a session the page has no token yet: the player is starting (device-limited channels start here).
    purpose = "refresh" if session is not None else "page"
    issued = playback.issue(user=request.user, channel=channel, decision=decision, request=request, purpose=purpose)
    return JsonResponse(_playback_json(request, issued))


def _playback_json(request, issued):
    return {
        "playbackUrl": issued.url,
        "expiresAt": issued.expires_at.timestamp() if issued.expires_at else None,
        # The browser's clock may be wrong; it judges expiry against the server's clock.
        "serverNow": time.time(),
        "session": issued.session,
        # What the player's heartbeats for this session show they come from this page's viewer.
        "heartbeatTicket": _heartbeat_ticket(request, issued.session),
    }


def _heartbeat_ticket(request, session):
    if not session or not request.user.is_authenticated:
        return None
    return tickets.ticket(request.session.session_key or "", request.user.pk, session)


def _ended_by(user, channel, session: int) -> str | None:
    """Why the session this page played in ended, when that is why it stopped: the viewer started another screen
    (superseded), or an operator stopped it. One query, whatever the answer."""
    ended = TokenAudit.objects.filter(
        pk=session, user=user, channel=channel, end_reason__in=[SessionEnd.SUPERSEDED, SessionEnd.STOPPED]
    )
    return ended.values_list("end_reason", flat=True).first()


def _json_error(status, reason, message):
    return JsonResponse({"error": reason, "message": message}, status=status)
