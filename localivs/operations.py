"""The IVS control-plane operations the local origin answers, one function each.

Each takes the region the request was signed for and its already validated JSON body, and returns
the JSON body of the answer, or raises ApiError with the exception IVS would answer with.
"""

import base64
import binascii
import re

from django.db import IntegrityError, transaction

from localivs import state
from localivs.models import LOCAL_ACCOUNT, PlaybackKeyPair, PlaybackSession
from viewers.ivs import channel_names, tokens
from viewers.models import Channel

KEY_PAIRS_PER_REGION = 3  # IVS's quota per account and region
DEFAULT_PAGE = 100  # IVS's default maxResults for both lists
KEY_PAIR_ARN_RE = re.compile(r"arn:aws:ivs:(?P<region>[a-z0-9-]+):(?P<account>\d+):playback-key/(?P<id>[a-zA-Z0-9-]+)")
CHANNEL_FILTERS = (
    "filterByName",
    "filterByRecordingConfigurationArn",
    "filterByPlaybackRestrictionPolicyArn",
    "filterByAdConfigurationArn",
    "filterByFailoverSlateConfigurationArn",
)


class ApiError(Exception):
    STATUS = {
        "ValidationException": 400,
        "AccessDeniedException": 403,
        "MissingAuthenticationTokenException": 403,
        "IncompleteSignatureException": 400,
        "ResourceNotFoundException": 404,
        "UnknownOperationException": 404,
        "ConflictException": 409,
        "ServiceQuotaExceededException": 402,
        "ThrottlingException": 429,
        "ChannelNotBroadcasting": 404,
    }

    def __init__(self, code: str, message: str, **fields):
        """`fields`: the members the error's shape requires beyond its text (IVS Chat's resourceId, resourceType…)."""
        super().__init__(message)
        self.code, self.message, self.status, self.fields = code, message, self.STATUS[code], fields


# --- Revocation ------------------------------------------------------------------------------


def _channels_in(region, arns) -> set[str]:
    """Of `arns`, the channels this stand-in has in `region`: the site's channels, and every channel it has played.

    IVS keeps a channel, and its running sessions, when the site deletes its own row or re-points it to another
    ARN; a revocation addressed to the old ARN must still reach those sessions."""
    in_region = f"arn:aws:ivs:{region}:"
    known = set(Channel.objects.in_region(region).filter(arn__in=arns).values_list("arn", flat=True))
    played = PlaybackSession.objects.filter(channel_arn__in=set(arns) - known, channel_arn__startswith=in_region)
    return known | set(played.values_list("channel_arn", flat=True).distinct())


def start_viewer_session_revocation(region, body):
    arn = body["channelArn"]
    if not _channels_in(region, [arn]):
        raise ApiError("ResourceNotFoundException", f"Channel {arn} not found in {region}.")
    state.start_viewer_session_revocation(arn, body["viewerId"], body.get("viewerSessionVersionsLessThanOrEqualTo", 0))
    return {}


def batch_start_viewer_session_revocation(region, body):
    sessions = body["viewerSessions"]
    known = _channels_in(region, {session["channelArn"] for session in sessions})
    errors = []
    for session in sessions:
        arn, viewer_id = session["channelArn"], session["viewerId"]
        if arn not in known:
            message = f"Channel {arn} not found in {region}."
            errors.append(
                {"channelArn": arn, "viewerId": viewer_id, "code": "ResourceNotFoundException", "message": message}
            )
            continue
        state.start_viewer_session_revocation(arn, viewer_id, session.get("viewerSessionVersionsLessThanOrEqualTo", 0))
    return {"errors": errors}


# --- Playback key pairs ----------------------------------------------------------------------


def _key_pair(key_pair: PlaybackKeyPair, *, summary=False) -> dict:
    out = {"arn": key_pair.arn, "name": key_pair.name, "tags": key_pair.tags}
    if not summary:
        out["fingerprint"] = key_pair.fingerprint
    return out


def import_playback_key_pair(region, body):
    try:
        key = tokens.load_public_key(body["publicKeyMaterial"])
    except tokens.PlaybackKeyError as exc:
        raise ApiError("ValidationException", f"publicKeyMaterial: {exc}.") from None
    key_pair = PlaybackKeyPair(
        region=region,
        name=body.get("name", ""),
        public_key_pem=tokens.public_key_pem(key),
        fingerprint=tokens.fingerprint(key),
        tags=body.get("tags", {}),
    )
    try:
        with transaction.atomic():
            if PlaybackKeyPair.objects.filter(region=region).count() >= KEY_PAIRS_PER_REGION:
                raise ApiError(
                    "ServiceQuotaExceededException",
                    f"At most {KEY_PAIRS_PER_REGION} playback key pairs per region; delete one first.",
                )
            key_pair.save()
    except IntegrityError:
        raise ApiError("ConflictException", f"This public key is already imported in {region}.") from None
    return {"keyPair": _key_pair(key_pair)}


def _find_key_pair(region, arn) -> PlaybackKeyPair:
    match = KEY_PAIR_ARN_RE.fullmatch(arn)
    key_pair = None
    if match and match["region"] == region and match["account"] == LOCAL_ACCOUNT:
        key_pair = PlaybackKeyPair.objects.filter(region=region, key_pair_id=match["id"]).first()
    if key_pair is None:
        raise ApiError("ResourceNotFoundException", f"Playback key pair {arn} not found in {region}.")
    return key_pair


def get_playback_key_pair(region, body):
    return {"keyPair": _key_pair(_find_key_pair(region, body["arn"]))}


def delete_playback_key_pair(region, body):
    _find_key_pair(region, body["arn"]).delete()
    return {}


def list_playback_key_pairs(region, body):
    after = _cursor(body.get("nextToken"))
    limit = body.get("maxResults", DEFAULT_PAGE)
    rows = list(
        PlaybackKeyPair.objects.filter(region=region, key_pair_id__gt=after).order_by("key_pair_id")[: limit + 1]
    )
    out = {"keyPairs": [_key_pair(row, summary=True) for row in rows[:limit]]}
    if len(rows) > limit:
        out["nextToken"] = _next_token(rows[limit - 1].key_pair_id)
    return out


# --- Channels (the site's own rows: the local origin plays exactly those) ---------------------


def _channel_name(channel: Channel) -> str:
    """The site's name as IVS would have stored it ("Demo Event" → "Demo-Event"): the sync (viewers/ivs/channel_sync.py)
    applies the same rule, so syncing the demo from this origin proposes no rename."""
    return channel_names.ivs_name(channel.name)


def _channel(channel: Channel, *, summary=False) -> dict:
    out = {
        "arn": channel.arn,
        "name": _channel_name(channel),
        "authorized": channel.is_private,
        "latencyMode": "LOW",
        "type": "STANDARD",
        "insecureIngest": False,
        "recordingConfigurationArn": "",
        "playbackRestrictionPolicyArn": "",
        "tags": {},
    }
    if not summary:
        out.update(playbackUrl=channel.playback_url, containerFormat="TS")
    return out


def get_channel(region, body):
    arn = body["arn"]
    channel = Channel.objects.in_region(region).filter(arn=arn).first()
    if channel is None:
        raise ApiError("ResourceNotFoundException", f"Channel {arn} not found in {region}.")
    return {"channel": _channel(channel)}


def list_channels(region, body):
    filters = [name for name in CHANNEL_FILTERS if body.get(name)]
    if len(filters) > 1:
        raise ApiError("ConflictException", f"Filters are mutually exclusive: {', '.join(filters)}.")
    if filters and filters[0] != "filterByName":
        return {"channels": []}  # no local channel has a recording, policy, ad or slate configuration
    after, limit = _cursor(body.get("nextToken")), body.get("maxResults", DEFAULT_PAGE)
    rows = Channel.objects.in_region(region).filter(arn__gt=after).order_by("arn")
    page = []
    for channel in rows.iterator():
        if not filters or _channel_name(channel) == body["filterByName"]:
            page.append(channel)
            if len(page) > limit:
                break
    out = {"channels": [_channel(channel, summary=True) for channel in page[:limit]]}
    if len(page) > limit:
        out["nextToken"] = _next_token(page[limit - 1].arn)
    return out


# --- Pagination: the token is the last key of the previous page -------------------------------


def _next_token(last_key: str) -> str:
    return base64.urlsafe_b64encode(last_key.encode()).decode()


def _cursor(token: str | None) -> str:
    if not token:
        return ""
    try:
        key = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, ValueError):
        key = "\x00"
    if "\x00" in key:
        raise ApiError("ValidationException", "nextToken is not a token this service returned.")
    return key


OPERATIONS = {
    "StartViewerSessionRevocation": start_viewer_session_revocation,
    "BatchStartViewerSessionRevocation": batch_start_viewer_session_revocation,
    "ImportPlaybackKeyPair": import_playback_key_pair,
    "GetPlaybackKeyPair": get_playback_key_pair,
    "DeletePlaybackKeyPair": delete_playback_key_pair,
    "ListPlaybackKeyPairs": list_playback_key_pairs,
    "GetChannel": get_channel,
    "ListChannels": list_channels,
}
