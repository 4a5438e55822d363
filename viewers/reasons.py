"""The one list of codes that say why a viewer may watch or not (viewers/access.py decides), and the refresh
endpoint's other answers. The 403 page, the JSON errors, the country counts and player.js (which gets them in its
page's config) all read them from here."""

from django.db import models


class Reason(models.TextChoices):
    PUBLIC = "public"
    ENTITLED = "entitled"
    LOGIN_REQUIRED = "login_required"
    INACTIVE = "inactive"
    NOT_STARTED = "not_started"
    ENDED = "ended"
    REVOKED = "revoked"
    NO_ENTITLEMENT = "no_entitlement"
    COUNTRY = "country"
    # Answers of the refresh endpoint that are not the rule's.
    RATE_LIMITED = "rate_limited"
    NOT_FOUND = "not_found"
    SUPERSEDED = "superseded"
    STOPPED = "stopped"  # an operator's "stop watching" (the channel's live page)
