"""SCIM bearer tokens, one per identity provider: 32 random bytes, shown once when made or rotated, stored as their
SHA-256 (a token that long needs no slow hash: there is nothing to guess). A request names no IdP: its token does."""

import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sso.models import ScimToken

PREFIX = "ivs-scim-"  # so secret scanners and people can tell one when they see it


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def rotate(idp: str, *, by=None) -> str:
    """Make (or replace) `idp`'s token and return it: the only time it exists in clear. The old one stops working."""
    token = PREFIX + secrets.token_urlsafe(32)
    ScimToken.objects.update_or_create(
        idp=idp, defaults={"token_hash": digest(token), "created_at": timezone.now(), "created_by": by}
    )
    return token


def idp_of(request) -> ScimToken | None:
    """The token row a request's `Authorization: Bearer …` names, if it is one of a configured IdP's."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = ScimToken.objects.filter(token_hash=digest(token)).first()
    if row is None or row.idp not in settings.SSO_PROVIDER_IDS:
        return None
    return row


def record(row: ScimToken, request, status: int, detail: str = "") -> None:
    """The admin's "last SCIM request" of the IdP: method, path (no query: filters carry user names), status."""
    ScimToken.objects.filter(pk=row.pk).update(
        last_used_at=timezone.now(),
        last_method=request.method[:8],
        last_path=request.path[:200],
        last_status=status,
        last_detail=detail[:200],
    )
