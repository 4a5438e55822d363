"""The two emails the site sends: an invitation (the password-set link of a new, inactive account) and "you now
have access" (for an account that can already log in). Both go through Django's email framework (EMAIL_URL).

The invitation's link is Django's password-reset link (viewers/operators/invitations.py). It is put into the message and
nowhere else: never logged, never stored, never shown to staff. A failure to send is logged with the address
only and reported to the caller, which records it, so the operator can send again.
"""

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.urls import reverse

from viewers.operators.invitations import invitation_path
from viewers.wording import counted

logger = logging.getLogger(__name__)

SEND_ERRORS = (smtplib.SMTPException, OSError)


def site_url() -> str:
    """The site's public address for links, checked at start-up (ivs.E060). Never the request's: whoever sends a
    request chooses its Host header, and a link in an email is followed with a password-set token in it."""
    return settings.SITE_URL


def invitation_message(user, base_url: str, *, channels=(), reason: str = "") -> EmailMessage:
    context = {
        "user": user,
        "link": base_url.rstrip("/") + invitation_path(user),
        "channels": _channel_links(channels, base_url),
        "reason": reason,
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        "site": base_url,
    }
    body = render_to_string("emails/invitation.txt", context)
    return EmailMessage("Set your password to start watching", body, to=[user.email])


def access_message(user, channels, base_url: str, *, reason: str = "") -> EmailMessage:
    context = {"user": user, "channels": _channel_links(channels, base_url), "reason": reason, "site": base_url}
    body = render_to_string("emails/access.txt", context)
    return EmailMessage("You now have access", body, to=[user.email])


def send(message: EmailMessage, connection=None) -> str:
    """Send one message; returns "" or what went wrong (for the record, without the message's content)."""
    try:
        message.connection = connection
        message.send()
    except SEND_ERRORS as exc:
        logger.warning("Email to %s not sent: %s", message.to[0], type(exc).__name__)
        return f"not sent ({type(exc).__name__})"
    return ""


def send_invitations(users, base_url: str) -> tuple[int, list[str]]:
    """Email each user (created by an import) the password-set link, over one connection.
    Returns (sent, emails that failed)."""
    users = list(users)
    connection = get_connection()
    try:
        connection.open()
    except SEND_ERRORS as exc:
        logger.warning("Invitations not sent: the mail server is unreachable (%s)", type(exc).__name__)
        return 0, [user.email for user in users]
    try:
        failed = [user.email for user in users if send(invitation_message(user, base_url), connection)]
    finally:
        connection.close()
    return len(users) - len(failed), failed


def invitations_report(sent: int, failed: list[str]) -> str:
    report = f"Emailed {counted(sent, 'invitation')}."
    if failed:
        shown = ", ".join(failed[:20]) + (f" and {len(failed) - 20} more" if len(failed) > 20 else "")
        report += f" Not sent to {shown}: send those again from Invitations."
    return report


def _channel_links(channels, base_url: str):
    return [(channel.name, base_url.rstrip("/") + reverse("channel", args=[channel.slug])) for channel in channels]
