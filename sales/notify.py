"""Emailing a buyer once their payment has been granted (after the transaction has committed, so a rolled-back
grant never sends mail, and a mail server that is down never undoes a grant)."""

from django.utils import timezone

from sales.models import Payment
from viewers.models import Invitation
from viewers.operators import emails


def notify_buyers(payment_ids, base_url: str) -> None:
    for payment in Payment.objects.filter(pk__in=payment_ids).select_related("user", "ticket_type"):
        status = _send(payment, base_url)
        Payment.objects.filter(pk=payment.pk).update(email_status=status[:200])


def _send(payment: Payment, base_url: str) -> str:
    user = payment.user
    if user is None or not user.email:
        return "not sent: no buyer email"
    channels = [entitlement.channel for entitlement in payment.entitlements.select_related("channel")]
    reason = f"Thank you for buying {payment.ticket_type}." if payment.ticket_type else ""
    invited = not user.is_active and Invitation.objects.filter(user=user, accepted_at__isnull=True).exists()
    if invited:
        message, kind = emails.invitation_message(user, base_url, channels=channels, reason=reason), "invitation"
    elif user.is_active:
        message, kind = emails.access_message(user, channels, base_url, reason=reason), "access email"
    else:
        return "not sent: the account is deactivated"
    error = emails.send(message)
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    return f"{kind} {error}" if error else f"{kind} sent {stamp}"
