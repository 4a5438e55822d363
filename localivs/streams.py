"""The local origin's streams: ListStreams and GetStream, as IVS answers them (localivs/control.py serves them).

What is live here: a site channel whose playback URL points at this origin, since this origin plays its looping
test pattern to every such channel at all hours, and a player can only reach it there. A channel whose URL points
elsewhere (a real IVS host) is not broadcasting here. The broadcast started at 00:00 UTC today: the same answer from
every process and every restart (one origin process starting later must not say the stream restarted), and within
IVS's 48-hour broadcast limit. Its viewers are the playback sessions that fetched a playlist or segment in the last
minute (a playing player asks every few seconds).
"""

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from localivs.models import PlaybackSession
from localivs.operations import DEFAULT_PAGE, ApiError, _cursor, _next_token
from viewers.models import Channel

WATCHING_WITHIN = timedelta(minutes=1)


def _played_here(channel: Channel) -> bool:
    region, account = channel.arn.split(":")[3:5]
    try:
        path = reverse(
            "localivs-multivariant",
            kwargs={"region": region, "account": account, "channel_id": channel.arn.rsplit("/", 1)[1]},
        )
    except NoReverseMatch:  # an ARN the origin's URLs cannot name
        return False
    return urlsplit(channel.playback_url).path == path


def _started(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _viewer_counts(arns, now: datetime) -> dict[str, int]:
    """{channel ARN: its playback sessions seen within WATCHING_WITHIN}, for all of `arns` in one query."""
    watching = PlaybackSession.objects.filter(channel_arn__in=arns, last_seen_at__gte=now - WATCHING_WITHIN)
    return dict(watching.values("channel_arn").annotate(n=Count("pk")).values_list("channel_arn", "n"))


def _stream(channel: Channel, now: datetime, viewers: int, *, summary=False) -> dict:
    started = _started(now)
    # IVS's stream ids are "st-" and 23 letters or digits, one per broadcast: here, per channel and day.
    stream_id = "st-" + hashlib.sha256(f"{channel.arn} {started:%Y-%m-%d}".encode()).hexdigest()[:23]
    out = {
        "channelArn": channel.arn,
        "streamId": stream_id,
        "state": "LIVE",
        "health": "HEALTHY",
        "viewerCount": viewers,
        "startTime": started.timestamp(),
    }
    if not summary:
        out["playbackUrl"] = channel.playback_url
    return out


def get_stream(region, body):
    arn = body["channelArn"]
    channel = Channel.objects.in_region(region).filter(arn=arn).first()
    if channel is None:
        raise ApiError("ResourceNotFoundException", f"Channel {arn} not found in {region}.")
    if not _played_here(channel):
        raise ApiError("ChannelNotBroadcasting", f"Channel {arn} is not broadcasting.")
    now = timezone.now()
    return {"stream": _stream(channel, now, _viewer_counts([arn], now).get(arn, 0))}


def list_streams(region, body):
    """The live streams of the region, by channel ARN, paginated like the other lists."""
    health = body.get("filterBy", {}).get("health")
    if health and health != "HEALTHY":
        return {"streams": []}  # every stream here is healthy
    after, limit, now = _cursor(body.get("nextToken")), body.get("maxResults", DEFAULT_PAGE), timezone.now()
    page = []
    for channel in Channel.objects.in_region(region).filter(arn__gt=after).order_by("arn").iterator():
        if _played_here(channel):
            page.append(channel)
            if len(page) > limit:
                break
    page, more = page[:limit], len(page) > limit
    viewers = _viewer_counts([channel.arn for channel in page], now)
    out = {"streams": [_stream(channel, now, viewers.get(channel.arn, 0), summary=True) for channel in page]}
    if more:
        out["nextToken"] = _next_token(page[-1].arn)
    return out


OPERATIONS = {"GetStream": get_stream, "ListStreams": list_streams}
