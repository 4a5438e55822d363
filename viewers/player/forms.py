"""Forms for what viewers' browsers send, cleaned here rather than in the views."""

import re

from django import forms

# A TokenAudit id, as the refresh endpoint's JSON gave it. Not str.isdigit(): it accepts "²" (which int() refuses)
# and "１２" or "١٢" (which int() reads as 12), none of which the site ever sent.
_SESSION_ID = re.compile(r"[0-9]{1,18}")


class RefreshForm(forms.Form):
    """The refresh endpoint's POST: the playback session the page played in, when it has one."""

    session = forms.CharField(required=False, strip=False)

    def clean_session(self) -> int | None:
        raw = self.cleaned_data["session"]
        return int(raw) if _SESSION_ID.fullmatch(raw) else None

    @property
    def session_id(self) -> int | None:
        # Anything but an id (NUL bytes included, which CharField refuses) is no session: the player is starting.
        return self.cleaned_data["session"] if self.is_valid() else None


_SECONDS = re.compile(r"[0-9]{1,6}")


def heartbeat_fields(post, period: int) -> tuple[int, int, int, bool] | None:
    """The heartbeat's user, session, seconds played since the last one and whether it is the pagehide one, or None
    when it is not a heartbeat the player sends. Plain matching, not a Form: this runs 1,700 times a second at
    100,000 viewers. The seconds are capped at two periods (a background tab's timer may fire late, never more)."""
    user, session, seconds = post.get("user", ""), post.get("session", ""), post.get("seconds", "")
    if not all(_SESSION_ID.fullmatch(value) for value in (user, session)) or not _SECONDS.fullmatch(seconds):
        return None
    if int(session) == 0 or int(user) == 0:
        return None
    return int(user), int(session), min(int(seconds), 2 * period), post.get("final") == "1"
