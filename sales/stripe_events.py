"""Reading a Stripe webhook delivery: the signature, then the event. No database, no network.

The signature is checked by Stripe's own library (`stripe.Webhook.construct_event`): an HMAC-SHA256 of
"<timestamp>.<raw body>" with the endpoint's secret, and a timestamp no older than the tolerance, so a captured
delivery cannot be replayed later. Stripe signs every retry afresh, so a late event still has a fresh timestamp.
"""

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import stripe

logger = logging.getLogger(__name__)

# How far Stripe's clock may be ahead of this server's.
CLOCK_SKEW = timedelta(days=1)


class Rejected(Exception):
    """The delivery is not a genuine, well-formed Stripe event; answer 400 and write nothing."""


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    created: datetime
    livemode: bool
    object: dict


def verify(payload: bytes, signature_header: str | None, secret: str, tolerance: int) -> Event:
    try:
        stripe.Webhook.construct_event(payload, signature_header, secret, tolerance=tolerance)
        data = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        # The library's message says which check failed (no header, no match, timestamp too old); it holds
        # neither the secret nor the expected signature.
        logger.warning("Stripe webhook refused: %s", exc.user_message or exc)
        stale = "tolerance" in str(exc)
        raise Rejected("stale timestamp" if stale else "bad signature") from None
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError):
        # Signed, but not UTF-8, not JSON, or not a snapshot event object: the parsers gave up. Both parsers
        # recurse once per level of nesting, so a body nested thousands deep (no Stripe event is) ends here too.
        raise Rejected("not a Stripe event") from None
    return _event(data)


def _event(data) -> Event:
    try:
        obj = data["data"]["object"]
        event = Event(
            id=data["id"],
            type=data["type"],
            created=datetime.fromtimestamp(data["created"], tz=UTC),
            livemode=bool(data.get("livemode")),
            object=obj,
        )
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        raise Rejected("not a Stripe event") from None
    if not (isinstance(event.id, str) and isinstance(event.type, str) and isinstance(obj, dict)) or not event.id:
        raise Rejected("not a Stripe event")
    if "\x00" in event.id:  # PostgreSQL cannot store it, and Stripe's ids never hold one
        raise Rejected("not a Stripe event")
    # Stripe creates an event before it signs its delivery. Windows count from `created`, so one from the future
    # would move them, and one near the year 9999 could not be computed at all.
    if event.created > datetime.now(UTC) + CLOCK_SKEW:
        raise Rejected("not a Stripe event")
    return event
