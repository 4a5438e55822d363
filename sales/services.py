"""What each Stripe event does to payments and entitlements.

Grants and revocations go through viewers.services, like every other grant. Stripe delivers events more than
once, out of order and late, so: each event id is applied once (StripeEvent); a payment is granted at most once
whatever event says it was paid; a refund, dispute or failure that arrives before its purchase is written down
on the payment (found by the PaymentIntent id both objects carry) and the purchase then grants nothing; and
windows count from when Stripe says the payment happened, not from when the event arrived.
"""

import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from sales.buyers import buyer_for
from sales.models import METADATA_KEY, Payment, PaymentStatus, Reversal, StripeEvent, TicketType
from sales.stripe_events import Event
from viewers import services
from viewers.wording import counted

logger = logging.getLogger(__name__)

PAID = {"paid", "no_payment_required"}  # no_payment_required: a 100 % discount code


@dataclass
class Outcome:
    summary: str
    notify: list[int] = field(default_factory=list)  # payments whose buyer gets an email once this has committed


def process_event(event: Event) -> Outcome:
    handler = HANDLERS.get(event.type)
    if handler is None:
        return Outcome("ignored")
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(
                    event_id=event.id[:255], type=event.type[:100], created=event.created, livemode=event.livemode
                )
        except IntegrityError:
            return Outcome("duplicate")
        payment, summary, notify = handler(event)
        record.payment, record.outcome = payment, summary[:500]
        record.save(update_fields=["payment", "outcome"])
    logger.info("Stripe %s %s: %s", event.type, event.id, summary)
    return Outcome(summary, [payment.pk] if notify else [])


@transaction.atomic
def replay(payment: Payment, *, ticket_type=None, user=None) -> tuple[str, bool]:
    """Grant an unmatched payment again, after an operator chose its ticket type or buyer (or added the ticket
    type it was missing). Returns (what happened, whether to email the buyer)."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != PaymentStatus.UNMATCHED:
        return f"{payment}: {payment.get_status_display()}, left alone", False
    payment.ticket_type = ticket_type or payment.ticket_type
    payment.user = user or payment.user
    _, summary, notify = _grant(payment)
    return f"{payment}: {summary}", notify


# --- Handlers: each returns (payment or None, summary, whether to email the buyer) ------------------------------


def _checkout_completed(event: Event):
    session = event.object
    payment = _payment_for_session(session)
    if _text(session.get("payment_status"), 40) in PAID:
        return _paid(payment, event)
    if payment.status != PaymentStatus.AWAITING:  # the payment's own event came first
        payment.save()
        return payment, f"checkout completed, payment already {payment.status}", False
    payment.detail = "checkout completed; waiting for the delayed payment to succeed"
    payment.save()
    return payment, "awaiting payment", False


def _async_payment_succeeded(event: Event):
    return _paid(_payment_for_session(event.object), event)


def _async_payment_failed(event: Event):
    return _reverse(_payment_for_session(event.object), Reversal.FAILED, event)


def _charge_refunded(event: Event):
    charge = event.object
    payment = _payment_for_intent(charge.get("payment_intent"))
    if payment is None:
        return None, "the charge has no payment_intent: nothing to revoke", False
    refunded = _amount(charge.get("amount_refunded")) or 0
    payment.amount_refunded = max(payment.amount_refunded, refunded)
    if charge.get("refunded") is not True:
        note = f"partly refunded ({refunded} of {_amount(charge.get('amount'))} {payment.currency}); access kept"
        payment.detail = note[:500]
        payment.save()
        return payment, "partial refund: access kept", False
    return _reverse(payment, Reversal.REFUND, event)


def _dispute_created(event: Event):
    payment = _payment_for_intent(event.object.get("payment_intent"))
    if payment is None:
        return None, "the dispute has no payment_intent: nothing to revoke", False
    return _reverse(payment, Reversal.DISPUTE, event)


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _async_payment_succeeded,
    "checkout.session.async_payment_failed": _async_payment_failed,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_created,
}


# --- Granting and revoking ------------------------------------------------------------------------------------


def _paid(payment: Payment, event: Event):
    payment.purchased_at = payment.purchased_at or event.created
    if payment.status in (PaymentStatus.GRANTED, PaymentStatus.REVOKED):
        payment.save()
        return payment, f"already {payment.status}", False
    if payment.reversal:
        payment.status = PaymentStatus.REVERSED
        payment.detail = f"{payment.get_reversal_display()} before the purchase arrived: nothing granted"
        payment.save()
        return payment, "reversed before the purchase: nothing granted", False
    return _grant(payment)


def _grant(payment: Payment):
    ticket = payment.ticket_type or _match_ticket_type(payment)
    if ticket is None:  # checked first, so an unknown link creates no account
        user, problem = (
            payment.user,
            (
                f"no ticket type for payment link {payment.payment_link_id or 'none'} "
                f"or {METADATA_KEY}={payment.metadata_value or 'none'}"
            ),
        )
    else:
        user, problem = (payment.user, "") if payment.user else buyer_for(payment.email)
    if problem:
        payment.status, payment.detail = PaymentStatus.UNMATCHED, problem[:500]
        payment.ticket_type, payment.user = ticket, user
        payment.save()
        return payment, "unmatched: " + problem, False
    starts_at, ends_at = ticket.window(payment.purchased_at or timezone.now())
    note = f"Stripe {payment.checkout_session_id or ''} {payment.payment_intent_id or ''}".strip()
    channels = list(ticket.channels.all())
    granted = [
        services.entitlement_grant(
            channel=channel,
            user=user,
            starts_at=starts_at,
            ends_at=ends_at,
            max_resolution=ticket.max_resolution,
            note=note[:500],
        )
        for channel in channels
    ]
    payment.ticket_type, payment.user, payment.status = ticket, user, PaymentStatus.GRANTED
    until = f" until {ends_at:%Y-%m-%d %H:%M} UTC" if ends_at else ""
    payment.detail = f"granted {', '.join(c.slug for c in channels)}{until}"[:500]
    payment.save()
    payment.entitlements.add(*granted)
    return payment, f"granted {counted(len(granted), 'channel')}", True


def _reverse(payment: Payment, kind: str, event: Event):
    if not payment.reversal:
        payment.reversal, payment.reversed_at = kind, event.created
    label = Reversal(kind).label
    if payment.status == PaymentStatus.GRANTED:
        count = services.entitlements_revoke(entitlements=payment.entitlements.all())
        payment.status, payment.detail = PaymentStatus.REVOKED, f"{label}: revoked {counted(count, 'entitlement')}"
        summary = f"{label}: revoked {counted(count, 'entitlement')}"
    elif payment.status == PaymentStatus.REVOKED:
        summary = f"{label}: already revoked"
    else:
        # Not granted (yet): remember it, so that a purchase arriving later grants nothing.
        payment.status, payment.detail = PaymentStatus.REVERSED, f"{label} before any grant: nothing to revoke"
        summary = f"{label}: nothing was granted; remembered"
    payment.save()
    return payment, summary, False


# --- Finding the payment an event is about --------------------------------------------------------------------


def _payment_for_session(session: dict) -> Payment:
    session_id, intent_id = _id(session.get("id")), _id(session.get("payment_intent"))
    payment = None
    if session_id:  # filter(checkout_session_id=None) would pick any payment that began with a refund or dispute
        payment = Payment.objects.select_for_update().filter(checkout_session_id=session_id).first()
    if payment is None and intent_id:
        payment = Payment.objects.select_for_update().filter(payment_intent_id=intent_id).first()
    payment = payment or Payment()
    payment.checkout_session_id = payment.checkout_session_id or session_id
    payment.payment_intent_id = payment.payment_intent_id or intent_id
    details = session.get("customer_details") if isinstance(session.get("customer_details"), dict) else {}
    payment.email = _text(details.get("email") or session.get("customer_email") or payment.email, 254)
    payment.payment_link_id = _text(session.get("payment_link"), 100)
    metadata = session.get("metadata") if isinstance(session.get("metadata"), dict) else {}
    payment.metadata_value = _text(metadata.get(METADATA_KEY), 100)
    payment.amount_total = _amount(session.get("amount_total"))
    payment.currency = _text(session.get("currency"), 3)
    return payment


def _payment_for_intent(intent) -> Payment | None:
    intent_id = _id(intent)
    if not intent_id:
        return None
    payment = Payment.objects.select_for_update().filter(payment_intent_id=intent_id).first()
    return payment or Payment(payment_intent_id=intent_id)


def _match_ticket_type(payment: Payment) -> TicketType | None:
    if payment.payment_link_id:
        ticket = TicketType.objects.filter(payment_link_id=payment.payment_link_id).first()
        if ticket:
            return ticket
    if payment.metadata_value:
        return TicketType.objects.filter(metadata_value=payment.metadata_value).first()
    return None


def _id(value) -> str | None:
    """A Stripe id, whether the field holds the id or the expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return _text(value, 255) or None


def _text(value, limit: int) -> str:
    # PostgreSQL cannot store a NUL in text (the insert would fail), and no Stripe id or address holds one.
    return value[:limit] if isinstance(value, str) and "\x00" not in value else ""


# PositiveBigIntegerField's largest value; Stripe's amounts have at most 8 digits.
_MAX_AMOUNT = 2**63 - 1


def _amount(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_AMOUNT else None
