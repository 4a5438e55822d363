"""The token audit (one row per token issued) and the revocations the site owes IVS, with the worker's backlog."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count, Min, Q
from django.utils import timezone

from viewers import reconcile, revocation
from viewers.admin.base import BoundedDateChangeList, ReadOnlyAdmin, export_path
from viewers.models import Revocation, RevocationStatus, TokenAudit
from viewers.operators import exports
from viewers.wording import counted


@admin.register(TokenAudit)
class TokenAuditAdmin(ReadOnlyAdmin):
    list_display = (
        "issued_at",
        "user",
        "channel_label",
        "viewer_id",
        "max_resolution",
        "client_ip",
        "purpose",
        "expires_at",
    )
    list_filter = ("channel", "purpose", "max_resolution")
    search_fields = (
        "user__username",
        "user__email",
        "channel_name",
        "channel__slug",
        "client_ip",
        "viewer_id",
        "channel_arn",
        "single_use_uuid",
        "key_fingerprint",
    )
    search_help_text = (
        "Username or e-mail, channel name or slug, client IP, viewer id, channel ARN, single-use id or the signing "
        "key's fingerprint (part of one is enough)."
    )
    list_select_related = ("user", "channel")
    date_hierarchy = "issued_at"
    show_full_result_count = False  # counting millions of rows on every page view is the slow part

    def get_changelist(self, request, **kwargs):
        return BoundedDateChangeList

    @admin.display(description="channel", ordering="channel_name")
    def channel_label(self, audit):
        # The row outlives its channel, and keeps the name and ARN the token was signed for.
        if audit.channel_id is None:
            return f"{audit.channel_name} (deleted)"
        if audit.channel.arn != audit.channel_arn:
            return f"{audit.channel_name} (then {audit.channel_arn})"
        return audit.channel_name or str(audit.channel)

    def get_urls(self):
        export = export_path(self, filename="token-audit", header=exports.AUDIT_HEADER, rows_of=exports.audit_rows)
        return [export, *super().get_urls()]


def _backlog() -> dict:
    """What the worker still owes IVS, and whether it is alive: a worker that is down shows up here."""
    counts = Revocation.objects.aggregate(
        pending=Count("pk", filter=Q(status=RevocationStatus.PENDING)),
        failed=Count("pk", filter=Q(status=RevocationStatus.FAILED)),
        oldest=Min("created_at", filter=Q(status=RevocationStatus.PENDING)),
    )
    last_run = reconcile.last_run()
    stale_after = timezone.now() - timedelta(seconds=3 * settings.IVS_RECONCILE_SECONDS)
    return {**counts, "last_run": last_run, "stale": last_run is None or last_run < stale_after}


@admin.register(Revocation)
class RevocationAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "channel_arn",
        "channel",
        "viewer_id",
        "max_version",
        "reason",
        "status",
        "attempts",
        "last_error",
    )
    list_filter = ("status", "kind", "reason", "channel")
    search_fields = ("viewer_id", "channel__name", "channel_arn", "last_error")
    list_select_related = ("channel",)
    readonly_fields = [f.name for f in Revocation._meta.fields]
    actions = ("retry_now",)

    def has_add_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "backlog": _backlog()})

    @admin.action(description="Retry selected revocations now", permissions=["change"])
    def retry_now(self, request, queryset):
        count = revocation.retry(queryset)
        self.message_user(request, f"Queued {counted(count, 'revocation')} for delivery.", messages.SUCCESS)
