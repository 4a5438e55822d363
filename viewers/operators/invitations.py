"""Password-set links for users created by a bulk import.

The link is Django's own password-reset link: it stays valid for PASSWORD_RESET_TIMEOUT, stops working once
used (the token is bound to the password hash), and the user becomes active when the password is set
(`viewers.models._accept_invitation`). Links are handed to the operator, never stored or logged.
"""

from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


def invitation_path(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)})


def invitation_links(users, base_url: str):
    """(email, link) for each user, base_url like https://watch.example.com."""
    base_url = base_url.rstrip("/")
    for user in users:
        yield user.email, base_url + invitation_path(user)
