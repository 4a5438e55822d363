"""Reading a Stripe webhook delivery: the signature, then the event. No database, no network.

The signature is checked by Stripe's own library (`stripe.Webhook.construct_event`): an HMAC-SHA256 of
"<timestamp>.<raw body>" with the endpoint's secret, and a timestamp no older than the tolerance, so a captured
delivery cannot be replayed later. Stripe signs every retry afresh, so a late event still has a fresh timestamp.
"""

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import stripe

logger = logging.getLogger(__name__)


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
    except stripe.SignatureVerificationError as exc:
        # The library's message says which check failed (no header, no match, timestamp too old); it holds
        # neither the secret nor the expected signature.
        logger.warning("Stripe webhook refused: %s", exc.user_message or exc)
        stale = "tolerance" in str(exc)
        raise Rejected("stale timestamp" if stale else "bad signature") from None
    except (ValueError, TypeError, AttributeError, KeyError):
        # Signed, but not UTF-8, not JSON, or not a snapshot event object: the library's parser gave up.
        raise Rejected("not a Stripe event") from None
    return _event(json.loads(payload))


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
    return event
