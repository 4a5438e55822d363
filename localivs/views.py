"""A local stand-in for the IVS playback origin: verifies tokens like IVS and serves a looping live stream."""

import json
import random
import time

from django.http import FileResponse, Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from localivs import hls, state
from localivs.models import PlaybackSession
from viewers.ivs import origins, signing_keys, tokens
from viewers.ivs.tokens import TokenRejected
from viewers.models import Channel

# IVS's own epoch is the broadcast start; any fixed instant gives a steady live edge.
LIVE_EPOCH = 1_700_000_000


def ivs_error(code: str, message: str, status: int = 403) -> HttpResponse:
    """The JSON body IVS sends with a refused playlist request."""
    body = [{"error": message, "error_code": code, "type": "error"}]
    return _cors(HttpResponse(json.dumps(body), status=status, content_type="application/json"))


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "no-store"
    return response


def _playlist(text: str) -> HttpResponse:
    return _cors(HttpResponse(text, content_type=hls.PLAYLIST_CONTENT_TYPE))


@require_safe
def multivariant(request, region, account, channel_id):
    arn = f"arn:aws:ivs:{region}:{account}:channel/{channel_id}"
    channel = Channel.objects.filter(arn=arn).first()
    if channel is None:
        return ivs_error("channel_not_found", "The channel does not exist or is offline.", status=404)
    session = PlaybackSession(channel_arn=arn)
    if channel.is_private:
        token = request.GET.get("token", "")
        if not token:
            return ivs_error("invalid_playback_auth_token", "A playback token is required for this channel.")
        try:
            verified = tokens.verify(
                token,
                keys=signing_keys.verification_keys(),
                channel_arn=arn,
                now=time.time(),
                origin=request.headers.get("Origin"),
                revoked_through=state.revoked_through,
                claim_single_use=state.claim_single_use,
            )
        except TokenRejected as rejected:
            return ivs_error("invalid_playback_auth_token", rejected.reason)
        session.viewer_id = verified.viewer_id or ""
        session.session_version = verified.session_version
        session.max_resolution = verified.max_resolution or ""
        session.allowed_origins = verified.allowed_origins or ""
        session.strict_origin = verified.strict_origin
        session.key_fingerprint = verified.key_id
    session.save()
    if random.random() < 0.01:  # noqa: S311  housekeeping, not security
        state.forget_spent_tokens()
    renditions = hls.renditions_allowed(session.max_resolution or None)
    text = hls.multivariant_playlist(renditions, lambda r: reverse("localivs-variant", args=[session.id, r.name]))
    return _playlist(text)


def _open_session(request, session_id, rendition_name):
    """The session a variant or segment URI belongs to, re-checked on every request as IVS does."""
    session = PlaybackSession.objects.filter(pk=session_id).first()
    if session is None:
        return None, ivs_error("session_not_found", "The playback session does not exist.", status=404)
    if session.viewer_id:
        revoked = state.revoked_through(session.channel_arn, session.viewer_id)
        if revoked is not None and session.session_version <= revoked:
            return None, ivs_error("viewer_session_revoked", "This viewer's session has been revoked.")
    if session.strict_origin and not origins.origin_allowed(session.allowed_origins, request.headers.get("Origin")):
        return None, ivs_error("origin_not_allowed", tokens.REJECTIONS["origin"])
    try:
        rendition = hls.get_rendition(rendition_name)
    except KeyError:
        raise Http404("no such rendition") from None
    if rendition not in hls.renditions_allowed(session.max_resolution or None):
        return None, ivs_error("resolution_not_allowed", "The token does not allow this rendition.")
    return (session, rendition), None


@require_safe
def variant(request, session_id, rendition):
    opened, refusal = _open_session(request, session_id, rendition)
    if refusal:
        return refusal
    session, rendition = opened
    PlaybackSession.objects.filter(pk=session.pk).update(last_seen_at=timezone.now())
    prefix = reverse("localivs-segment", args=[session.id, rendition.name, 0])[: -len("0.ts")]
    text = hls.live_media_playlist(rendition, time.time(), lambda n: f"{prefix}{n}.ts", epoch=LIVE_EPOCH)
    return _playlist(text)


@require_safe
def segment(request, session_id, rendition, sequence):
    opened, refusal = _open_session(request, session_id, rendition)
    if refusal:
        return refusal
    session, rendition = opened
    try:
        path = hls.segment_file(rendition.name, sequence)
    except (KeyError, ValueError):
        raise Http404("no such segment") from None
    response = FileResponse(path.open("rb"), content_type=hls.SEGMENT_CONTENT_TYPE)
    return _cors(response)
