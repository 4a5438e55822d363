"""Which channels are live: the worker asks IVS, the pages read what it stored (viewers/models/streams.py).

One ListStreams per region per IVS_STREAM_STATE_SECONDS, not one GetStream per channel: ListStreams returns exactly
the live streams of the account in the region (paginated, 100 a page), so a region with a thousand channels and
three of them live costs one call, and the call rate does not grow with the channels (IVS throttles its API per
account and region). A channel of an answered region that is not in the answer is offline.

A region IVS refuses (throttling, access denied) or that cannot be reached keeps its channels' last known state,
with the error recorded: one bad answer must not show every channel as "Offline". The pages stop showing a state
once it is older than streams.stale_after(), so a region that keeps failing fades to "not known", never to a lie.
Without AWS (aws.aws_configured() false) nothing is asked, nothing is booked, and the pages show no state at all.

No request calls IVS: the pages read the columns with the channel rows they read anyway.
"""

from django.conf import settings
from django.core import checks
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from viewers import periodic
from viewers.ivs import aws, key_regions
from viewers.models import Channel
from viewers.models.streams import STREAM_FIELDS, StreamState

MIN_SECONDS, WARN_SECONDS = 5, 600
ERROR_LENGTH = Channel._meta.get_field("stream_error").max_length


def live_streams(client) -> dict[str, dict]:
    """{channel ARN: its StreamSummary} for every live stream in the client's region, every page."""
    streams = {}
    for page in client.get_paginator("list_streams").paginate():
        for summary in page.get("streams", []):
            if summary.get("state", "LIVE") == "LIVE":
                streams[summary["channelArn"]] = summary
    return streams


def refresh(*, clients: key_regions.ClientSource = None, now=None) -> dict:
    """Read every region's live streams and store each channel's state. Returns counts and the failed regions.

    All regions are asked before anything is written, then one transaction writes them: a page never sees half a
    run. `clients`: boto3 clients by region for tests (a mapping or a factory); by default viewers.ivs.aws."""
    if clients is None and not aws.aws_configured():
        return {"skipped": "AWS is not configured"}
    now = now or timezone.now()
    answers, errors = {}, {}
    for region in key_regions.ivs_regions():
        try:
            answers[region] = live_streams(key_regions.client_for(region, clients))
        except Exception as exc:  # ClientError (throttled, denied), EndpointConnectionError, timeouts, no credentials
            errors[region] = aws.describe_error(exc)[:ERROR_LENGTH]
    live = offline = 0
    with transaction.atomic():
        for region, streams in answers.items():
            live += _store_live(streams, now)
            offline += (
                Channel.objects.in_region(region)
                .exclude(arn__in=list(streams))
                .update(
                    stream_state=StreamState.OFFLINE,
                    stream_started_at=None,
                    stream_health="",
                    stream_viewers=None,
                    stream_checked_at=now,
                    stream_error="",
                )
            )
        for region, error in errors.items():
            Channel.objects.in_region(region).update(stream_error=error)  # the state stays as last known, and ages
    return {"live": live, "offline": offline, "failed": sorted(errors)}


def _store_live(streams: dict[str, dict], now) -> int:
    """The site's channels among `streams`, marked live with IVS's details: one UPDATE per batch, not per channel."""
    channels = list(Channel.objects.filter(arn__in=list(streams)).only("pk", "arn", *STREAM_FIELDS))
    for channel in channels:
        summary = streams[channel.arn]
        channel.stream_state = StreamState.LIVE
        channel.stream_started_at = summary.get("startTime")
        channel.stream_health = summary.get("health", "")
        channel.stream_viewers = summary.get("viewerCount")
        channel.stream_checked_at, channel.stream_error = now, ""
    Channel.objects.bulk_update(channels, STREAM_FIELDS, batch_size=500)
    return len(channels)


@task()
def refresh_periodically():
    """The worker's periodic read. It books its next run first, so that an error below never ends the cycle (as
    viewers/reconcile.py's task does)."""
    schedule(delay=settings.IVS_STREAM_STATE_SECONDS)
    return refresh()


def schedule(*, delay: float = 0) -> None:
    """Book a read `delay` seconds from now, unless one is already waiting (there is one cycle). Nothing without
    AWS: the answer would always be "not configured", and the settings cannot change without a restart."""
    if aws.aws_configured():
        periodic.book(refresh_periodically, delay=delay)


@checks.register(checks.Tags.compatibility)
def check_stream_state_settings(app_configs=None, **kwargs):
    """The period must make sense: say so at start-up, not in the worker."""
    seconds = settings.IVS_STREAM_STATE_SECONDS
    if seconds < MIN_SECONDS:
        # Faster buys nothing a viewer sees and spends IVS's per-account API rate, which revocations need.
        return [checks.Error(f"IVS_STREAM_STATE_SECONDS must be at least {MIN_SECONDS}.", id="ivs.E052")]
    if seconds > WARN_SECONDS:
        return [
            checks.Warning(
                f"IVS_STREAM_STATE_SECONDS={seconds}: 'Live now' and 'Offline' may be that many seconds out of date.",
                id="ivs.W052",
            )
        ]
    return []
