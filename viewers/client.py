"""Who is asking: the client's address, the one place X-Forwarded-For is trusted or not."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's IP address as text, or None if it is not a valid address."""
    address = request.META.get("REMOTE_ADDR", "")
    # Behind a load balancer, the last X-Forwarded-For hop is the one our proxy added.
    if settings.TRUST_X_FORWARDED_FOR and request.META.get("HTTP_X_FORWARDED_FOR"):
        address = request.META["HTTP_X_FORWARDED_FOR"].split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
