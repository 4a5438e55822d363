"""The Stripe webhook endpoint under Stripe's delivery rules: signatures, timestamps, bad input, and events that
arrive more than once, out of order or late. Every payload is signed here, as Stripe signs it; nothing calls Stripe."""

import json
import time

import pytest

from sales import stripe_events
from sales.models import Payment, StripeEvent
from tests.sales.stripe_events import SECRET, WEBHOOK, charge, checkout_session, deliver, event, sign
from viewers.models import Entitlement


def nothing_written():
    return not (StripeEvent.objects.exists() or Payment.objects.exists() or Entitlement.objects.exists())


# --- Signature and input, with no database ----------------------------------------------------------------------


def test_a_delivery_signed_as_stripe_signs_is_read_by_the_official_library():
    body = json.dumps(event("checkout.session.completed", checkout_session(), id="evt_1")).encode()
    read = stripe_events.verify(body, sign(body), SECRET, tolerance=300)
    assert (read.id, read.type, read.object["payment_link"]) == (
        "evt_1",
        "checkout.session.completed",
        "plink_1MoC3ULkdIwHu7ixZjtGpVl2",
    )


@pytest.mark.parametrize(
    "header",
    [
        sign(b"{}", secret="whsec_someone_else"),
        "",
        "t=notanumber,v1=abc",
        "v1=" + "0" * 64,
        f"t={int(time.time())}",
    ],
    ids=["other secret", "no header", "bad timestamp", "no timestamp", "no v1 signature"],
)
def test_a_signature_that_does_not_verify_is_refused(header):
    with pytest.raises(stripe_events.Rejected, match="bad signature"):
        stripe_events.verify(b"{}", header, SECRET, tolerance=300)


# --- Signature and input, through the endpoint ---------------------------------------------------------------------


def test_a_bad_signature_is_400_and_writes_nothing(client, ticket):
    response = deliver(client, event("checkout.session.completed", checkout_session()), secret="whsec_not_ours")
    assert response.status_code == 400 and response.json() == {"error": "bad signature"}
    assert nothing_written()


def test_a_body_changed_after_signing_is_400(client, ticket):
    body = json.dumps(event("checkout.session.completed", checkout_session())).encode()
    tampered = body.replace(b"buyer@example.com", b"thief@example.com")
    response = deliver(client, tampered, signature=sign(body))
    assert response.status_code == 400 and nothing_written()


def test_a_stale_timestamp_is_400_and_the_same_event_signed_now_is_accepted(client, ticket):
    payload = event("checkout.session.completed", checkout_session())
    stale = deliver(client, payload, timestamp=int(time.time()) - 301)
    assert stale.status_code == 400 and stale.json() == {"error": "stale timestamp"}
    assert nothing_written()
    assert deliver(client, payload).status_code == 200
    assert Entitlement.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [b"not json", b"\xff\xfe binary", b"[1, 2]", b'{"id": "evt_1", "object": "event"}', b'"evt"'],
    ids=["not json", "not utf-8", "a list", "no data", "a string"],
)
def test_a_signed_body_that_is_not_an_event_is_400(client, db, body):
    response = deliver(client, body)
    assert response.status_code == 400 and response.json() == {"error": "not a Stripe event"}
    assert not StripeEvent.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 50_000 + b"]" * 50_000,
        b'{"":' * 50_000 + b"1" + b"}" * 50_000,
        json.dumps(event("checkout.session.completed", {"id": "deep"}))
        .encode()
        .replace(b'"deep"', b"[" * 50_000 + b"]" * 50_000),
    ],
    ids=["a list", "an object", "inside an event"],
)
def test_a_signed_body_nested_50000_deep_is_400_and_writes_nothing(client, ticket, body):
    response = deliver(client, body)
    assert response.status_code == 400 and response.json() == {"error": "not a Stripe event"}
    assert nothing_written()


@pytest.mark.parametrize("created", [253402300799, int(time.time()) + 2 * 86400], ids=["year 9999", "in two days"])
def test_an_event_created_in_the_future_is_400_and_writes_nothing(client, ticket, created):
    # "Days from purchase" count from `created`: a window from the year 9999 cannot even be computed.
    ticket.access_days = 30
    ticket.save()
    response = deliver(client, event("checkout.session.completed", checkout_session(), created=created))
    assert response.status_code == 400 and response.json() == {"error": "not a Stripe event"}
    assert nothing_written()


@pytest.mark.parametrize("amount", [2**63, 10**30])
def test_an_amount_no_database_column_holds_is_not_an_amount(client, ticket, amount):
    paid = deliver(client, event("checkout.session.completed", checkout_session(amount_total=amount)))
    assert paid.status_code == 200 and Payment.objects.get().amount_total is None
    refunded = deliver(client, event("charge.refunded", charge(amount_refunded=amount, refunded=False)))
    assert refunded.status_code == 200 and Payment.objects.get().amount_refunded == 0


def test_an_event_id_with_a_nul_byte_is_400_and_writes_nothing(client, ticket):
    # PostgreSQL cannot store a NUL in text: the insert would fail with a 500.
    response = deliver(client, event("checkout.session.completed", checkout_session(), id="evt_\x00"))
    assert response.status_code == 400 and nothing_written()


@pytest.mark.parametrize(
    ("field", "stored"),
    [("id", "checkout_session_id"), ("payment_intent", "payment_intent_id"), ("payment_link", "payment_link_id")],
)
def test_a_stripe_id_with_a_nul_byte_is_no_id(client, ticket, field, stored):
    response = deliver(client, event("checkout.session.completed", checkout_session(**{field: "x\x00y"})))
    assert response.status_code == 200
    assert getattr(Payment.objects.get(), stored) in (None, "")


def test_an_email_with_a_nul_byte_is_no_email(client, ticket):
    session = checkout_session()
    session["customer_details"]["email"] = "buyer\x00@example.com"
    response = deliver(client, event("checkout.session.completed", session))
    assert response.json()["outcome"] == "unmatched: the checkout carries no email address"


@pytest.mark.parametrize("method", ["get", "put", "delete", "head"])
def test_only_post_is_allowed(client, method):
    assert getattr(client, method)(WEBHOOK).status_code == 405


def test_a_huge_body_is_413_before_it_is_read(client, db):
    body = b'{"pad": "' + b"x" * (300 * 1024) + b'"}'
    response = deliver(client, body)
    assert response.status_code == 413 and nothing_written()


def test_the_endpoint_needs_no_csrf_token(ticket):
    from django.test import Client

    response = deliver(Client(enforce_csrf_checks=True), event("checkout.session.completed", checkout_session()))
    assert response.status_code == 200


def test_without_a_secret_it_answers_503_so_that_stripe_retries_later(client, settings, ticket):
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = deliver(client, event("checkout.session.completed", checkout_session()))
    assert response.status_code == 503 and nothing_written()


def test_other_event_types_are_200_and_ignored(client, ticket):
    response = deliver(client, event("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"}))
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    assert nothing_written()
