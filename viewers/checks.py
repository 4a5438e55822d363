"""Start-up checks: a misconfigured key or token policy stops the site before any request."""

import os
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.cache import cache
from django.db import DatabaseError

from viewers import client_ip
from viewers.ivs import origins, signing_keys, tokens


@checks.register("ivs")
def check_playback_key(app_configs=None, **kwargs):
    if signing_keys.is_configured():
        try:
            signing_keys.forget_cached_keys()
            signing_keys.signing_key()
        except tokens.PlaybackKeyError as exc:
            return [checks.Error(f"Playback key unusable: {exc}.", hint=_KEY_HINT, id="ivs.E001")]
        return []
    if _private_channels_exist():
        return [
            checks.Error("No playback key is configured but private channels exist.", hint=_KEY_HINT, id="ivs.E002")
        ]
    return [
        checks.Warning("No playback key is configured; private channels cannot play.", hint=_KEY_HINT, id="ivs.W001")
    ]


_KEY_HINT = (
    "Set IVS_PLAYBACK_PRIVATE_KEY_FILE (or IVS_PLAYBACK_PRIVATE_KEY) to an ECDSA P-384 private key in PEM; "
    "`manage.py ivs_keygen` makes one."
)


def _private_channels_exist() -> bool:
    from viewers.models import Channel

    try:
        return Channel.objects.filter(is_private=True).exists()
    except DatabaseError:
        # Before migrations there are no channels; a missing table is not this check's business.
        return False


@checks.register("ivs")
def check_token_policy(app_configs=None, **kwargs):
    errors = []
    ttl = settings.IVS_TOKEN_TTL_SECONDS
    session_claims = settings.IVS_TOKEN_SINGLE_USE or settings.IVS_TOKEN_VIEWER_ID
    if ttl <= 0:
        errors.append(checks.Error("IVS_TOKEN_TTL_SECONDS must be positive.", id="ivs.E010"))
    elif session_claims and ttl > tokens.MAX_TTL_WITH_SESSION_CLAIMS:
        errors.append(
            checks.Error(
                f"IVS_TOKEN_TTL_SECONDS is {ttl}; IVS refuses tokens over 600 seconds that carry a viewer id "
                "or a single-use id.",
                hint="Lower IVS_TOKEN_TTL_SECONDS to 600 or less.",
                id="ivs.E011",
            )
        )
    for origin in settings.IVS_ALLOWED_ORIGINS:
        try:
            origins.validate_origin(origin)
        except ValueError as exc:
            errors.append(checks.Error(f"IVS_ALLOWED_ORIGINS: {exc}.", id="ivs.E012"))
    if settings.IVS_STRICT_ORIGIN_ENFORCEMENT:
        if len(settings.IVS_ALLOWED_ORIGINS) > tokens.MAX_STRICT_ORIGINS:
            errors.append(
                checks.Error("Strict origin enforcement allows at most 5 IVS_ALLOWED_ORIGINS.", id="ivs.E013")
            )
        if not settings.IVS_ALLOWED_ORIGINS:
            errors.append(checks.Error("IVS_STRICT_ORIGIN_ENFORCEMENT needs IVS_ALLOWED_ORIGINS.", id="ivs.E014"))
    return errors


@checks.register("ivs")
def check_device_limits(app_configs=None, **kwargs):
    """A device limit counts sessions, and only single-use tokens with viewer ids make one session per token."""
    from viewers.models import Channel

    if settings.IVS_TOKEN_VIEWER_ID and settings.IVS_TOKEN_SINGLE_USE:
        return []
    try:
        limited = Channel.objects.filter(max_devices__isnull=False).exists()
    except DatabaseError:
        return []
    if not limited:
        return []
    messages = []
    if not settings.IVS_TOKEN_VIEWER_ID:
        messages.append(
            checks.Warning(
                "Some channels have a device limit, but IVS_TOKEN_VIEWER_ID is off, so IVS cannot stop old screens.",
                hint="Set IVS_TOKEN_VIEWER_ID=true, or clear the channels' device limits.",
                id="ivs.W010",
            )
        )
    if not settings.IVS_TOKEN_SINGLE_USE:
        messages.append(
            checks.Warning(
                "Some channels have a device limit, but IVS_TOKEN_SINGLE_USE is off: one token can open any number "
                "of sessions with the same version, and the limit counts them as one.",
                hint="Set IVS_TOKEN_SINGLE_USE=true, or clear the channels' device limits.",
                id="ivs.W011",
            )
        )
    return messages


@checks.register("ivs")
def check_registered_keys(app_configs=None, **kwargs):
    """IVS holds at most 3 key pairs per region; and the key the site signs with must be one IVS knows."""
    from viewers.ivs.key_rotation import IVS_KEY_LIMIT
    from viewers.models import PlaybackKey

    try:
        registered = list(PlaybackKey.objects.values_list("name", "fingerprint", "is_active"))
    except DatabaseError:
        return []  # before migrations
    messages = []
    active = [name for name, _, is_active in registered if is_active]
    if len(active) > IVS_KEY_LIMIT:
        messages.append(
            checks.Warning(
                f"{len(active)} playback keys are active; IVS accepts at most {IVS_KEY_LIMIT} per account and region.",
                hint="Delete keys that stopped signing more than one token TTL ago (Playback keys in the admin, "
                "or `manage.py ivs_rotate_key delete NAME`).",
                id="ivs.W020",
            )
        )
    # Only with keys registered: a fresh install has none yet and must still start.
    if registered and signing_keys.is_configured():
        try:
            configured = tokens.fingerprint(signing_keys.signing_key())
        except tokens.PlaybackKeyError:
            return messages  # ivs.E001 reports that
        if configured not in {fingerprint for _, fingerprint, is_active in registered if is_active}:
            messages.append(
                checks.Error(
                    f"The configured playback private key ({configured}) matches no active registered public key, "
                    "so IVS would reject every token the site signs.",
                    hint="Register its public half (Playback keys in the admin, or `manage.py ivs_keygen` / "
                    "`ivs_rotate_key`), or point IVS_PLAYBACK_PRIVATE_KEY_FILE at the key that is registered.",
                    id="ivs.E020",
                )
            )
    return messages


_FORWARDING_HINT = (
    "Behind a load balancer or reverse proxy that sets X-Forwarded-For, set TRUST_X_FORWARDED_FOR=true (and only "
    "then: a client could forge the header); otherwise every client shares the proxy's address for login lockouts "
    "and the token audit."
)


@checks.register("ivs")
def check_client_addresses(app_configs=None, **kwargs):
    """Login lockouts per address and the audit need each client's own address (docs/SECURITY.md)."""
    if settings.TRUST_X_FORWARDED_FOR:
        return []
    messages = []
    if os.environ.get("GUNICORN_BIND", "").startswith("unix:"):
        messages.append(
            checks.Warning(
                "gunicorn listens on a unix socket and TRUST_X_FORWARDED_FOR is off, so the site never sees a "
                "client address: login lockouts count per account only, site-wide, and the audit has no address.",
                hint=_FORWARDING_HINT,
                id="ivs.W041",
            )
        )
    seen = cache.get(client_ip.UNTRUSTED_FORWARDING_KEY)
    if seen:
        messages.append(
            checks.Warning(
                f"Requests arrived with an X-Forwarded-For header from {seen['from']} (last noticed {seen['at']}) "
                "while TRUST_X_FORWARDED_FOR is off.",
                hint=_FORWARDING_HINT,
                id="ivs.W040",
            )
        )
    return messages


@checks.register("ivs")
def check_country_source(app_configs=None, **kwargs):
    """Country rules need a way to tell the viewer's country (viewers/player/geo.py)."""
    from viewers.player import geo

    messages = []
    if settings.IVS_COUNTRY_DATABASE:
        try:
            geo.country_database.cache_clear()
            geo.country_database(settings.IVS_COUNTRY_DATABASE)
        except Exception as exc:  # maxminddb raises OSError, ValueError or InvalidDatabaseError
            messages.append(
                checks.Error(
                    f"IVS_COUNTRY_DATABASE {settings.IVS_COUNTRY_DATABASE} cannot be read as a MaxMind database: "
                    f"{exc}.",
                    hint="Point it at a GeoLite2-Country.mmdb or GeoIP2-Country.mmdb file, or leave it empty.",
                    id="ivs.E030",
                )
            )
    if settings.IVS_COUNTRY_HEADER and not settings.TRUST_X_FORWARDED_FOR:
        messages.append(
            checks.Warning(
                f"IVS_COUNTRY_HEADER ({settings.IVS_COUNTRY_HEADER}) is ignored: TRUST_X_FORWARDED_FOR is off, so "
                "the site does not believe headers a proxy may have set.",
                hint="Set TRUST_X_FORWARDED_FOR=true if (and only if) a proxy that sets the header fronts the site.",
                id="ivs.W031",
            )
        )
    try:
        unsourced = geo.unsourced_rule_messages()
    except DatabaseError:
        return messages  # before migrations
    messages += [
        checks.Warning(
            message,
            hint="Set IVS_COUNTRY_HEADER (with TRUST_X_FORWARDED_FOR) or IVS_COUNTRY_DATABASE.",
            id="ivs.W030",
        )
        for message in unsourced
    ]
    return messages


@checks.register("ivs")
def check_key_regions(app_configs=None, **kwargs):
    """A channel accepts only tokens signed by a key imported in its own region (viewers/ivs/key_regions.py)."""
    from viewers import validators
    from viewers.ivs import key_regions

    messages = [
        checks.Error(f"IVS_REGIONS: {region!r} is not an AWS region name like eu-west-1.", id="ivs.E032")
        for region in settings.IVS_REGIONS
        if not validators.REGION_RE.fullmatch(region)
    ]
    try:
        missing = key_regions.missing_key_messages()
    except DatabaseError:
        return messages
    messages += [
        checks.Warning(
            message,
            hint="Import it there: Playback keys → the signing key → Import into IVS (or `aws ivs "
            "import-playback-key-pair --region …`, then add the ARN on the key's page).",
            id="ivs.W021",
        )
        for message in missing
    ]
    return messages


@checks.register("ivs")
def check_site_url(app_configs=None, **kwargs):
    """The links in emails are SITE_URL plus a path: without a usable one they would lead nowhere, or elsewhere."""
    if not settings.SITE_URL:
        return [checks.Error("SITE_URL is not set; emails need it for links.", hint=_SITE_URL_HINT, id="ivs.E060")]
    problem = _site_url_problem(settings.SITE_URL)
    if problem:
        return [checks.Error(f"SITE_URL {problem}.", hint=_SITE_URL_HINT, id="ivs.E061")]
    return []


_SITE_URL_HINT = "Set SITE_URL to the site's public address, e.g. SITE_URL=https://watch.example.com."


def _site_url_problem(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  raises for a port that is not a number from 0 to 65535
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http:// or https:// URL"
    if parts.username is not None or parts.password is not None:
        return "must not hold a user name or password"  # and the message must not repeat them
    if parts.path not in ("", "/") or parts.query or parts.fragment or url.endswith(("?", "#")):
        return f"must be the site's root, {parts.scheme}://{parts.netloc}, with no path, query or fragment"
    return ""
