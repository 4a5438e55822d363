"""Where a viewer is: the country a channel's country rules are checked against, and the count of refusals.

IVS ignores its playback restriction policies (country allow-lists) on private channels, so the site applies
country rules itself before it issues a token. The rule lives in viewers/access.py; this module only finds the
country and counts refusals. Two sources, tried in this order:

1. a header set by the proxy or CDN in front of the site (IVS_COUNTRY_HEADER, e.g. CloudFront-Viewer-Country),
   believed only when TRUST_X_FORWARDED_FOR says the site is behind a proxy that sets it;
2. a MaxMind country database (IVS_COUNTRY_DATABASE), looked up with the client's address.

Neither gives an answer for a private address, a missing header or an unassigned code: the country is then
UNKNOWN, which an allow-list refuses and a block-list lets in (docs/COUNTRIES.md).
"""

import functools
import logging

from django.conf import settings
from django.core.signals import setting_changed
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.dispatch import receiver
from django.utils import timezone
from django_countries import countries

from viewers.client_ip import client_ip
from viewers.models import Channel, CountryDenial
from viewers.reasons import Reason

logger = logging.getLogger(__name__)

UNKNOWN = ""  # a country check was made and could not tell; None means no check at all (access.decide)


def viewer_country(request) -> str:
    """The ISO 3166-1 alpha-2 code of the viewer's country, or UNKNOWN."""
    if settings.IVS_COUNTRY_HEADER and settings.TRUST_X_FORWARDED_FOR:
        code = known_code(request.headers.get(settings.IVS_COUNTRY_HEADER, ""))
        if code:
            return code
    if settings.IVS_COUNTRY_DATABASE:
        address = client_ip(request)
        if address:
            return database_country(address)
    return UNKNOWN


def known_code(value: str) -> str:
    """`value` as an assigned ISO 3166-1 alpha-2 code, or UNKNOWN (CDNs send XX, T1, A1… for "no idea")."""
    code = value.strip().upper()
    return code if len(code) == 2 and code in countries else UNKNOWN


def source_configured() -> bool:
    return bool((settings.IVS_COUNTRY_HEADER and settings.TRUST_X_FORWARDED_FOR) or settings.IVS_COUNTRY_DATABASE)


@functools.cache
def country_database(path: str):
    """The opened database, once per process (memory-mapped: lookups cost microseconds and no I/O)."""
    import maxminddb

    return maxminddb.open_database(path)


def database_country(address: str) -> str:
    try:
        record = country_database(settings.IVS_COUNTRY_DATABASE).get(address)
    except (OSError, ValueError) as exc:  # start-up checks the file; it may still vanish or break later
        logger.warning("Country database lookup failed: %s", exc)
        return UNKNOWN
    # "country" is where the address is used; "registered_country" (where its owner is registered) is not
    # what a territorial right is about, so it is not a fallback.
    country = record.get("country") if isinstance(record, dict) else None
    return known_code(str(country.get("iso_code") or "") if isinstance(country, dict) else "")


@receiver(setting_changed)
def _reopen_on_setting_change(setting, **kwargs):
    if setting == "IVS_COUNTRY_DATABASE":
        country_database.cache_clear()


def count_denial(channel, decision) -> None:
    """Count a refusal by the channel's country rule (other refusals are not counted here).

    One UPDATE of the day's row in the common case; the first refusal of the day for a country inserts it."""
    if decision.reason != Reason.COUNTRY:
        return
    key = {"channel": channel, "day": timezone.localdate(), "country": decision.country or UNKNOWN}
    if CountryDenial.objects.filter(**key).update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            CountryDenial.objects.create(**key, count=1)
    except IntegrityError:  # another request inserted it first
        CountryDenial.objects.filter(**key).update(count=F("count") + 1)


def denials_since(channel, day) -> list[dict]:
    """[{"country", "name", "count"}], most refused first, counted from `day` on (the activity page)."""
    rows = (
        CountryDenial.objects.filter(channel=channel, day__gte=day)
        .values("country")
        .annotate(total=Sum("count"))
        .order_by("-total", "country")
    )
    return [{"country": row["country"], "name": country_name(row["country"]), "count": row["total"]} for row in rows]


def country_name(code: str) -> str:
    return countries.name(code) if code else "unknown country"


def unsourced_rule_messages() -> list[str]:
    """Channels with country rules while the site has no way to tell a viewer's country."""
    if source_configured():
        return []
    ruled = Channel.objects.exclude(allowed_countries="", blocked_countries="").order_by("name")
    names = list(ruled.values_list("name", flat=True))
    if not names:
        return []
    ignored = ""
    if settings.IVS_COUNTRY_HEADER:
        ignored = " (IVS_COUNTRY_HEADER is ignored while TRUST_X_FORWARDED_FOR is off)"
    return [
        f"{', '.join(repr(n) for n in names[:3])}{' and more' if len(names) > 3 else ''} "
        f"{'has' if len(names) == 1 else 'have'} country rules, but no country source is configured{ignored}: "
        "allow-lists refuse every viewer and block-lists refuse none."
    ]
