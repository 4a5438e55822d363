"""Issuing playback: the one place a token is minted for a viewer, audited, and counted against the device limit."""

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connections, router, transaction

from viewers import revocation
from viewers.access import AccessDecision
from viewers.client_ip import client_ip
from viewers.ivs import signing_keys, tokens
from viewers.models import SessionEnd, TokenAudit, User
from viewers.player import rows, sql


@dataclass(frozen=True)
class Playback:
    url: str  # carries ?token= on private channels: treat it as a secret
    expires_at: datetime | None
    session: int | None = None  # the TokenAudit id, which is also the token's session version


def takes_over_screens(channel) -> bool:
    """Does starting playback here stop the viewer's other screens? Then only the player's POST may do it."""
    return bool(channel.is_private and channel.max_devices and settings.IVS_TOKEN_VIEWER_ID)


def issue(*, user, channel, decision: AccessDecision, request, purpose: str = "page") -> Playback:
    """The playback URL for a viewer the access rule has let in."""
    if not decision.allowed:
        raise PermissionError("issue() needs an allowing access decision")
    if not channel.is_private:
        return Playback(url=channel.playback_url, expires_at=None)
    signing_key = signing_keys.signing_key()  # fail before writing anything if the key is unusable
    if takes_over_screens(channel):
        with transaction.atomic():
            # Lock the viewer so two app servers cannot both count the same screens and both pass.
            list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))
            audit, token = _mint_audited(signing_key, user, channel, decision, request, purpose)
            _stop_screens_beyond_limit(user, channel, keep=channel.max_devices, newest=audit.pk)
    else:
        audit, token = _mint_audited(signing_key, user, channel, decision, request, purpose)
    return Playback(url=tokens.with_token(channel.playback_url, token), expires_at=audit.expires_at, session=audit.pk)


def _mint_audited(signing_key, user, channel, decision, request, purpose):
    # The audit row comes first: its id becomes the token's aws:viewer-session-version.
    now = int(time.time())
    ttl = settings.IVS_TOKEN_TTL_SECONDS
    viewer_id = user.viewer_id if settings.IVS_TOKEN_VIEWER_ID else None
    single_use = str(uuid.uuid4()) if settings.IVS_TOKEN_SINGLE_USE else None
    audit = _insert_audit(
        user=user.pk,
        channel=channel.pk,
        channel_arn=channel.arn,
        channel_name=channel.name,
        key_fingerprint=signing_keys.signing_fingerprint(),
        viewer_id=viewer_id or "",
        single_use_uuid=single_use,
        max_resolution=decision.max_resolution or "",
        issued_at=datetime.fromtimestamp(now, UTC),
        expires_at=datetime.fromtimestamp(now + ttl, UTC),
        client_ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        purpose=purpose,
        end_reason="",
    )
    minted = tokens.mint(
        signing_key,
        channel_arn=channel.arn,
        now=now,
        ttl=ttl,
        viewer_id=viewer_id,
        session_version=audit.pk,
        single_use_uuid=single_use,
        allowed_origins=settings.IVS_ALLOWED_ORIGINS,
        strict_origin=settings.IVS_STRICT_ORIGIN_ENFORCEMENT,
        max_resolution=decision.max_resolution,
    )
    return audit, minted.token


@dataclass(frozen=True)
class _Audit:
    pk: int
    expires_at: datetime


def _insert_audit(**values) -> _Audit:
    """One INSERT … RETURNING id (sql.audit_insert): the same row TokenAudit.objects.create() writes
    (tests/viewers/player/test_views.py reads it back through the model) at half its CPU (~0.2 ms a player page,
    bench/)."""
    statement, prepared_by = sql.audit_insert(tuple(values))
    connection = connections[router.db_for_write(TokenAudit)]
    params = {
        name: value if field is None or value is None else field.get_db_prep_save(value, connection)
        for (name, value), field in zip(values.items(), prepared_by, strict=True)
    }
    with rows.hot_cursor(connection) as cursor:
        cursor.execute(statement, params)
        (pk,) = cursor.fetchone()
    return _Audit(pk=pk, expires_at=values["expires_at"])


def _stop_screens_beyond_limit(user, channel, *, keep, newest):
    """Newest screens win: the viewer's open sessions past the `keep` newest are revoked."""
    open_ids = list(
        TokenAudit.objects.open()
        .filter(user=user, channel=channel, pk__lte=newest)
        .order_by("-pk")
        .values_list("pk", flat=True)[keep : keep + 1]
    )
    if open_ids:
        revocation.revoke_sessions(
            user_id=user.pk, channel=channel, reason=SessionEnd.SUPERSEDED, through_version=open_ids[0]
        )
