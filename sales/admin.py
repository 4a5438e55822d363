"""Ticket types, and the payments Stripe reported with what the site did about each.

Payments are a record: nobody adds or deletes them here, and the only things an operator may change are the
ticket type and buyer of an *unmatched* payment, before replaying it. Nothing shown here is secret: no card
data or Stripe secret is ever stored, and a new buyer's password-set link goes only to the buyer's inbox.
"""

from django.contrib import admin, messages
from django.db import models
from django.utils import timezone
from django.utils.html import format_html

from sales import notify, services
from sales.models import Payment, PaymentStatus, StripeEvent, TicketType
from viewers.admin.base import ReadOnlyAdmin
from viewers.operators import emails
from viewers.wording import counted


@admin.register(TicketType)
class TicketTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "payment_link_id", "metadata_value", "channel_list", "window", "max_resolution")
    list_filter = ("channels", "max_resolution")
    search_fields = ("name", "payment_link_id", "metadata_value")
    autocomplete_fields = ("channels",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("name", "channels", "max_resolution", "buy_url")}),
        ("What identifies it in a Stripe checkout", {"fields": ("payment_link_id", "metadata_value")}),
        ("Access window", {"fields": ("starts_at", "ends_at", "access_days")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("channels")

    @admin.display(description="channels")
    def channel_list(self, ticket):
        return ", ".join(channel.slug for channel in ticket.channels.all())

    @admin.display(description="window")
    def window(self, ticket):
        if ticket.access_days:
            return f"{counted(ticket.access_days, 'day')} from purchase"
        start = f"{timezone.localtime(ticket.starts_at):%Y-%m-%d %H:%M}" if ticket.starts_at else "purchase"
        end = f"{timezone.localtime(ticket.ends_at):%Y-%m-%d %H:%M}" if ticket.ends_at else "no end"
        return f"{start} → {end}"


class StripeEventInline(admin.TabularInline):
    model = StripeEvent
    fields = ("event_id", "type", "created", "received_at", "outcome")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("created_at", "email", "ticket_type", "status_badge", "detail", "email_status", "stripe_ids")
    list_filter = ("status", "reversal", "ticket_type")
    search_fields = ("email", "checkout_session_id", "payment_intent_id", "events__event_id")
    list_select_related = ("ticket_type",)
    raw_id_fields = ("user",)
    date_hierarchy = "created_at"
    actions = ("replay", "send_email_again")
    inlines = (StripeEventInline,)
    READONLY = (
        "checkout_session_id",
        "payment_intent_id",
        "email",
        "payment_link_id",
        "metadata_value",
        "amount",
        "purchased_at",
        "status",
        "reversal",
        "reversed_at",
        "detail",
        "granted",
        "email_status",
        "created_at",
    )
    fields = READONLY[:7] + ("ticket_type", "user") + READONLY[7:]

    def get_readonly_fields(self, request, obj=None):
        # Only an unmatched payment's ticket type and buyer may be chosen: the rest is what Stripe said.
        if obj is not None and obj.status == PaymentStatus.UNMATCHED:
            return self.READONLY
        return self.READONLY + ("ticket_type", "user")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="status", ordering="status")
    def status_badge(self, payment):
        css = {"granted": "ops-good", "unmatched": "ops-bad", "revoked": "ops-bad"}.get(payment.status, "")
        return format_html('<span class="{}">{}</span>', css, payment.get_status_display())

    @admin.display(description="Stripe ids")
    def stripe_ids(self, payment):
        return format_html("{}<br>{}", payment.checkout_session_id or "—", payment.payment_intent_id or "—")

    @admin.display(description="amount")
    def amount(self, payment):
        if payment.amount_total is None:
            return "—"
        refunded = f", {payment.amount_refunded} refunded" if payment.amount_refunded else ""
        return f"{payment.amount_total} {payment.currency.upper()} (minor units){refunded}"

    @admin.display(description="entitlements")
    def granted(self, payment):
        rows = payment.entitlements.select_related("channel").order_by("pk")
        return ", ".join(f"{e.channel.slug}{' (revoked)' if e.revoked_at else ''}" for e in rows) or "—"

    @admin.action(description="Replay selected unmatched payments (grant them now)", permissions=["change"])
    def replay(self, request, queryset):
        done, to_notify = [], []
        for payment in queryset.order_by("pk"):
            summary, notify_buyer = services.replay(payment)
            done.append(summary)
            if notify_buyer:
                to_notify.append(payment.pk)
        notify.notify_buyers(to_notify, emails.site_url())
        self.message_user(request, "; ".join(done) or "Nothing selected.", messages.INFO)

    @admin.action(description="Email the selected granted buyers again", permissions=["change"])
    def send_email_again(self, request, queryset):
        granted = list(queryset.filter(status=PaymentStatus.GRANTED).values_list("pk", flat=True))
        notify.notify_buyers(granted, emails.site_url())
        self.message_user(request, f"Emailed the buyers of {counted(len(granted), 'granted payment')}.", messages.INFO)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "type", "event_id", "created", "livemode", "payment", "outcome")
    list_filter = ("type", "livemode")
    search_fields = ("event_id", "payment__email", "payment__payment_intent_id", "payment__checkout_session_id")
    list_select_related = ("payment",)
    date_hierarchy = "received_at"
