"""Who bought: the user with the checkout's email, or a new inactive one with an invitation, as the CSV import
makes them (viewers/operators/invitations.py): the account becomes active when its owner sets a password through the
link."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from viewers.models import User
from viewers.operators import invitations

_USERNAME_MAX = User._meta.get_field("username").max_length


def buyer_for(email: str) -> tuple[User | None, str]:
    """(user, "") or (None, why no user can be chosen: the operator picks one and replays). The reason names no
    address: it is logged and returned to Stripe, and the payment's page shows the email anyway."""
    email = email.strip().lower()
    if not email:
        return None, "the checkout carries no email address"
    try:
        validate_email(email)
    except ValidationError:
        return None, "the checkout's email is not an email address"
    found = list(User.objects.filter(email__iexact=email)[:2])
    if len(found) > 1:
        return None, "several users have the buyer's email: choose the buyer, then replay"
    if found:
        return found[0], ""
    if len(email) > _USERNAME_MAX or User.objects.filter(username__iexact=email).exists():
        return (
            None,
            "cannot invite the buyer: the email is taken as a username or too long; choose the buyer, then replay",
        )
    return User.objects.get(pk=invitations.invite([email])[email]), ""
