"""What the players' heartbeats said (viewers/attendance/): who watched which session, for how long, from where.

Written only by the worker's fold, in batches; a heartbeat request writes none of these rows (except, in the
embedded default without Redis, one PendingHeartbeat: see viewers/attendance/store.py)."""

from django.conf import settings
from django.db import models

from viewers.models.entitlements import Channel
from viewers.models.sessions import TokenAudit


class Viewing(models.Model):
    """The heartbeats of one playback session (a token audit row), folded: first and last seen playing, the
    seconds played, the address the last heartbeat came from, and whether the player said it was leaving.

    channel and user are the session's own, copied so that the live page's index leads with the channel."""

    session = models.OneToOneField(TokenAudit, primary_key=True, on_delete=models.CASCADE, related_name="viewing")
    channel = models.ForeignKey(Channel, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    seconds_watched = models.PositiveIntegerField(default=0)
    last_ip = models.GenericIPAddressField(null=True, blank=True)
    # The player's last heartbeat was its pagehide one (tab closed, page left): not watching any more.
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["channel", "last_seen_at"], name="viewing_channel_seen")]

    def __str__(self):
        return f"session {self.session_id}: {self.seconds_watched} s"


class PendingHeartbeat(models.Model):
    """A heartbeat waiting for the fold, when no Redis is configured (the embedded default). No foreign keys and
    one index (the primary key): the cheapest insert there is, and the fold checks the session and the user."""

    session_id = models.BigIntegerField()
    user_id = models.BigIntegerField()
    seconds = models.PositiveIntegerField()
    seen_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True)
    final = models.BooleanField(default=False)

    def __str__(self):
        return f"heartbeat for session {self.session_id}"
