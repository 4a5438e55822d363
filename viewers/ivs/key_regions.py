"""Playback keys in every region with channels.

IVS key pairs are regional: a channel in eu-west-1 refuses every token signed by a key imported only in
us-west-2, and each region holds at most 3 key pairs. So the site records, per key, the regions it is imported
into (PlaybackKeyRegion), imports a new key into every region it works in, deletes it from every region when it
retires, and says which regions with private channels lack the signing key.
"""

from collections.abc import Callable, Mapping

from django.conf import settings
from django.utils import timezone

from viewers import validators
from viewers.ivs import aws
from viewers.models import Channel, PlaybackKey, PlaybackKeyRegion

IVS_KEY_LIMIT = 3  # key pairs per account and region


class RegionError(Exception):
    """A regional key operation that could not be done; the message says where and why."""


def channel_regions(*, private_only: bool = False) -> set[str]:
    channels = Channel.objects.filter(is_private=True) if private_only else Channel.objects.all()
    return {validators.region_of_arn(arn) for arn in channels.values_list("arn", flat=True)} - {""}


def ivs_regions() -> list[str]:
    """Where the site reads channels from: IVS_REGIONS, or else the regions of its channels and AWS_REGION."""
    if settings.IVS_REGIONS:
        return list(dict.fromkeys(settings.IVS_REGIONS))
    return sorted(channel_regions() | ({settings.AWS_REGION} if settings.AWS_REGION else set()))


def key_regions() -> list[str]:
    """Where a playback key belongs: every region the site works in, and every region with a private channel."""
    return sorted(set(ivs_regions()) | channel_regions(private_only=True))


def regions_missing(key: PlaybackKey) -> list[str]:
    have = {record.region for record in key.regions.all()}
    return [region for region in key_regions() if region not in have]


def channels_without_signing_key() -> dict[str, list[str]]:
    """{region: channel names} for the private channels whose region lacks the signing key's import.

    Empty while no signing key is registered: there is no key to name yet (ivs.E020 covers a wrong one)."""
    signing = PlaybackKey.objects.filter(is_signing=True).first()
    if signing is None:
        return {}
    imported = set(signing.regions.values_list("region", flat=True))
    missing: dict[str, list[str]] = {}
    for name, arn in Channel.objects.filter(is_private=True).order_by("name").values_list("name", "arn"):
        region = validators.region_of_arn(arn)
        if region and region not in imported:
            missing.setdefault(region, []).append(name)
    return missing


def missing_key_messages(shown: int = 3) -> list[str]:
    """One sentence per region with private channels but without the signing key."""
    messages = []
    for region, names in sorted(channels_without_signing_key().items()):
        listed = ", ".join(f"'{name} ({region})'" for name in names[:shown])
        more = f" and {len(names) - shown} more channels" if len(names) > shown else ""
        messages.append(f"Tokens for {listed}{more} will be refused: the signing key is not imported in {region}.")
    return messages


ClientSource = Mapping[str, object] | Callable[[str], object] | None


def client_for(region: str, clients: ClientSource = None):
    """The boto3 client for `region`: from `clients` (tests, a mapping or a factory), else viewers.ivs.aws."""
    if clients is None:
        return aws.ivs_client(region)
    return clients(region) if callable(clients) else clients[region]


def key_pair_count(client) -> int:
    return sum(len(page.get("keyPairs", [])) for page in client.get_paginator("list_playback_key_pairs").paginate())


def check_room(regions: list[str], clients: ClientSource = None) -> None:
    """Refuse before importing anywhere if any of `regions` already holds IVS's limit of key pairs."""
    full = []
    for region in regions:
        try:
            count = key_pair_count(client_for(region, clients))
        except Exception as exc:  # botocore's ClientError and connection errors share no useful base
            detail = aws.describe_error(exc)
            raise RegionError(f"Could not list the key pairs in {region} ({detail}); nothing imported.") from None
        if count >= IVS_KEY_LIMIT:
            full.append(f"{region} already holds {count} key pairs")
    if full:
        raise RegionError(
            f"Nothing imported: {'; '.join(full)}, the most IVS allows in a region ({IVS_KEY_LIMIT}). "
            "Delete a key that no longer signs there first."
        )


def import_everywhere(key: PlaybackKey, regions: list[str], clients: ClientSource = None) -> list[PlaybackKeyRegion]:
    """ImportPlaybackKeyPair in each region, recording each import as it succeeds (so a retry continues)."""
    check_room(regions, clients)
    done = []
    for region in regions:
        try:
            response = client_for(region, clients).import_playback_key_pair(
                publicKeyMaterial=key.public_key_pem, name=key.name
            )
        except Exception as exc:
            so_far = ""
            if done:
                so_far = f" It was imported into {', '.join(r.region for r in done)}; importing again continues."
            raise RegionError(f"IVS refused the import in {region}: {aws.describe_error(exc)}.{so_far}") from None
        pair = response["keyPair"]
        done.append(
            PlaybackKeyRegion.objects.create(
                key=key, arn=pair["arn"], fingerprint=pair.get("fingerprint", ""), imported_at=timezone.now()
            )
        )
    return done


def delete_everywhere(key: PlaybackKey, clients: ClientSource = None) -> list[str]:
    """DeletePlaybackKeyPair in every region the key is recorded in. Returns the regions it left.

    A key pair IVS no longer has counts as deleted. A refusal keeps that region's record and raises."""
    left = []
    for record in list(key.regions.all()):
        try:
            client_for(record.region, clients).delete_playback_key_pair(arn=record.arn)
        except Exception as exc:
            if aws.error_code(exc) != "ResourceNotFoundException":
                so_far = f" It was deleted from {', '.join(left)}." if left else ""
                raise RegionError(
                    f"IVS refused the deletion in {record.region}: {aws.describe_error(exc)}.{so_far} "
                    f"{key.name} stays registered; try again."
                ) from None
        record.delete()
        left.append(record.region)
    return left
