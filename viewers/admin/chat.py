"""Chat in the admin: a channel's room (created or linked by the worker), bans, and the chat sessions' audit."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html

from viewers import reconcile
from viewers.admin.base import OpsMedia, ReadOnlyAdmin
from viewers.chat import moderation, rooms
from viewers.models import ChatBan, ChatRoom, ChatRoomStatus, ChatSession
from viewers.wording import counted

LIMITS = ("maximum_message_rate_per_second", "maximum_message_length")


@admin.register(ChatRoom)
class ChatRoomAdmin(admin.ModelAdmin):
    list_display = ("channel", "state", "maximum_message_rate_per_second", "maximum_message_length", "synced_at", "arn")
    list_filter = ("status",)
    search_fields = ("channel__name", "channel__slug", "arn")
    list_select_related = ("channel",)
    readonly_fields = ("state", "name", "synced_at")
    Media = OpsMedia

    def get_fieldsets(self, request, obj=None):
        fields = ("channel", "arn", *LIMITS, "state", "name", "synced_at") if obj else ("channel", "arn", *LIMITS)
        # What deleting means, where the Delete button is: the operator's viewers are in this room.
        unlink = "Deleting unlinks the room: its viewers are disconnected from the chat; the room stays at IVS."
        return [(None, {"fields": fields, "description": unlink if obj else ""})]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "arn" and formfield is not None:
            formfield.widget.attrs["class"] = "vTextField ops-wide"  # a whole ARN, readable (admin-ops.css)
        return formfield

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


class BanState(admin.SimpleListFilter):
    title, parameter_name = "state", "state"

    def lookups(self, request, model_admin):
        return [("active", "in force"), ("lifted", "lifted")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(lifted_at__isnull=True)
        if self.value() == "lifted":
            return queryset.filter(lifted_at__isnull=False)
        return queryset


@admin.register(ChatBan)
class ChatBanAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "channel", "reason", "banned_by", "state")
    list_filter = (BanState, "channel")
    search_fields = ("user__username", "user__email", "channel__name", "reason")
    list_select_related = ("user", "channel", "banned_by", "lifted_by")
    autocomplete_fields = ("user",)  # by username or e-mail (the user admin's search), not an id
    actions = ("lift",)

    def get_readonly_fields(self, request, obj=None):
        # A ban is a record: it is lifted (the action), not edited.
        return ("channel", "user", "reason", "banned_by", "created_at", "lifted_at", "lifted_by") if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="state", ordering="lifted_at")
    def state(self, ban):
        if ban.lifted_at is None:
            return "in force"
        lifted = f"lifted {timezone.localtime(ban.lifted_at):%Y-%m-%d %H:%M}"
        return f"{lifted} by {ban.lifted_by}" if ban.lifted_by_id else lifted

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
