"""Brute-force protection for logins, kept in the shared cache so every app server counts the same.

Failures are counted per account (the username as typed, hashed: unknown names count too, so
lockouts reveal nothing about which accounts exist) and per client address (IPv6 per /64). Once a
count reaches its limit within LOGIN_LOCKOUT_SECONDS of the first failure, that account or address
may not log in until the lock expires, not even with the right password.

It works on every login path: LoginThrottleBackend, first in AUTHENTICATION_BACKENDS, refuses
locked-out attempts inside authenticate() (the admin login included), and the failure signal does
the counting. ThrottledLoginView adds the clear lockout page (429) on the site's own login form.
If Redis is down the cache falls back to per-process memory (ivssite/cache.py): the limits then
hold per process, never off.
"""

import hashlib
import ipaddress
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.shortcuts import render

from viewers.client import client_ip

logger = logging.getLogger("viewers.throttle")


@dataclass(frozen=True)
class Lockout:
    scope: str  # "account" or "address"
    until: float  # epoch seconds

    @property
    def seconds_left(self) -> int:
        return max(1, int(self.until - time.time()) + 1)

    @property
    def minutes_left(self) -> int:
        return -(-self.seconds_left // 60)


def client_address(request) -> str | None:
    """The client's address, or its /64 for IPv6 (one host usually holds the whole /64)."""
    address = client_ip(request) if request is not None else None
    if address is None:
        return None
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _scopes(request, username: str):
    """(scope, key, limit) for every counter this attempt belongs to."""
    scopes = []
    name = (username or "").strip().casefold()
    if name:
        digest = hashlib.sha256(name.encode()).hexdigest()[:32]
        scopes.append(("account", f"login:account:{digest}", settings.LOGIN_FAILURES_PER_ACCOUNT))
    address = client_address(request)
    if address:
        scopes.append(("address", f"login:address:{address}", settings.LOGIN_FAILURES_PER_IP))
    return scopes


def lockout(request, username: str) -> Lockout | None:
    scopes = _scopes(request, username)
    locks = cache.get_many([f"{key}:lock" for _, key, _ in scopes])
    for scope, key, _ in scopes:
        until = locks.get(f"{key}:lock")
        if until and until > time.time():
            return Lockout(scope, until)
    return None


def record_failure(request, username: str) -> Lockout | None:
    window = settings.LOGIN_LOCKOUT_SECONDS
    locked = None
    for scope, key, limit in _scopes(request, username):
        count_key = f"{key}:failures"
        cache.add(count_key, 0, timeout=window)
        try:
            failures = cache.incr(count_key)
        except ValueError:  # expired between add() and incr()
            cache.set(count_key, 1, timeout=window)
            failures = 1
        if failures == limit:
            until = time.time() + window
            cache.set(f"{key}:lock", until, timeout=window)
            # The address is logged (who is attacking); the account only as its hash prefix.
            logger.warning(
                "login lockout: %s %s after %d failures, for %ds",
                scope,
                key.rsplit(":", 1)[1][:12] if scope == "account" else client_address(request),
                failures,
                window,
            )
        if failures >= limit and locked is None:
            locked = lockout(request, username)
    return locked


def record_success(request, username: str) -> None:
    # Only the account's count: logging in to one account must not wipe an address's failures.
    for scope, key, _ in _scopes(request, username):
        if scope == "account":
            cache.delete(f"{key}:failures")


class LoginThrottleBackend:
    """Refuses any authentication attempt for a locked account or address; never authenticates anyone.

    It has no get_user() on purpose: sessions and force_login() must name the backend that logs users in.
    """

    def authenticate(self, request, username=None, **credentials):
        if username is not None and lockout(request, username):
            raise PermissionDenied("locked out")  # authenticate() stops here and reports a failed login
        return None


@receiver(user_login_failed, dispatch_uid="viewers.throttle.failed")
def _count_failure(sender, credentials, request=None, **kwargs):
    record_failure(request, credentials.get("username") or "")


@receiver(user_logged_in, dispatch_uid="viewers.throttle.succeeded")
def _forget_failures(sender, request, user, **kwargs):
    record_success(request, user.get_username())


def locked_out_response(request, locked: Lockout):
    response = render(request, "registration/locked_out.html", {"lockout": locked}, status=429)
    response["Retry-After"] = str(locked.seconds_left)
    response["Cache-Control"] = "no-store"
    return response


class ThrottledLoginView(LoginView):
    """Django's LoginView that says clearly when, and for how long, logging in is locked."""

    def post(self, request, *args, **kwargs):
        locked = lockout(request, request.POST.get("username", "")[:150])
        if locked:
            return locked_out_response(request, locked)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        # This failure may have been the one that reached the limit.
        locked = lockout(self.request, (form.data.get("username") or "")[:150])
        if locked:
            return locked_out_response(self.request, locked)
        return super().form_invalid(form)
