"""Stripe webhook deliveries built the way Stripe builds them, for tests that never call Stripe.

The objects follow the shapes of Stripe's documented examples (API reference: the Checkout Session, Charge and
Dispute objects; the Event object), trimmed of fields the site does not read. `sign()` computes the
Stripe-Signature header itself, as Stripe does: HMAC-SHA256 of "<t>.<raw body>" with the endpoint secret, hex,
as "t=<t>,v1=<signature>"; it does not use the stripe package, so the tests check the package against the scheme.
"""

import hashlib
import hmac
import itertools
import json
import time

SECRET = "whsec_test_4eC39HqLyjWDarjtT1zdp7dc"
WEBHOOK = "/webhooks/stripe/"
PAYMENT_LINK = "plink_1MoC3ULkdIwHu7ixZjtGpVl2"

_ids = itertools.count(1)


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


def event(type_: str, obj: dict, *, id: str | None = None, created: int | None = None) -> dict:
    return {
        "id": id or f"evt_1NG8Du2eZvKYlo2C{next(_ids):08d}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()) if created is None else created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def checkout_session(n: int = 1, *, email="buyer@example.com", payment_status="paid", **overrides) -> dict:
    session = {
        "id": f"cs_test_a1uS9U7mL0zDhvwzkx6k7YhmITcD9dQUVp1gkQsMSE4h{n:06d}",
        "object": "checkout.session",
        "amount_subtotal": 2500,
        "amount_total": 2500,
        "cancel_url": None,
        "client_reference_id": None,
        "created": int(time.time()) - 60,
        "currency": "eur",
        "customer": None,
        "customer_details": {
            "address": {"city": None, "country": "DE", "line1": None, "postal_code": None},
            "email": email,
            "name": "Jenny Rosen",
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        },
        "customer_email": None,
        "livemode": False,
        "metadata": {},
        "mode": "payment",
        "payment_intent": f"pi_3MtwBwLkdIwHu7ix28a3tqPa{n:06d}",
        "payment_link": PAYMENT_LINK,
        "payment_method_types": ["card"],
        "payment_status": payment_status,
        "status": "complete",
        "success_url": "https://watch.example.com/thanks",
        "url": None,
    }
    session.update(overrides)
    return session


def charge(n: int = 1, *, refunded=True, amount_refunded=2500, **overrides) -> dict:
    obj = {
        "id": f"ch_3MmlLrLkdIwHu7ix0snN0B15{n:06d}",
        "object": "charge",
        "amount": 2500,
        "amount_captured": 2500,
        "amount_refunded": amount_refunded,
        "billing_details": {"address": {"country": "DE"}, "email": "buyer@example.com", "name": "Jenny Rosen"},
        "captured": True,
        "created": int(time.time()) - 30,
        "currency": "eur",
        "paid": True,
        "payment_intent": f"pi_3MtwBwLkdIwHu7ix28a3tqPa{n:06d}",
        "payment_method": "pm_1MmlLrLkdIwHu7ixIJwEWSNR",
        "payment_method_details": {
            "card": {
                "brand": "visa",
                "country": "US",
                "exp_month": 3,
                "exp_year": 2034,
                "fingerprint": "Xt5EWLLDS7FJjR1c",
                "funding": "credit",
                "last4": "4242",
                "network": "visa",
            },
            "type": "card",
        },
        "receipt_email": "buyer@example.com",
        "refunded": refunded,
        "status": "succeeded",
    }
    obj.update(overrides)
    return obj


def dispute(n: int = 1, **overrides) -> dict:
    obj = {
        "id": f"du_1MtJUT2eZvKYlo2CNaw2HvEv{n:06d}",
        "object": "dispute",
        "amount": 2500,
        "charge": f"ch_3MmlLrLkdIwHu7ix0snN0B15{n:06d}",
        "created": int(time.time()) - 10,
        "currency": "eur",
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": f"pi_3MtwBwLkdIwHu7ix28a3tqPa{n:06d}",
        "reason": "fraudulent",
        "status": "needs_response",
    }
    obj.update(overrides)
    return obj


def deliver(client, payload, *, secret: str = SECRET, timestamp: int | None = None, signature: str | None = None):
    """POST one delivery as Stripe does: the raw JSON body and its Stripe-Signature header."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    header = signature if signature is not None else sign(body, secret, timestamp)
    return client.post(WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
