"""Invited users: accounts created inactive for people who do not have one yet (a CSV import's new rows, a Stripe
buyer), and their password-set links.

The link is Django's own password-reset link: it stays valid for PASSWORD_RESET_TIMEOUT, stops working once
used (the token is bound to the password hash), and the user becomes active when the password is set
(`viewers.models._accept_invitation`). Links are handed to the operator, never stored or logged.
"""

from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from viewers.models import Invitation, User

BATCH = 1000


def invite(emails: list[str], *, invited_by=None) -> dict[str, int]:
    """Create each address as an inactive user (username = email) with an invitation; {email: user id}.

    The password is unusable (make_password(None)): no one can log in until the invitation's link sets one, which
    also activates the account. Batched, for a CSV import of tens of thousands."""
    if not emails:
        return {}
    users = [User(username=email, email=email, is_active=False, password=make_password(None)) for email in emails]
    User.objects.bulk_create(users, batch_size=BATCH)
    ids = {}
    for start in range(0, len(emails), BATCH):
        ids.update(User.objects.filter(username__in=emails[start : start + BATCH]).values_list("username", "pk"))
    Invitation.objects.bulk_create(
        [Invitation(user_id=pk, created_by=invited_by) for pk in ids.values()], batch_size=BATCH
    )
    return ids


def invitation_path(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)})


def invitation_links(users, base_url: str):
    """(email, link) for each user, base_url like https://watch.example.com."""
    base_url = base_url.rstrip("/")
    for user in users:
        yield user.email, base_url + invitation_path(user)
