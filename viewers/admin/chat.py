"""Chat in the admin: a channel's room (created or linked by the worker), bans, and the chat sessions' audit."""

from django.contrib import admin, messages
from django.utils.html import format_html

from viewers import reconcile
from viewers.admin.base import ReadOnlyAdmin
from viewers.chat import moderation, rooms
from viewers.models import ChatBan, ChatRoom, ChatRoomStatus, ChatSession
from viewers.wording import counted

LIMITS = ("maximum_message_rate_per_second", "maximum_message_length")


@admin.register(ChatRoom)
class ChatRoomAdmin(admin.ModelAdmin):
    list_display = ("channel", "state", "arn", "maximum_message_rate_per_second", "maximum_message_length", "synced_at")
    list_filter = ("status",)
    search_fields = ("channel__name", "channel__slug", "arn")
    list_select_related = ("channel",)
    readonly_fields = ("state", "name", "synced_at")

    def get_fields(self, request, obj=None):
        return ("channel", "arn", *LIMITS, "state", "name", "synced_at") if obj else ("channel", "arn", *LIMITS)

    def get_readonly_fields(self, request, obj=None):
        # A room belongs to its channel: to move it, unlink it (delete) and link its ARN on the other channel.
        return (*self.readonly_fields, "channel") if obj else ()

    @admin.display(description="status", ordering="status")
    def state(self, room):
        if room.status == ChatRoomStatus.FAILED:
            return format_html('<span class="ops-bad">{}: {}</span>', room.get_status_display(), room.last_error)
        if room.last_error:  # waiting to retry
            return format_html(
                '{} <span class="ops-bad">(retrying: {})</span>', room.get_status_display(), room.last_error
            )
        return room.get_status_display()

    def save_model(self, request, obj, form, change):
        arn_changed = not change or "arn" in form.changed_data
        rooms.wish(obj, arn_changed=arn_changed, limits_changed=any(name in form.changed_data for name in LIMITS))
        super().save_model(request, obj, form, change)
        if obj.status != ChatRoomStatus.READY:
            rooms.sync_soon()  # a task row, in the save's transaction
            self.message_user(
                request,
                f"The worker now {'creates' if not obj.arn else 'checks'} the room at IVS; its status shows here. "
                "Viewers see the chat once it is ready.",
                messages.INFO,
            )
        if change and "arn" in form.changed_data:
            # Viewers connected to the old room are disconnected from it (viewers/chat/withdrawal.py).
            reconcile.reconcile_soon()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        reconcile.reconcile_soon()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        reconcile.reconcile_soon()


@admin.register(ChatBan)
class ChatBanAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "channel", "reason", "banned_by", "lifted_at")
    list_filter = (("lifted_at", admin.EmptyFieldListFilter), "channel")
    search_fields = ("user__username", "user__email", "channel__name", "reason")
    list_select_related = ("user", "channel", "banned_by")
    raw_id_fields = ("user",)
    actions = ("lift",)

    def get_readonly_fields(self, request, obj=None):
        # A ban is a record: it is lifted (the action), not edited.
        return ("channel", "user", "reason", "banned_by", "created_at", "lifted_at", "lifted_by") if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            made = moderation.ban_from_admin(obj, by=request.user)
            obj.pk = made.pk

    @admin.action(description="Lift the selected bans", permissions=["change"])
    def lift(self, request, queryset):
        count = moderation.lift(queryset, by=request.user)
        self.message_user(request, f"Lifted {counted(count, 'ban')}; those viewers may chat again.", messages.SUCCESS)


@admin.register(ChatSession)
class ChatSessionAdmin(ReadOnlyAdmin):
    list_display = ("issued_at", "user", "channel", "moderator", "session_expires_at", "ended_at", "end_reason")
    list_filter = ("end_reason", "moderator", "channel")
    search_fields = ("user__username", "chat_user_id", "room_arn", "client_ip")
    list_select_related = ("user", "channel")
    date_hierarchy = "issued_at"
    show_full_result_count = False
