from django.contrib import admin, messages

from viewers import revocation
from viewers.models import Revocation


@admin.register(Revocation)
class RevocationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "viewer_id", "max_version", "reason", "status", "attempts", "last_error")
    list_filter = ("status", "reason", "channel")
    search_fields = ("viewer_id", "channel__name", "channel__arn", "last_error")
    list_select_related = ("channel",)
    readonly_fields = [f.name for f in Revocation._meta.fields]
    actions = ("retry_now",)

    def has_add_permission(self, request):
        return False

    @admin.action(description="Retry selected revocations now", permissions=["change"])
    def retry_now(self, request, queryset):
        count = revocation.retry(queryset)
        self.message_user(request, f"Queued {count} revocation(s) for delivery.", messages.SUCCESS)
