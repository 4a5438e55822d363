"""Who is asking: the client's address, the one place X-Forwarded-For is trusted or not."""

import ipaddress
import logging
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("viewers.client_ip")

# Seen once per process; kept in the shared cache for a week so that `manage.py check` and the next start-up
# (system check ivs.W040) report it too.
UNTRUSTED_FORWARDING_KEY = "client:untrusted-x-forwarded-for"
_untrusted_forwarding_noted = False


def client_ip(request) -> str | None:
    """The client's IP address as text, or None if it is not a valid address."""
    address = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    # Behind a load balancer, the last X-Forwarded-For hop is the one our proxy added.
    if forwarded and settings.TRUST_X_FORWARDED_FOR:
        address = forwarded.split(",")[-1].strip()
    elif forwarded and not _untrusted_forwarding_noted:
        _note_untrusted_forwarding(address)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _note_untrusted_forwarding(proxy_address: str) -> None:
    """A proxy sends X-Forwarded-For but the site does not trust it: every client then shares the proxy's address
    for login lockouts and audit rows. Anyone can send the header, so this only warns; the operator decides."""
    global _untrusted_forwarding_noted
    _untrusted_forwarding_noted = True
    logger.warning(
        "requests arrive with X-Forwarded-For from %s but TRUST_X_FORWARDED_FOR is off: behind a proxy every "
        "client shares its address (login lockouts, audit). Set TRUST_X_FORWARDED_FOR=true if that proxy sets it.",
        proxy_address[:45],
    )
    seen = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "from": proxy_address[:45]}
    cache.set(UNTRUSTED_FORWARDING_KEY, seen, timeout=7 * 24 * 3600)
