"""Every sales test: Stripe's webhook secret configured, links in e-mails from the site's public address, and a
ticket type selling the Main Event."""

import pytest

from sales.models import TicketType
from tests.sales.stripe_events import PAYMENT_LINK, SECRET


@pytest.fixture(autouse=True)
def stripe_settings(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.SITE_URL = "https://watch.example.com"
    return settings


@pytest.fixture
def ticket(private_channel):
    ticket = TicketType.objects.create(name="Main Event ticket", payment_link_id=PAYMENT_LINK)
    ticket.channels.add(private_channel)
    return ticket
