"""Ticket types (what a Stripe payment buys), the payments received and the Stripe events already handled.

Nothing here holds card data or a Stripe secret: a payment keeps the Stripe ids, the buyer's email, the amount
and what the site did about it.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from viewers.models import Channel, Entitlement, Resolution

# The Payment Link metadata key an operator may set instead of mapping the link's id; Stripe copies a Payment
# Link's metadata onto every Checkout Session it creates, so the webhook sees it without calling Stripe.
METADATA_KEY = "ticket_type"


class TicketType(models.Model):
    name = models.CharField(max_length=200)
    payment_link_id = models.CharField(
        "Stripe Payment Link id",
        max_length=100,
        blank=True,
        help_text="plink_…: the Payment Link this ticket is sold through (the payment_link of its checkouts).",
    )
    metadata_value = models.CharField(
        max_length=100,
        blank=True,
        help_text=f"Or: the value of the metadata key “{METADATA_KEY}” set on the Payment Link.",
    )
    channels = models.ManyToManyField(Channel, related_name="ticket_types")
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Fixed window: empty means from the purchase.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Fixed window: empty means no end.")
    access_days = models.PositiveIntegerField(
        "days from purchase",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Instead of a fixed window: access for this many days from the purchase.",
    )
    max_resolution = models.CharField(
        max_length=8, choices=Resolution.choices, blank=True, help_text="Empty: no limit."
    )
    buy_url = models.URLField(
        "“Buy access” URL",
        max_length=500,
        blank=True,
        validators=[URLValidator(schemes=["https"], message="Enter an https:// address.")],
        help_text="The public Payment Link (https://buy.stripe.com/…), shown to viewers without access.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment_link_id"], condition=~Q(payment_link_id=""), name="ticket_type_unique_link"
            ),
            models.UniqueConstraint(
                fields=["metadata_value"], condition=~Q(metadata_value=""), name="ticket_type_unique_metadata"
            ),
            models.CheckConstraint(
                condition=~Q(payment_link_id="", metadata_value=""),
                name="ticket_type_matches_something",
                violation_error_message="Give the Payment Link id or the metadata value (or both).",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.access_days and (self.starts_at or self.ends_at):
            raise ValidationError("Choose a fixed window or a number of days from the purchase, not both.")
        Entitlement.check_window(self.starts_at, self.ends_at)

    def window(self, purchased_at):
        """(starts_at, ends_at) of the entitlements one purchase at `purchased_at` gets."""
        if self.access_days:
            return purchased_at, purchased_at + timedelta(days=self.access_days)
        return self.starts_at, self.ends_at


class PaymentStatus(models.TextChoices):
    AWAITING = "awaiting", "awaiting payment"
    UNMATCHED = "unmatched", "unmatched: needs a ticket type"
    GRANTED = "granted", "granted"
    REVOKED = "revoked", "revoked"
    REVERSED = "reversed", "refunded or failed before any grant"


class Reversal(models.TextChoices):
    REFUND = "refund", "refunded"
    DISPUTE = "dispute", "disputed"
    FAILED = "failed", "payment failed"


class Payment(models.Model):
    """One Stripe payment (a Checkout Session and its PaymentIntent) and what the site did about it.

    A refund or dispute can arrive before its purchase: then the row starts with only the PaymentIntent id and
    its reversal, and the purchase, when it comes, finds it and grants nothing.
    """

    checkout_session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    payment_intent_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    email = models.EmailField(max_length=254, blank=True)
    payment_link_id = models.CharField(max_length=100, blank=True)
    metadata_value = models.CharField(max_length=100, blank=True)
    amount_total = models.PositiveBigIntegerField(null=True, blank=True, help_text="In the currency's minor unit.")
    amount_refunded = models.PositiveBigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    purchased_at = models.DateTimeField(null=True, blank=True)
    ticket_type = models.ForeignKey(
        TicketType, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments"
    )
    status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.AWAITING)
    reversal = models.CharField(max_length=8, choices=Reversal.choices, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    entitlements = models.ManyToManyField(Entitlement, blank=True, related_name="payments")
    detail = models.CharField(max_length=500, blank=True, help_text="What the site did, or why it could not.")
    email_status = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="payment_status_created")]

    def __str__(self):
        return self.checkout_session_id or self.payment_intent_id or f"payment {self.pk}"


class StripeEvent(models.Model):
    """A Stripe event already handled: Stripe delivers events more than once, and each is applied once."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    created = models.DateTimeField(help_text="When Stripe created the event (deliveries may be much later).")
    received_at = models.DateTimeField(default=timezone.now)
    livemode = models.BooleanField(default=False)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    outcome = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.type} {self.event_id}"
