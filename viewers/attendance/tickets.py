"""The heartbeat's credential: an HMAC, made when the page or a refresh issued the session, of the viewer's session
cookie, their user id and the playback session. The heartbeat sends the ids and the ticket with the cookie; checking
them is one HMAC, where loading the Django session and the user would be a cache read and a database query on every
beat (1,700 a second at 100,000 viewers).

What it proves: the request carries the session cookie the page was rendered for, and names the user and playback
session that page was given. Logging out (or in as someone else) changes the cookie, so the old ticket stops
matching. The ticket is a secret of the page, so it also does a CSRF token's work: another site cannot forge it.
"""

from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "viewers.attendance.heartbeat"


def ticket(session_cookie: str, user_id: int, session: int) -> str:
    return salted_hmac(SALT, f"{session_cookie}:{user_id}:{session}", algorithm="sha256").hexdigest()[:40]


def valid(ticket_sent: str, session_cookie: str | None, user_id: int, session: int) -> bool:
    if not session_cookie or not ticket_sent:
        return False
    return constant_time_compare(ticket_sent, ticket(session_cookie, user_id, session))
