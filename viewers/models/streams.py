"""A channel's stream state as the worker last read it from IVS (viewers/stream_state.py writes it).

Columns on the channel itself rather than a table or the shared cache of their own: the home page and the player
page already read the channel rows, so they get the state at no extra query (the player page's one statement reads
every concrete column of the channel: viewers/player/sql.py), and every app server reads the same rows whether or
not Redis is up. The worker writes them with UPDATEs of these columns only, never a channel's save(), and a
channel's save() leaves them alone.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class StreamState(models.TextChoices):
    LIVE = "live", "live"
    OFFLINE = "offline", "offline"


# Columns the worker writes (and nothing else does).
STREAM_FIELDS = (
    "stream_state",
    "stream_started_at",
    "stream_health",
    "stream_viewers",
    "stream_checked_at",
    "stream_error",
)


def stale_after() -> timedelta:
    """How old a state may be and still be shown: three periods, so a throttled run or two does not blank every
    badge, and at least two minutes. Older (a region IVS keeps refusing, a stopped worker, AWS switched off): not
    known any more, and the pages say nothing rather than something that may have stopped being true."""
    return max(timedelta(seconds=3 * settings.IVS_STREAM_STATE_SECONDS), timedelta(minutes=2))


class ChannelStream(models.Model):
    # The text columns have a database default as well (db_default): the benchmarks' seeding inserts channels
    # with SQL that names only the channel's own columns (bench/seed.py).
    # "": never read (AWS not configured, a channel outside the site's regions, a new channel).
    stream_state = models.CharField(
        max_length=8, choices=StreamState.choices, blank=True, default="", db_default="", editable=False
    )
    stream_started_at = models.DateTimeField("live since", null=True, blank=True, editable=False)
    # IVS's HEALTHY, STARVING or UNKNOWN, while live.
    stream_health = models.CharField(max_length=16, blank=True, default="", db_default="", editable=False)
    stream_viewers = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # The last answer IVS gave for the channel's region; the state is as of then.
    stream_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Why the latest read of the region failed ("" when it worked): the state above is the last known one.
    stream_error = models.CharField(max_length=300, blank=True, default="", db_default="", editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # An edit of the channel (the admin's form, a script) writes its own columns only: it must not put back the
        # stream state as it was when the form was read, over what the worker stored since.
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in STREAM_FIELDS
            ]
        super().save(*args, **kwargs)

    def live_state(self, now: datetime | None = None) -> str | None:
        """ "live", "offline", or None when not known (never read, or read too long ago: stale_after)."""
        checked = self.stream_checked_at
        if not self.stream_state or checked is None or checked < (now or timezone.now()) - stale_after():
            return None
        return self.stream_state

    @property
    def stream_is_stale(self) -> bool:
        """The last read of the region failed: the state shown is the one before (operators' view)."""
        return bool(self.stream_error)
