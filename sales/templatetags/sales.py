from django import template

from sales.models import TicketType

register = template.Library()


@register.simple_tag
def buy_access_url(channel) -> str:
    """The public "Buy access" link of a ticket type that includes `channel`, or ""."""
    ticket = TicketType.objects.filter(channels=channel).exclude(buy_url="").order_by("pk").first()
    return ticket.buy_url if ticket else ""
