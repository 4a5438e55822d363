"""Validation of IVS identifiers typed in by operators."""

import ipaddress
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

CHANNEL_ARN_RE = re.compile(
    r"^arn:aws:ivs:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):(?P<account>\d{12}):channel/(?P<id>[A-Za-z0-9-]+)$"
)
KEY_PAIR_ARN_RE = re.compile(
    r"^arn:aws:ivs:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):(?P<account>\d{12}):playback-key/(?P<id>[A-Za-z0-9-]+)$"
)
REGION_RE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d$")
# An IVS Chat room: arn:aws:ivschat:<region>:<account>:room/<id>
ROOM_ARN_RE = re.compile(
    r"^arn:aws:ivschat:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):(?P<account>\d{12}):room/(?P<id>[A-Za-z0-9-]+)$"
)
# ImportPlaybackKeyPair's rule for key-pair names; the site's key names are the same names.
KEY_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
KEY_NAME_RULE = "Letters, digits, - and _ only, at most 128 (IVS's rule for key names)."
validate_key_name = RegexValidator(KEY_NAME_RE, KEY_NAME_RULE)
# The last path segment of an IVS playback URL: <region>.<account>.channel.<channel id>.m3u8
PLAYBACK_PATH_RE = re.compile(
    r"/api/video/v1/(?P<region>[a-z0-9-]+)\.(?P<account>\d{12})\.channel\.(?P<id>[A-Za-z0-9-]+)\.m3u8$"
)
IVS_PLAYBACK_HOST_SUFFIX = ".playback.live-video.net"


def validate_channel_arn(value: str) -> None:
    if len(value) > 128 or not CHANNEL_ARN_RE.fullmatch(value):  # fullmatch: "$" would allow a trailing newline
        raise ValidationError(
            "Enter an IVS channel ARN like arn:aws:ivs:us-west-2:123456789012:channel/AbCdEf123456.",
            code="invalid_arn",
        )


def validate_key_pair_arn(value: str) -> None:
    if len(value) > 128 or not KEY_PAIR_ARN_RE.fullmatch(value):
        raise ValidationError(
            "Enter an IVS playback key-pair ARN like arn:aws:ivs:eu-west-1:123456789012:playback-key/AbCdEf123456.",
            code="invalid_key_pair_arn",
        )


def validate_room_arn(value: str) -> None:
    if len(value) > 128 or not ROOM_ARN_RE.fullmatch(value):
        raise ValidationError(
            "Enter an IVS Chat room ARN like arn:aws:ivschat:us-west-2:123456789012:room/AbCdEf123456.",
            code="invalid_room_arn",
        )


def region_of_arn(arn: str) -> str:
    """The region of an IVS ARN (channel, key pair or chat room), or "" when it has none."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and REGION_RE.fullmatch(parts[3]) else ""


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_playback_url_shape(value: str) -> None:
    parts = urlsplit(value)
    # Plain http only for a loopback host: the local IVS stand-in used by the demo and tests.
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_host(parts.hostname)):
        raise ValidationError("The playback URL must use https.", code="insecure_playback_url")
    if not parts.path.endswith(".m3u8"):
        raise ValidationError("The playback URL must point at an .m3u8 playlist.", code="not_m3u8")
    # A bare trailing "?" has an empty query but would still break the "?token=" the site appends.
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValidationError(
            "Enter the playback URL without a query string; the site adds the token.", code="playback_url_query"
        )
    host = parts.hostname or ""
    if host.endswith(IVS_PLAYBACK_HOST_SUFFIX) and not PLAYBACK_PATH_RE.search(parts.path):
        raise ValidationError(
            "An IVS playback URL ends in /api/video/v1/<region>.<account>.channel.<id>.m3u8.",
            code="not_ivs_playback_path",
        )


def validate_playback_url_matches_arn(url: str, arn: str) -> None:
    """An IVS-shaped playback URL must name the same region, account and channel as the ARN."""
    arn_match = CHANNEL_ARN_RE.fullmatch(arn)
    parts = urlsplit(url)
    path_match = PLAYBACK_PATH_RE.search(parts.path)
    if not arn_match or not path_match:
        return
    if path_match.groupdict() != arn_match.groupdict():
        # The code goes on the inner error: ValidationError drops `code` when given a dict.
        raise ValidationError(
            {
                "playback_url": ValidationError(
                    "This playback URL belongs to a different channel than the ARN.", code="playback_url_arn_mismatch"
                )
            }
        )
    host = parts.hostname or ""
    if host.endswith(IVS_PLAYBACK_HOST_SUFFIX):
        host_region = host[: -len(IVS_PLAYBACK_HOST_SUFFIX)].rsplit(".", 1)[-1]
        if host_region != arn_match["region"]:
            raise ValidationError(
                {
                    "playback_url": ValidationError(
                        "The playback host's region differs from the ARN's region.",
                        code="playback_url_region_mismatch",
                    )
                }
            )


# Python's datetimes end at year 9999 and PostgreSQL's do not: a date near either end can be stored, then breaks
# every page that reads it back or shows it in another time zone. Far inside both ends, and still generous.
EARLIEST_DATE = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_DATE = datetime(9999, 1, 1, tzinfo=UTC)  # exclusive
DATE_RANGE = "dates must fall in the years 1900 to 9998"


def validate_date_in_range(value: datetime) -> None:
    """For aware datetimes from any input: a form, the CSV import."""
    try:
        in_range = EARLIEST_DATE <= value.astimezone(UTC) < LATEST_DATE
    except OverflowError:  # the offset pushed it past year 1 or 9999
        in_range = False
    if not in_range:
        raise ValidationError(f"This date is out of range: {DATE_RANGE}.", code="date_out_of_range")
