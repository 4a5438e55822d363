"""A buyer watches what they paid for; Stripe reports a refund; the running stream stops.

The refund only revokes the payment's entitlements (through viewers.services); stopping the stream is the
reconciler's job, run here by the real task worker (the `ivs_worker` fixture), as in `make run`."""

import json
import urllib.request

import pytest

from sales.models import Payment, TicketType
from tests.browser.conftest import login
from tests.factories import assert_playback_stopped
from tests.sales.stripe_events import PAYMENT_LINK, SECRET, WEBHOOK, charge, checkout_session, event, sign
from viewers.models import Revocation, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAYING = "() => document.querySelector('video').currentTime > 2"


def deliver(live_server, payload) -> int:
    """POST a signed delivery to the running site, as Stripe's servers would."""
    body = json.dumps(payload).encode()
    request = urllib.request.Request(
        live_server.url + WEBHOOK,
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": sign(body)},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  (the test's own server)
        return response.status


def test_a_refund_stops_the_buyers_running_stream(context, live_server, e2e_channel, settings, artifacts, ivs_worker):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    User.objects.create_user("buyer", "buyer@example.com", "watch-it-now")
    ticket = TicketType.objects.create(name="E2E ticket", payment_link_id=PAYMENT_LINK)
    ticket.channels.add(e2e_channel)
    assert deliver(live_server, event("checkout.session.completed", checkout_session())) == 200

    page = context.new_page()
    login(page, live_server, "buyer", "watch-it-now", "/channels/e2e-event/")
    page.wait_for_function(PLAYING, timeout=30_000)

    assert deliver(live_server, event("charge.refunded", charge())) == 200

    page.wait_for_selector("#player-status[data-state=unauthorized]", timeout=15_000)
    assert "has been revoked" in page.inner_text("#player-status")
    assert_playback_stopped(page, watch_ms=3_000)
    assert Payment.objects.get().status == "revoked"
    assert Revocation.objects.get().status == "done"
    page.screenshot(path=str(artifacts / "refunded.png"))
