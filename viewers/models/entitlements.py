"""Channels and who may watch them: the entitlement, its query rules, and staged CSV imports of entitlements.

The access rule's building blocks live here, on the QuerySets, so the rule, the admin, the activity page and the
reconciler ask the same questions the same way: `current(now)` (in force), `upcoming(now)`, `ended(now)`,
`held_by(user)` (directly or through a group) and `holders()` (the users who hold any of them); `in_state(state)`
selects by the labels access.entitlement_state gives one row (the admin's status column and filter).
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import OuterRef, Q
from django.utils import timezone
from django_countries.fields import CountryField

from viewers import resolutions, validators
from viewers.models.fields import arn_field
from viewers.models.streams import ChannelStream

# The model's choices are the ladder's values and labels (viewers/resolutions.py), in its order.
Resolution = models.TextChoices(
    "Resolution", [(value, (value, label)) for value, label in resolutions.LEVELS], module=__name__
)
ENDS_AFTER_START = "The end must be after the start."
# What access.entitlement_state calls an entitlement at a moment; EntitlementQuerySet.in_state selects each.
ENTITLEMENT_STATES = ("active", "upcoming", "ended", "revoked")


# An entitlement's window at `now`, as conditions: the queryset methods below filter on them, and aggregates
# that count several states in one query (the activity page) use them as filters.
def current_entitlement_q(now: datetime) -> Q:
    """In force at `now`: not revoked, started (or no start), not ended (or no end)."""
    return (
        Q(revoked_at__isnull=True)
        & (Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    )


def upcoming_entitlement_q(now: datetime) -> Q:
    """Not revoked, and not started at `now`."""
    return Q(revoked_at__isnull=True, starts_at__gt=now)


def ended_entitlement_q(now: datetime) -> Q:
    """Not revoked, and ended at `now`."""
    return Q(revoked_at__isnull=True, ends_at__lte=now)


class ChannelQuerySet(models.QuerySet):
    def listed_for(self, user, now=None, *, upcoming=False):
        """Channels shown on the home page: listed public ones and those the user may watch; with `upcoming`, also
        those where the user's access has not started yet (an event bought ahead: the page says when it starts)."""
        shown = Q(is_private=False) | Q(pk__in=Entitlement.objects.watchable_channel_ids(user, now))
        if upcoming:
            shown |= Q(pk__in=Entitlement.objects.upcoming_channel_ids(user, now))
        return self.filter(is_listed=True).filter(shown)

    def in_region(self, region: str):
        """The channels in AWS region `region`, by their ARN (arn:aws:ivs:<region>:…)."""
        return self.filter(arn__startswith=f"arn:aws:ivs:{region}:")


class Channel(ChannelStream):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    arn = arn_field("channel")
    playback_url = models.URLField(
        max_length=500,
        validators=[validators.validate_playback_url_shape],
        help_text="The channel's .m3u8 playback URL from the IVS console.",
    )
    is_private = models.BooleanField(
        "private",
        default=True,
        help_text="Private channels need a signed token; the IVS channel must have authorization on.",
    )
    is_listed = models.BooleanField(
        "listed", default=True, help_text="Unlisted channels are reachable only by their link."
    )
    description = models.TextField(blank=True)
    max_devices = models.PositiveSmallIntegerField(
        "device limit",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="How many screens one viewer may play on at once. Empty: no limit. "
        "Starting playback beyond it stops the viewer's oldest screen.",
    )
    # ISO 3166-1 alpha-2 codes, stored comma-separated (one column: the access rule reads them with the
    # channel, at no extra query). An explicit max_length, so a new country in django-countries needs no migration.
    allowed_countries = CountryField(
        multiple=True,
        blank=True,
        max_length=800,
        help_text="Only viewers in these countries may watch. Empty: no allow-list. A viewer whose country "
        "cannot be told is refused while this list is set.",
    )
    blocked_countries = CountryField(
        multiple=True,
        blank=True,
        max_length=800,
        help_text="Viewers in these countries may not watch. A viewer whose country cannot be told is let in "
        "when only this list is set.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.arn and self.playback_url:
            validators.validate_playback_url_matches_arn(self.playback_url, self.arn)
        both = sorted({c.code for c in self.allowed_countries} & {c.code for c in self.blocked_countries})
        if both:
            raise ValidationError(
                {"blocked_countries": f"Both allowed and blocked: {', '.join(both)}. Keep each country in one list."}
            )

    @property
    def region(self) -> str:
        return validators.region_of_arn(self.arn)


class EntitlementQuerySet(models.QuerySet):
    def current(self, now=None):
        return self.filter(current_entitlement_q(now or timezone.now()))

    def upcoming(self, now=None):
        return self.filter(upcoming_entitlement_q(now or timezone.now()))

    def ended(self, now=None):
        return self.filter(ended_entitlement_q(now or timezone.now()))

    def revoked(self):
        return self.filter(revoked_at__isnull=False)

    def in_state(self, state: str, now=None):
        """Those access.entitlement_state labels `state` at `now`, one of ENTITLEMENT_STATES. The four are
        disjoint and cover every row: revoked comes first, and an upcoming window cannot have ended already."""
        if state == "revoked":
            return self.revoked()
        rules = {"active": self.current, "upcoming": self.upcoming, "ended": self.ended}
        return rules[state](now)

    def _held(self, user, groups_of_user):
        """The two halves of "held by the user": directly, and through one of the user's groups."""
        return self.filter(user=user), self.filter(group__in=groups_of_user)

    def held_by(self, user):
        """Those `user` holds, directly or through a group. Call it last, after values(): it is a UNION ALL.

        A UNION ALL of two lookups rather than one "user = X OR group IN (…)": PostgreSQL serves each half
        from its (user, channel) or (group, channel) index, but the OR makes it read every entitlement of
        the channel, or of the site (docs/EXPLAIN.md).
        """
        direct, through_group = self._held(user, user.groups.all())
        return direct.union(through_group, all=True)

    def held_by_outer_user(self, field: str = "user_id"):
        """held_by() for a correlated subquery: (held directly, held through a group) by the user in the outer
        query's `field`, each to be wrapped in Exists()."""
        return self._held(OuterRef(field), Group.objects.filter(user=OuterRef(OuterRef(field))))

    def holders(self):
        """The users who hold any of these entitlements, directly or through a group (each once)."""
        direct = self.filter(user__isnull=False).values("user_id")
        through_group = self.filter(group__isnull=False).values("group_id")
        return get_user_model().objects.filter(Q(pk__in=direct) | Q(groups__in=through_group)).distinct()

    def watchable_channel_ids(self, user, now=None):
        """A subquery of the private channel ids `user` may watch at `now`."""
        return self._channel_ids_held(self.current(now), user)

    def upcoming_channel_ids(self, user, now=None):
        """A subquery of the channel ids where `user` holds an entitlement that has not started at `now`."""
        return self._channel_ids_held(self.upcoming(now), user)

    def _channel_ids_held(self, rows, user):
        if not user.is_authenticated or not user.is_active:  # decide() lets them watch nothing private
            return self.none().values("channel_id")
        return rows.values("channel_id").held_by(user)


class Entitlement(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="entitlements")
    # No single-column indexes on user and group: the (user, channel) and (group, channel) indexes below
    # lead with them and serve every lookup by user or group (docs/EXPLAIN.md).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="entitlements",
        db_index=False,
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="entitlements", db_index=False
    )
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Empty: from now on.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: no end.")
    max_resolution = models.CharField(
        max_length=8, choices=Resolution.choices, blank=True, help_text="Empty: no limit."
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = EntitlementQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True) | Q(user__isnull=True, group__isnull=False),
                name="entitlement_user_xor_group",
                violation_error_message="Choose either a user or a group, not both.",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="entitlement_ends_after_start",
                violation_error_message=ENDS_AFTER_START,
            ),
        ]
        indexes = [
            models.Index(fields=["user", "channel"], name="entitlement_user_channel"),
            models.Index(fields=["group", "channel"], name="entitlement_group_channel"),
        ]

    def __str__(self):
        return f"{self.holder} → {self.channel}"

    def clean(self):
        super().clean()
        self.check_window(self.starts_at, self.ends_at)

    @staticmethod
    def check_window(starts_at, ends_at) -> None:
        """The one "end after start" rule: the form, the group grant, the CSV import and the Stripe grants use it
        (the database constraint below only backs it up)."""
        if starts_at and ends_at and ends_at <= starts_at:
            raise ValidationError({"ends_at": ENDS_AFTER_START})

    @property
    def holder(self):
        return self.user if self.user_id else self.group

    @property
    def is_revoked(self):
        return self.revoked_at is not None


class EntitlementImport(models.Model):
    """An uploaded CSV between its preview and its import, then the record of what the import did."""

    filename = models.CharField(max_length=255)
    content = models.TextField(help_text="Emptied once the import has run.")
    create_users = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.filename} ({self.created_at:%Y-%m-%d %H:%M})"
