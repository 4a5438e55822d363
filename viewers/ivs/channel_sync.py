"""Bring the local channel list in line with the account's IVS channels (ListChannels + GetChannel).

Only the channel's own fields change: name, ARN, playback URL and `authorized` (as private). Entitlements,
slugs, descriptions and the listed flag are the operators' and stay as they are. New channels arrive unlisted,
so nothing shows up on the home page before an operator has looked at it. Channels that exist only locally
are reported, never deleted. Every configured region is read (IVS_REGIONS, or else the regions of the site's
channels and AWS_REGION: viewers/ivs/key_regions.py), all of them before anything is written.

A name that differs only by IVS's naming rule is no rename: IVS stores the site's "Demo Event" as "Demo-Event"
(viewers/ivs/channel_names.py), so the local name stays as the operator wrote it. A name IVS changed is a rename.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from viewers.ivs import aws, channel_names, key_regions
from viewers.models import Channel

SYNCED_FIELDS = ("name", "playback_url", "is_private")


class SyncError(Exception):
    """IVS could not be asked; the message says why."""


@dataclass
class ChannelChange:
    arn: str
    name: str
    action: str  # created, updated, unchanged, error, local-only
    changes: dict = field(default_factory=dict)  # field -> (old, new)
    error: str = ""
    channel_id: int | None = None


def fetch_ivs_channels(client) -> list[dict]:
    """Every channel in the client's region, in full (ListChannels has no playback URL, GetChannel has)."""
    region = getattr(getattr(client, "meta", None), "region_name", "") or "the region"
    channels = []
    try:
        for page in client.get_paginator("list_channels").paginate():
            for summary in page.get("channels", []):
                channels.append(client.get_channel(arn=summary["arn"])["channel"])
    except Exception as exc:  # botocore raises ClientError, NoCredentialsError, EndpointConnectionError…
        raise SyncError(f"Could not list the IVS channels in {region} ({aws.describe_error(exc)}).") from None
    return channels


def sync_channels(*, clients=None, apply: bool = True) -> list[ChannelChange]:
    """Create or update local channels from IVS, in every region of `clients` (one boto3 client per region;
    by default every configured region). With apply=False, report what would change and write nothing."""
    if clients is None:
        if not aws.aws_configured():
            raise SyncError("AWS is not configured: set IVS_AWS_REGION (and AWS credentials) to sync channels.")
        clients = [aws.ivs_client(region) for region in key_regions.ivs_regions()]
    remote = [item for client in clients for item in fetch_ivs_channels(client)]
    regions = {client.meta.region_name for client in clients}
    report = []
    with transaction.atomic():
        local = {channel.arn: channel for channel in Channel.objects.all()}
        for item in remote:
            report.append(_sync_one(item, local.get(item["arn"])))
        seen = {item["arn"] for item in remote}
        for arn, channel in sorted(local.items()):
            if arn not in seen and channel.region in regions:
                report.append(ChannelChange(arn, channel.name, "local-only", channel_id=channel.pk))
        if not apply:
            transaction.set_rollback(True)
    return report


def _sync_one(item: dict, channel: Channel | None) -> ChannelChange:
    arn = item["arn"]
    wanted = {
        "name": item.get("name") or arn.rsplit("/", 1)[1],
        "playback_url": item.get("playbackUrl", ""),
        "is_private": bool(item.get("authorized")),
    }
    if channel is None:
        channel = Channel(arn=arn, slug=free_slug(wanted["name"], arn), is_listed=False, **wanted)
        action, changes = "created", {name: (None, value) for name, value in wanted.items()}
    else:
        changes = {
            name: (getattr(channel, name), value) for name, value in wanted.items() if getattr(channel, name) != value
        }
        if channel_names.same_name(channel.name, item.get("name") or ""):
            changes.pop("name", None)
        if not changes:
            return ChannelChange(arn, channel.name, "unchanged", channel_id=channel.pk)
        for name in changes:
            setattr(channel, name, wanted[name])
        action = "updated"
    try:
        channel.full_clean()
    except ValidationError as exc:
        return ChannelChange(arn, wanted["name"], "error", error="; ".join(exc.messages))
    if action == "created":
        channel.save()
    else:
        channel.save(update_fields=list(changes))
    return ChannelChange(arn, channel.name, action, changes, channel_id=channel.pk)


def free_slug(name: str, arn: str) -> str:
    """A slug from `name` (else the ARN's id) that no channel has yet: `name`, `name-2`, …"""
    base = (slugify(name) or slugify(arn.rsplit("/", 1)[1]) or "channel")[:90]
    slug, n = base, 1
    while Channel.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def summary(report: list[ChannelChange]) -> str:
    counts = {}
    for change in report:
        counts[change.action] = counts.get(change.action, 0) + 1
    order = ("created", "updated", "unchanged", "error", "local-only")
    return ", ".join(f"{counts.get(action, 0)} {action}" for action in order)
