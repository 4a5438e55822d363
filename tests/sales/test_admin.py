"""The sales admin: ticket types, payments and Stripe events. An operator maps an unmatched payment and replays
it; a view-only staff user can look but changes nothing; no page shows a secret or a password-set link."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sales.models import Payment, StripeEvent, TicketType
from tests.sales.stripe_events import SECRET, charge, checkout_session, deliver, event
from viewers.models import Entitlement, User

PAYMENTS = "/admin/sales/payment/"
PAGES = [PAYMENTS, "/admin/sales/tickettype/", "/admin/sales/stripeevent/"]


@pytest.fixture
def unmatched(client, ticket):
    deliver(client, event("checkout.session.completed", checkout_session(payment_link="plink_unknown")))
    return Payment.objects.get()


@pytest.fixture
def viewer_only_client(db):
    from django.test import Client

    client = Client()
    clerk = User.objects.create_user("clerk", "clerk@example.com", "password", is_staff=True)
    codenames = ["view_payment", "view_tickettype", "view_stripeevent", "view_invitation", "view_entitlement"]
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(clerk)
    return client


def replay(client, *payments):
    return client.post(PAYMENTS, {"action": "replay", ACTION_CHECKBOX_NAME: [p.pk for p in payments]}, follow=True)


def test_an_operator_maps_an_unmatched_payment_to_a_ticket_type_and_replays_it(
    admin_client, unmatched, ticket, mailoutbox
):
    form = admin_client.get(f"{PAYMENTS}{unmatched.pk}/change/").content.decode()
    assert 'name="ticket_type"' in form and "no ticket type for payment link plink_unknown" in form
    saved = admin_client.post(f"{PAYMENTS}{unmatched.pk}/change/", {"ticket_type": ticket.pk, "user": "", **_inline()})
    assert saved.status_code == 302
    assert not Entitlement.objects.exists()  # mapping alone grants nothing: replaying does

    response = replay(admin_client, unmatched)
    assert "granted 1 channel" in response.content.decode()
    unmatched.refresh_from_db()
    assert unmatched.status == "granted" and Entitlement.objects.get().user.email == "buyer@example.com"
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["buyer@example.com"]
    assert "/accounts/reset/" not in response.content.decode()


def test_replay_leaves_payments_that_are_not_unmatched_alone(admin_client, ticket, client):
    deliver(client, event("checkout.session.completed", checkout_session()))
    payment = Payment.objects.get()
    response = replay(admin_client, payment)
    assert "granted, left alone" in response.content.decode() and Entitlement.objects.count() == 1


def test_a_granted_payment_cannot_be_remapped(admin_client, ticket, client):
    deliver(client, event("checkout.session.completed", checkout_session()))
    form = admin_client.get(f"{PAYMENTS}{Payment.objects.get().pk}/change/").content.decode()
    assert 'name="ticket_type"' not in form and 'name="user"' not in form


def test_a_view_only_staff_user_sees_payments_but_changes_nothing(viewer_only_client, unmatched, ticket):
    listing = viewer_only_client.get(PAYMENTS)
    assert listing.status_code == 200 and "buyer@example.com" in listing.content.decode()
    assert 'value="replay"' not in listing.content.decode()
    replay(viewer_only_client, unmatched)
    change = viewer_only_client.post(f"{PAYMENTS}{unmatched.pk}/change/", {"ticket_type": ticket.pk, **_inline()})
    assert change.status_code == 403
    assert viewer_only_client.post("/admin/sales/tickettype/add/", {"name": "x"}).status_code == 403
    unmatched.refresh_from_db()
    assert unmatched.status == "unmatched" and unmatched.ticket_type is None and not Entitlement.objects.exists()


@pytest.mark.parametrize("url", PAGES)
def test_no_sales_page_shows_the_webhook_secret_or_a_password_set_link(viewer_only_client, client, ticket, url):
    deliver(client, event("checkout.session.completed", checkout_session()))  # a new buyer: an invitation exists
    deliver(client, event("charge.refunded", charge()))
    for page in (url, f"{url}{_first_pk(url)}/change/"):
        body = viewer_only_client.get(page).content.decode()
        assert "/accounts/reset/" not in body and SECRET not in body and "whsec_" not in body


def test_the_email_again_action_needs_change_permission_and_resends_to_granted_buyers(
    admin_client, viewer_only_client, ticket, client, mailoutbox
):
    deliver(client, event("checkout.session.completed", checkout_session()))
    payment = Payment.objects.get()
    mailoutbox.clear()
    viewer_only_client.post(PAYMENTS, {"action": "send_email_again", ACTION_CHECKBOX_NAME: [payment.pk]})
    assert mailoutbox == []
    admin_client.post(PAYMENTS, {"action": "send_email_again", ACTION_CHECKBOX_NAME: [payment.pk]})
    assert len(mailoutbox) == 1


def test_a_ticket_type_is_matched_by_a_link_or_metadata_and_has_one_kind_of_window(private_channel, now):
    with pytest.raises(ValidationError, match="Payment Link id or the metadata value"):
        TicketType(name="nothing").full_clean()
    with pytest.raises(ValidationError, match="not both"):
        TicketType(name="both", payment_link_id="plink_1", access_days=3, ends_at=now + timedelta(days=1)).full_clean()
    with pytest.raises(ValidationError, match="https"):
        TicketType(name="http", payment_link_id="plink_1", buy_url="http://buy.stripe.com/x").full_clean()
    TicketType(name="fine", payment_link_id="plink_1", access_days=3, buy_url="https://buy.stripe.com/x").full_clean()


def test_an_admin_creates_a_ticket_type(admin_client, private_channel):
    response = admin_client.post(
        "/admin/sales/tickettype/add/",
        {
            "name": "Weekend pass",
            "channels": [private_channel.pk],
            "payment_link_id": "plink_weekend",
            "access_days": 3,
        },
    )
    assert response.status_code == 302
    assert list(TicketType.objects.get().channels.all()) == [private_channel]


@pytest.mark.parametrize("url", PAGES)
def test_sales_lists_cost_the_same_queries_with_more_rows(admin_client, client, ticket, url):
    def grow(start, n):
        for i in range(start, start + n):
            deliver(client, event("checkout.session.completed", checkout_session(i, email=f"b{i}@example.com")))
            extra = TicketType.objects.create(name=f"t{i}", metadata_value=f"m{i}")
            extra.channels.add(*ticket.channels.all())

    grow(1, 2)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    grow(3, 12)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    assert len(many) <= len(few)


# --- The 403 page's "Buy access" link ---------------------------------------------------------------------------


def test_a_viewer_without_access_is_offered_the_buy_link(client, carol, ticket, private_channel):
    ticket.buy_url = "https://buy.stripe.com/test_main_event"
    ticket.save()
    client.force_login(carol)
    response = client.get(f"/channels/{private_channel.slug}/")
    assert response.status_code == 403
    assert 'href="https://buy.stripe.com/test_main_event"' in response.content.decode()


def test_no_buy_link_without_one_or_for_a_viewer_whose_access_is_upcoming(client, carol, erin, ticket, private_channel):
    client.force_login(carol)
    assert "Buy access" not in client.get(f"/channels/{private_channel.slug}/").content.decode()
    ticket.buy_url = "https://buy.stripe.com/test_main_event"
    ticket.save()
    client.force_login(erin)
    assert "Buy access" not in client.get(f"/channels/{private_channel.slug}/").content.decode()


def _inline():
    """The management form of the read-only Stripe events inline, as the browser sends it."""
    prefix = "events"
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "0"}


def _first_pk(url):
    model = {PAGES[0]: Payment, PAGES[1]: TicketType, PAGES[2]: StripeEvent}[url]
    return model.objects.order_by("pk").values_list("pk", flat=True).first()
