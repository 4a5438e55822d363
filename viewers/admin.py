import logging

from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from viewers import access, admin_views, exports, validators
from viewers.admin_warnings import OpsWarnings
from viewers.invitations import invitation_links
from viewers.models import Channel, Entitlement, EntitlementImport, Invitation, TokenAudit, User

logger = logging.getLogger("viewers.admin")


class OpsMedia:
    # Colours and layout for the operations pages: a stylesheet, since the CSP allows no inline styles.
    css = {"all": ["css/admin-ops.css"]}


class BoundedDateChangeList(ChangeList):
    """Django's date drill-down computes the next year, month or day with no bound: at 9999 that raised (a 500).
    Out of range is a bad filter, like any other; the admin answers those by going back to the list."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as exc:
            raise IncorrectLookupParameters(exc) from exc


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    readonly_fields = ("viewer_id",)
    fieldsets = DjangoUserAdmin.fieldsets + (("Playback", {"fields": ("viewer_id",)}),)

    # change_user is what invitation links need; it must not also mean "become a superuser": only superusers
    # edit superusers (their password included) or hand out superuser status and per-user permissions.
    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return (*fields, "is_superuser", "user_permissions")


@admin.register(Channel)
class ChannelAdmin(OpsWarnings, admin.ModelAdmin):
    list_display = ("name", "slug", "access", "countries", "is_listed", "arn", "created_at", "activity_link")
    list_filter = ("is_private", "is_listed")
    search_fields = ("name", "slug", "arn")
    prepopulated_fields = {"slug": ("name",)}
    # A playback URL typed without a scheme is an https one (and Django 6 makes https the default anyway).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    Media = OpsMedia

    @admin.display(description="access", ordering="is_private")
    def access(self, channel):
        return "Private (token)" if channel.is_private else "Public"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in ("allowed_countries", "blocked_countries"):
            # Two panes of country names with a filter box, not a 250-line list to ctrl-click through.
            kwargs["widget"] = FilteredSelectMultiple(db_field.verbose_name, is_stacked=False)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="countries")
    def countries(self, channel):
        allowed = ", ".join(c.code for c in channel.allowed_countries)
        blocked = ", ".join(c.code for c in channel.blocked_countries)
        return "; ".join(filter(None, [allowed and f"only {allowed}", blocked and f"not {blocked}"])) or "—"

    @admin.display(description="activity")
    def activity_link(self, channel):
        return format_html('<a href="{}">last 48 h</a>', reverse("admin:viewers_channel_activity", args=[channel.pk]))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/activity/", view(self._activity), name="viewers_channel_activity"),
            path("ivs-sync/", view(self._ivs_sync), name="viewers_channel_ivs_sync"),
            *super().get_urls(),
        ]

    def _activity(self, request, pk):
        return admin_views.channel_activity(self, request, pk)

    def _ivs_sync(self, request):
        return admin_views.ivs_sync(self, request)


@admin.register(Entitlement)
class EntitlementAdmin(admin.ModelAdmin):
    list_display = ("holder_display", "channel", "starts_at", "ends_at", "max_resolution", "status", "note")
    list_filter = ("channel", "group", "max_resolution", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "user__email", "group__name", "channel__name", "channel__slug", "note")
    list_select_related = ("user", "group", "channel")
    autocomplete_fields = ("user", "group", "channel")
    readonly_fields = ("created_at", "created_by", "revoked_at", "revoked_by")
    actions = ("revoke", "end_now", "extend")
    date_hierarchy = "created_at"
    formfield_overrides = {models.DateTimeField: {"validators": [validators.validate_date_in_range]}}
    Media = OpsMedia

    def get_changelist(self, request, **kwargs):
        return BoundedDateChangeList

    @admin.display(description="holder")
    def holder_display(self, entitlement):
        if entitlement.user_id:
            return entitlement.user.get_username()
        return format_html("<em>group</em> {}", entitlement.group.name)

    @admin.display(description="status")
    def status(self, entitlement):
        label = access.entitlement_state(
            entitlement.revoked_at, entitlement.starts_at, entitlement.ends_at, timezone.now()
        )
        if label == "revoked":
            return format_html('<span class="ops-bad">revoked {}</span>', entitlement.revoked_at.date())
        if label == "active":
            return format_html('<span class="ops-good">{}</span>', "active")
        return label

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Revoke selected entitlements…", permissions=["change"])
    def revoke(self, request, queryset):
        return admin_views.bulk_action(self, request, queryset, "revoke")

    @admin.action(description="End selected entitlements now…", permissions=["change"])
    def end_now(self, request, queryset):
        return admin_views.bulk_action(self, request, queryset, "end_now")

    @admin.action(description="Extend selected entitlements…", permissions=["change"])
    def extend(self, request, queryset):
        return admin_views.bulk_action(self, request, queryset, "extend")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "import/",
                admin_views.with_upload_cap(view(self._import)),
                name="viewers_entitlement_import",
            ),
            path("import/<int:pk>/", view(self._import_preview), name="viewers_entitlement_import_preview"),
            path("group-grant/", view(self._group_grant), name="viewers_entitlement_group_grant"),
            path("export.csv", view(self._export), name="viewers_entitlement_export"),
            *super().get_urls(),
        ]

    def _import(self, request):
        return admin_views.import_upload(self, request)

    def _import_preview(self, request, pk):
        return admin_views.import_preview(self, request, pk)

    def _group_grant(self, request):
        return admin_views.group_grant(self, request)

    def _export(self, request):
        return admin_views.export_csv(
            self, request, "entitlements", exports.ENTITLEMENT_HEADER, exports.entitlement_rows
        )


@admin.register(TokenAudit)
class TokenAuditAdmin(admin.ModelAdmin):
    list_display = ("issued_at", "user", "channel", "viewer_id", "max_resolution", "client_ip", "purpose", "expires_at")
    list_filter = ("channel", "purpose", "max_resolution")
    search_fields = ("user__username", "user__email", "viewer_id", "client_ip", "single_use_uuid")
    list_select_related = ("user", "channel")
    date_hierarchy = "issued_at"

    def get_changelist(self, request, **kwargs):
        return BoundedDateChangeList

    show_full_result_count = False  # counting millions of rows on every page view is the slow part

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("export.csv", self.admin_site.admin_view(self._export), name="viewers_tokenaudit_export"),
            *super().get_urls(),
        ]

    def _export(self, request):
        return admin_views.export_csv(self, request, "token-audit", exports.AUDIT_HEADER, exports.audit_rows)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "created_at", "created_by", "accepted_at")
    list_filter = (("accepted_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__email", "user__username")
    list_select_related = ("user", "created_by")
    actions = ("download_links",)
    readonly_fields = ("user", "created_at", "created_by", "accepted_at")

    @admin.display(description="email", ordering="user__email")
    def email(self, invitation):
        return invitation.user.email

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_send_links_permission(self, request):
        # A link sets the password of an account and activates it with every channel it was granted: it is a
        # credential, so only someone who may change users may take it.
        return request.user.has_perm("viewers.change_user")

    @admin.action(
        description="Download password-set links (CSV) for the selected pending invitations",
        permissions=["send_links"],
    )
    def download_links(self, request, queryset):
        pending = queryset.filter(accepted_at__isnull=True).select_related("user")
        # Who took which links, in the admin's history and the log; never the links themselves.
        LogEntry.objects.log_actions(request.user.pk, pending, CHANGE, "Exported its password-set link (CSV).")
        logger.info(
            "password-set links exported by user %s for invitations %s", request.user.pk, [i.pk for i in pending]
        )
        users = User.objects.filter(invitation__in=pending).order_by("email")
        base = request.build_absolute_uri("/")
        return exports.csv_response(
            "invitation-links.csv", ["email", "password_set_link"], invitation_links(users, base)
        )


@admin.register(EntitlementImport)
class EntitlementImportAdmin(admin.ModelAdmin):
    list_display = ("filename", "created_at", "created_by", "applied_at", "result")
    list_select_related = ("created_by",)
    fields = ("filename", "create_users", "created_at", "created_by", "applied_at", "summary")
    readonly_fields = fields

    @admin.display(description="result")
    def result(self, staged):
        if not staged.applied_at:
            return format_html(
                '<a href="{}">preview / import</a>',
                reverse("admin:viewers_entitlement_import_preview", args=[staged.pk]),
            )
        summary = staged.summary
        new, unchanged, invited = (summary.get(key, 0) for key in ("new", "unchanged", "invitations"))
        return f"{new} new, {unchanged} unchanged, {invited} invited"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


from viewers import admin_keys, admin_revocations  # noqa: E402,F401  (register the key and revocation admins)
