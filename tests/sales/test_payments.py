"""What Stripe payments do: a purchase grants the ticket type's channels and emails the buyer, a full refund or
dispute revokes exactly what that payment granted, a partial refund keeps access, an unknown link is kept as an
unmatched payment. Grants and revocations go through viewers.services."""

import json
import re
import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.forms.models import model_to_dict
from django.utils import timezone

from sales import services as sales_services
from sales.models import Payment, StripeEvent, TicketType
from tests.sales.stripe_events import SECRET, charge, checkout_session, deliver, dispute, event
from viewers import access, services
from viewers.models import Entitlement, Invitation, User


def buy(client, n=1, **session):
    return deliver(client, event("checkout.session.completed", checkout_session(n, **session)))


def test_a_new_buyer_gets_an_inactive_account_the_entitlement_and_a_password_set_link_by_email(
    client, ticket, private_channel, mailoutbox
):
    response = buy(client)
    assert response.status_code == 200 and response.json()["outcome"] == "granted 1 channel"
    buyer = User.objects.get(email="buyer@example.com")
    assert not buyer.is_active and Invitation.objects.filter(user=buyer, accepted_at=None).exists()
    entitlement = Entitlement.objects.get(user=buyer)
    assert entitlement.channel == private_channel
    assert "cs_test_" in entitlement.note and "pi_3MtwBwLkdIwHu7ix28a3tqPa000001" in entitlement.note
    payment = Payment.objects.get()
    assert (payment.status, payment.user, payment.ticket_type) == ("granted", buyer, ticket)
    assert list(payment.entitlements.all()) == [entitlement]
    assert payment.email_status.startswith("invitation sent")

    (message,) = mailoutbox
    assert message.to == ["buyer@example.com"]
    assert "Thank you for buying Main Event ticket." in message.body
    assert "https://watch.example.com/channels/main-event/" in message.body
    link = re.search(r"https://watch\.example\.com(/accounts/reset/\S+)", message.body).group(1)
    form = client.get(link, follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": "a-long-new-pass-42", "new_password2": "a-long-new-pass-42"}
    )
    buyer.refresh_from_db()
    assert buyer.is_active and access.decide(buyer, private_channel).allowed


def test_an_existing_user_gets_you_now_have_access_with_the_channel_link_and_no_password_link(
    client, ticket, carol, mailoutbox
):
    buy(client, email="CAROL@example.com")
    assert Entitlement.objects.get().user == carol
    (message,) = mailoutbox
    assert message.subject == "You now have access" and message.to == ["carol@example.com"]
    assert "Main Event: https://watch.example.com/channels/main-event/" in message.body
    assert "/accounts/reset/" not in message.body


def test_the_ticket_types_fixed_window_and_resolution_are_granted(client, ticket):
    starts = timezone.now().replace(microsecond=0) + timedelta(days=3)
    ticket.starts_at, ticket.ends_at, ticket.max_resolution = starts, starts + timedelta(hours=6), "HD"
    ticket.save()
    buy(client)
    entitlement = Entitlement.objects.get()
    assert (entitlement.starts_at, entitlement.ends_at, entitlement.max_resolution) == (
        starts,
        starts + timedelta(hours=6),
        "HD",
    )


def test_a_ticket_type_for_several_channels_grants_each(client, ticket, public_channel, hidden_channel):
    ticket.channels.add(hidden_channel)
    buy(client)
    assert set(Entitlement.objects.values_list("channel__slug", flat=True)) == {"main-event", "backstage"}


def test_the_links_metadata_value_matches_when_the_link_id_is_not_mapped(client, private_channel):
    ticket = TicketType.objects.create(name="Metadata ticket", metadata_value="main-2026")
    ticket.channels.add(private_channel)
    buy(client, payment_link="plink_unknown", metadata={"ticket_type": "main-2026"})
    assert Payment.objects.get().ticket_type == ticket and Entitlement.objects.count() == 1


def test_a_delayed_payment_grants_only_when_it_succeeds(client, ticket):
    assert buy(client, payment_status="unpaid").json()["outcome"] == "awaiting payment"
    assert not Entitlement.objects.exists() and Payment.objects.get().status == "awaiting"
    deliver(client, event("checkout.session.async_payment_succeeded", checkout_session()))
    assert Entitlement.objects.count() == 1 and Payment.objects.get().status == "granted"


def test_a_delayed_payment_that_fails_grants_nothing(client, ticket, mailoutbox):
    buy(client, payment_status="unpaid")
    deliver(client, event("checkout.session.async_payment_failed", checkout_session(payment_status="unpaid")))
    assert not Entitlement.objects.exists() and Payment.objects.get().status == "reversed" and mailoutbox == []


@pytest.mark.parametrize(
    ("reversal", "label", "kind"),
    [
        (lambda: event("charge.refunded", charge()), "refunded", "refund"),
        (lambda: event("charge.dispute.created", dispute()), "disputed", "dispute"),
    ],
    ids=["full refund", "dispute"],
)
def test_a_full_refund_or_dispute_revokes_exactly_what_that_payment_granted(
    client, ticket, alice, reversal, label, kind
):
    buy(client, email="alice@example.com")
    buy(client, 2, email="alice@example.com")  # a second ticket, kept
    own = Entitlement.objects.filter(user=alice, payments=None).get()  # granted by hand before, kept
    first, second = Payment.objects.order_by("pk")
    response = deliver(client, reversal())
    assert response.json()["outcome"] == f"{label}: revoked 1 entitlement"
    assert all(e.revoked_at for e in first.entitlements.all())
    assert not any(e.revoked_at for e in second.entitlements.all())
    own.refresh_from_db()
    assert own.revoked_at is None
    first.refresh_from_db()
    assert (first.status, first.reversal) == ("revoked", kind)


def test_after_a_full_refund_the_buyer_may_no_longer_watch(client, ticket, carol, private_channel):
    buy(client, email="carol@example.com")
    assert access.decide(carol, private_channel).allowed
    deliver(client, event("charge.refunded", charge()))
    assert access.decide(carol, private_channel).reason == "revoked"


def test_a_partial_refund_keeps_access_and_the_final_refund_revokes(client, ticket):
    buy(client)
    partial = deliver(client, event("charge.refunded", charge(refunded=False, amount_refunded=1000)))
    assert partial.json()["outcome"] == "partial refund: access kept"
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_refunded) == ("granted", 1000) and "partly refunded" in payment.detail
    assert Entitlement.objects.get().revoked_at is None
    deliver(client, event("charge.refunded", charge(refunded=True, amount_refunded=2500)))
    assert Entitlement.objects.get().revoked_at is not None and Payment.objects.get().amount_refunded == 2500


def test_grants_and_revocations_go_through_the_shared_services(client, ticket, monkeypatch):
    calls = []

    def spy(name):
        real = getattr(services, name)

        def wrapper(**kwargs):
            calls.append(name)
            return real(**kwargs)

        monkeypatch.setattr(services, name, wrapper)

    spy("entitlement_grant")
    spy("entitlements_revoke")
    buy(client)
    deliver(client, event("charge.refunded", charge()))
    assert calls == ["entitlement_grant", "entitlements_revoke"]


def test_an_unknown_payment_link_is_200_unmatched_and_creates_no_account(client, ticket, mailoutbox):
    response = buy(client, payment_link="plink_nobody_mapped")
    assert response.status_code == 200
    assert response.json()["outcome"].startswith("unmatched: no ticket type for payment link plink_nobody_mapped")
    payment = Payment.objects.get()
    assert payment.status == "unmatched" and payment.user is None
    assert not User.objects.exists() and not Entitlement.objects.exists() and mailoutbox == []


def test_an_unmatched_payment_is_granted_once_its_ticket_type_exists_and_it_is_replayed(
    client, private_channel, mailoutbox
):
    buy(client, payment_link="plink_later")
    ticket = TicketType.objects.create(name="Late mapping", payment_link_id="plink_later")
    ticket.channels.add(private_channel)
    summary, notify = sales_services.replay(Payment.objects.get())
    assert "granted 1 channel" in summary and notify
    assert Payment.objects.get().status == "granted" and Entitlement.objects.count() == 1


def test_two_users_with_the_buyers_email_leave_the_payment_unmatched_for_the_operator(client, ticket):
    User.objects.create_user("one", "twin@example.com")
    User.objects.create_user("two", "twin@example.com")
    buy(client, email="twin@example.com")
    payment = Payment.objects.get()
    assert payment.status == "unmatched" and "several users" in payment.detail and payment.ticket_type == ticket


def test_a_refund_of_an_unmatched_payment_takes_it_off_the_operators_list(client, ticket):
    buy(client, payment_link="plink_nobody_mapped")
    deliver(client, event("charge.refunded", charge()))
    assert Payment.objects.get().status == "reversed"


def test_nothing_about_the_card_or_the_secret_is_stored(client, ticket):
    buy(client)
    deliver(client, event("charge.refunded", charge()))
    deliver(client, event("charge.dispute.created", dispute()))
    stored = json.dumps(
        [model_to_dict(row) for model in (Payment, StripeEvent, TicketType) for row in model.objects.all()], default=str
    )
    for secret in ("4242", "Xt5EWLLDS7FJjR1c", "visa", "pm_1MmlLrLkdIwHu7ixIJwEWSNR", SECRET, "Jenny Rosen"):
        assert secret not in stored


def test_a_mail_server_that_is_down_loses_no_grant_and_is_recorded(client, ticket, settings):
    settings.EMAIL_BACKEND = "tests.sales.test_payments.DownBackend"
    response = buy(client)
    assert response.status_code == 200 and Entitlement.objects.count() == 1
    assert Payment.objects.get().email_status == "invitation not sent (SMTPServerDisconnected)"
    assert mail.outbox == []


class DownBackend(BaseEmailBackend):
    """A mail server that cannot be reached."""

    def open(self):
        raise smtplib.SMTPServerDisconnected("down")

    def send_messages(self, messages):
        self.open()
