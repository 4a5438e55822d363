"""Issuing playback: the one place a token is minted for a viewer, and audited."""

import ipaddress
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from viewers import keys, tokens
from viewers.access import AccessDecision
from viewers.models import TokenAudit


@dataclass(frozen=True)
class Playback:
    url: str  # carries ?token= on private channels: treat it as a secret
    expires_at: datetime | None


def issue(*, user, channel, decision: AccessDecision, request, purpose: str = "page") -> Playback:
    """The playback URL for a viewer the access rule has let in."""
    if not decision.allowed:
        raise PermissionError("issue() needs an allowing access decision")
    if not channel.is_private:
        return Playback(url=channel.playback_url, expires_at=None)

    now = int(time.time())
    single_use = str(uuid.uuid4()) if settings.IVS_TOKEN_SINGLE_USE else None
    viewer_id = user.viewer_id if settings.IVS_TOKEN_VIEWER_ID else None
    minted = tokens.mint(
        keys.signing_key(),
        channel_arn=channel.arn,
        now=now,
        ttl=settings.IVS_TOKEN_TTL_SECONDS,
        viewer_id=viewer_id,
        session_version=user.playback_session_version,
        single_use_uuid=single_use,
        allowed_origins=settings.IVS_ALLOWED_ORIGINS,
        strict_origin=settings.IVS_STRICT_ORIGIN_ENFORCEMENT,
        max_resolution=decision.max_resolution,
    )
    expires_at = datetime.fromtimestamp(minted.expires_at, UTC)
    TokenAudit.objects.create(
        user=user,
        channel=channel,
        viewer_id=viewer_id or "",
        session_version=user.playback_session_version if viewer_id else None,
        single_use_uuid=single_use,
        max_resolution=decision.max_resolution or "",
        issued_at=datetime.fromtimestamp(now, UTC),
        expires_at=expires_at,
        client_ip=_client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        purpose=purpose,
    )
    return Playback(url=tokens.with_token(channel.playback_url, minted.token), expires_at=expires_at)


def _client_ip(request) -> str | None:
    address = request.META.get("REMOTE_ADDR", "")
    # Behind a load balancer, the last X-Forwarded-For hop is the one our proxy added.
    if settings.TRUST_X_FORWARDED_FOR and request.META.get("HTTP_X_FORWARDED_FOR"):
        address = request.META["HTTP_X_FORWARDED_FOR"].split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
