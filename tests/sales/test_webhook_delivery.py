"""The Stripe webhook endpoint when Stripe delivers an event more than once, out of order, late, or two at the same
time: each payment grants once and revokes once. Every payload is signed here, as Stripe signs it."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError

from sales import services, stripe_events
from sales.models import Payment, StripeEvent
from tests.sales.stripe_events import SECRET, charge, checkout_session, deliver, dispute, event, sign
from viewers.models import Entitlement, User

# --- Delivered more than once ---------------------------------------------------------------------------------------


def test_the_same_event_delivered_twice_grants_once_and_emails_once(client, ticket, mailoutbox):
    payload = event("checkout.session.completed", checkout_session())
    first, second = deliver(client, payload), deliver(client, payload)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["outcome"] == "duplicate"
    assert Entitlement.objects.count() == 1 and StripeEvent.objects.count() == 1
    assert len(mailoutbox) == 1


def test_two_events_saying_the_same_payment_succeeded_grant_once(client, ticket, mailoutbox):
    deliver(client, event("checkout.session.completed", checkout_session()))
    response = deliver(client, event("checkout.session.async_payment_succeeded", checkout_session()))
    assert response.json()["outcome"] == "already granted"
    assert Entitlement.objects.count() == 1 and len(mailoutbox) == 1


def test_a_refund_delivered_twice_revokes_once(client, ticket):
    deliver(client, event("checkout.session.completed", checkout_session()))
    refund = event("charge.refunded", charge())
    assert deliver(client, refund).json()["outcome"] == "refunded: revoked 1 entitlement"
    assert deliver(client, refund).json()["outcome"] == "duplicate"
    assert deliver(client, event("charge.refunded", charge())).json()["outcome"] == "refunded: already revoked"


# --- Out of order -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reversal", "label"),
    [
        (lambda: event("charge.refunded", charge()), "refunded"),
        (lambda: event("charge.dispute.created", dispute()), "disputed"),
    ],
    ids=["refund", "dispute"],
)
def test_a_reversal_before_its_purchase_is_remembered_and_the_purchase_grants_nothing(
    client, ticket, mailoutbox, reversal, label
):
    early = deliver(client, reversal())
    assert early.status_code == 200 and early.json()["outcome"] == f"{label}: nothing was granted; remembered"
    purchase = deliver(client, event("checkout.session.completed", checkout_session()))
    assert purchase.json()["outcome"] == "reversed before the purchase: nothing granted"
    payment = Payment.objects.get()
    assert (payment.status, payment.email, payment.checkout_session_id[:8]) == (
        "reversed",
        "buyer@example.com",
        "cs_test_",
    )
    assert not Entitlement.objects.exists() and not User.objects.filter(email="buyer@example.com").exists()
    assert mailoutbox == []


def test_an_async_success_before_its_checkout_completed_grants_once(client, ticket):
    deliver(client, event("checkout.session.async_payment_succeeded", checkout_session()))
    late = deliver(client, event("checkout.session.completed", checkout_session(payment_status="unpaid")))
    assert late.json()["outcome"] == "checkout completed, payment already granted"
    assert Payment.objects.get().status == "granted" and Entitlement.objects.count() == 1


def test_an_async_failure_before_its_checkout_completed_grants_nothing(client, ticket):
    deliver(client, event("checkout.session.async_payment_failed", checkout_session(payment_status="unpaid")))
    deliver(client, event("checkout.session.completed", checkout_session(payment_status="unpaid")))
    payment = Payment.objects.get()
    assert (payment.status, payment.reversal) == ("reversed", "failed") and not Entitlement.objects.exists()


def test_a_checkout_without_a_session_id_is_not_taken_for_a_payment_that_began_with_a_refund(client, ticket):
    deliver(client, event("charge.refunded", charge(1)))
    purchase = deliver(client, event("checkout.session.completed", checkout_session(2, id=None)))
    assert purchase.status_code == 200 and purchase.json()["outcome"] == "granted 1 channel"
    refunded = Payment.objects.get(payment_intent_id=charge(1)["payment_intent"])
    assert (refunded.status, refunded.checkout_session_id) == ("reversed", None)


def test_an_event_whose_ids_belong_to_two_stored_payments_is_409_and_writes_nothing(client, ticket):
    deliver(
        client, event("checkout.session.completed", checkout_session(1, payment_intent=None, payment_status="unpaid"))
    )
    deliver(client, event("charge.refunded", charge(2)))
    stored = list(Payment.objects.values().order_by("pk")), StripeEvent.objects.count()
    # The session of the first payment, paid through the second's PaymentIntent: Stripe retries a 409.
    both = checkout_session(1, payment_intent=charge(2)["payment_intent"])
    response = deliver(client, event("checkout.session.async_payment_succeeded", both))
    assert response.status_code == 409 and response.json() == {"error": "conflict"}
    assert (list(Payment.objects.values().order_by("pk")), StripeEvent.objects.count()) == stored
    assert not Entitlement.objects.exists()


@pytest.mark.parametrize("status", [["paid"], {"paid": True}, 1, None])
def test_a_payment_status_that_is_not_text_does_not_say_paid(client, ticket, status):
    response = deliver(client, event("checkout.session.completed", checkout_session(payment_status=status)))
    assert response.status_code == 200 and response.json()["outcome"] == "awaiting payment"
    assert not Entitlement.objects.exists()


# --- Late ---------------------------------------------------------------------------------------------------------


def test_days_from_purchase_count_from_when_stripe_saw_the_payment_not_from_the_delivery(client, ticket):
    ticket.access_days = 7
    ticket.save()
    paid_at = int(time.time()) - 2 * 86400  # Stripe retried for two days while the site was down
    deliver(client, event("checkout.session.completed", checkout_session(), created=paid_at))
    entitlement = Entitlement.objects.get()
    assert entitlement.starts_at == datetime.fromtimestamp(paid_at, tz=UTC)
    assert entitlement.ends_at == datetime.fromtimestamp(paid_at, tz=UTC) + timedelta(days=7)


def test_a_late_refund_of_access_an_operator_already_revoked_changes_nothing(client, ticket):
    from viewers import services

    deliver(client, event("checkout.session.completed", checkout_session()))
    services.entitlements_revoke(entitlements=Entitlement.objects.all())
    revoked_at = Entitlement.objects.get().revoked_at
    response = deliver(client, event("charge.refunded", charge(), created=int(time.time()) - 86400))
    assert response.status_code == 200
    assert Entitlement.objects.get().revoked_at == revoked_at
    assert Payment.objects.get().status == "revoked"


# --- At the same time (PostgreSQL) ----------------------------------------------------------------------------------


def at_once(*deliveries):
    """Run each delivery in its own thread and connection, all released together; returns the exceptions."""
    from django.db import connection as thread_connection

    barrier, errors = threading.Barrier(len(deliveries)), []

    def run(delivery):
        try:
            barrier.wait()
            services.process_event(delivery)
        except Exception as exc:  # surfaced to the test
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=(delivery,)) for delivery in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def parsed(payload):
    body = json.dumps(payload).encode()
    return stripe_events.verify(body, sign(body), SECRET, tolerance=300)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_six_times_at_once_grants_once(ticket):
    delivery = parsed(event("checkout.session.completed", checkout_session()))
    assert at_once(*[delivery] * 6) == []
    assert StripeEvent.objects.count() == 1 and Entitlement.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refund_racing_its_purchase_ends_revoked_once_stripe_retries_what_failed(ticket):
    purchase = parsed(event("checkout.session.completed", checkout_session()))
    refund = parsed(event("charge.refunded", charge()))
    errors = at_once(purchase, refund)
    # Both may create the payment's row; the loser fails whole (the endpoint answers 409: Stripe retries it).
    assert len(errors) <= 1 and all(isinstance(error, IntegrityError) for error in errors)
    for delivery in (purchase, refund):  # Stripe's retries
        services.process_event(delivery)
    payment = Payment.objects.get()
    assert payment.status in ("revoked", "reversed") and not Entitlement.objects.filter(revoked_at=None).exists()
