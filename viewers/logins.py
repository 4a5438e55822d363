"""Login lockouts: django-axes on the shared cache, configured in settings (AXES_*). This module holds the few
things its configuration points at.

The rule: failures count per (account, address) pair and per address, for LOGIN_LOCKOUT_SECONDS after the last
one. LOGIN_FAILURES_PER_ACCOUNT failures lock that account *from that address*, so nobody can lock an admin out of
the admin from everywhere; LOGIN_FAILURES_PER_IP failures lock the address for every account (one address
guessing many accounts). Unknown usernames count too, so a lockout reveals nothing. AxesStandaloneBackend, first
in AUTHENTICATION_BACKENDS, refuses a locked attempt inside authenticate(), so every login path (the site's form,
the admin's) is covered, and the lockout page answers 429 with Retry-After.

The address is viewers.client_ip's: X-Forwarded-For only with TRUST_X_FORWARDED_FOR, IPv6 per /64. Without a known
address (a unix-socket bind without a trusted proxy header) only the account counts, site-wide; check ivs.W041
says so at start-up. If Redis is down the cache falls back to per-process memory (ivssite/cache.py): the limits
then hold per process, never off.
"""

import ipaddress
import logging
from datetime import timedelta

from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_cache, get_client_cache_keys, get_credentials
from django.conf import settings
from django.shortcuts import render

from viewers.client_ip import client_ip

logger = logging.getLogger("viewers.logins")


def client_address(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the client's address, or its /64 for IPv6 (one host usually holds the whole /64)."""
    address = client_ip(request)
    if address is None:
        return None
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def username(request, credentials) -> str:
    """AXES_USERNAME_CALLABLE: " Alice" and "ALICE" are the same account to count."""
    data = credentials or getattr(request, "POST", {}) or {}
    return str(data.get("username") or "").strip().casefold()[:150]


def cool_off(request=None) -> timedelta:
    """AXES_COOLOFF_TIME, read when used so that the setting can change (tests)."""
    return timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


class LoginLockouts(AxesCacheHandler):
    """axes' cache handler with one limit per lockout parameter: axes compares the highest of its counters
    (AXES_LOCKOUT_PARAMETERS: the (account, address) pair, then the address) with a single AXES_FAILURE_LIMIT."""

    def __init__(self):  # the cache is looked up on use, so it follows CACHES (and each thread's connection)
        pass

    @property
    def cache(self):
        return get_cache()

    def locked_scope(self, request, credentials=None) -> str | None:
        pair, address = get_client_cache_keys(request, credentials)
        counts = self.cache.get_many([pair, address])
        if counts.get(pair, 0) >= settings.LOGIN_FAILURES_PER_ACCOUNT:
            return "account"
        if client_address(request) and counts.get(address, 0) >= settings.LOGIN_FAILURES_PER_IP:
            return "address"
        return None

    def is_locked(self, request, credentials=None) -> bool:
        return self.locked_scope(request, credentials) is not None

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        was_locked = request is not None and self.is_locked(request, credentials)
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None:
            return
        scope = self.locked_scope(request, credentials)
        request.axes_locked_out = scope is not None  # what AxesMiddleware turns into the lockout page
        request.axes_credentials = credentials
        if scope and not was_locked:
            # The address is logged (who is attacking), never the account name.
            logger.warning("login lockout: %s from %s for %ds", scope, client_address(request), cool_off().seconds)

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        # Only the pair's failures: logging in to one account must not wipe an address's failures.
        pair, _ = get_client_cache_keys(request, get_credentials(user.get_username()))
        self.cache.delete(pair)


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the page that says what is locked and for how long."""
    credentials = credentials or getattr(request, "axes_credentials", None)
    scope = LoginLockouts().locked_scope(request, credentials) or "account"
    minutes = -(-settings.LOGIN_LOCKOUT_SECONDS // 60)
    context = {"lockout": {"scope": scope, "minutes_left": minutes}}
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(settings.LOGIN_LOCKOUT_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
