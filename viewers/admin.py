import logging

from django import forms
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from viewers import access, admin_views, exports, keyrotation, validators
from viewers.invitations import invitation_links
from viewers.models import Channel, Entitlement, EntitlementImport, Invitation, PlaybackKey, TokenAudit, User

logger = logging.getLogger("viewers.admin")


class OpsMedia:
    # Colours and layout for the operations pages: a stylesheet, since the CSP allows no inline styles.
    css = {"all": ["css/admin-ops.css"]}


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    readonly_fields = ("viewer_id",)
    fieldsets = DjangoUserAdmin.fieldsets + (("Playback", {"fields": ("viewer_id",)}),)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "access", "is_listed", "arn", "created_at", "activity_link")
    list_filter = ("is_private", "is_listed")
    search_fields = ("name", "slug", "arn")
    prepopulated_fields = {"slug": ("name",)}
    # A playback URL typed without a scheme is an https one (and Django 6 makes https the default anyway).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    Media = OpsMedia

    @admin.display(description="access", ordering="is_private")
    def access(self, channel):
        return "Private (token)" if channel.is_private else "Public"

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


class PlaybackKeyForm(forms.ModelForm):
    """Registering a key. After creation the admin makes the key material, the signing flag and a recorded ARN
    read-only (PlaybackKeyAdmin.get_readonly_fields): they change only through the rotation steps."""

    class Meta:
        model = PlaybackKey
        fields = ("name", "public_key_pem", "ivs_arn", "is_signing", "is_active")
        widgets = {"public_key_pem": forms.Textarea(attrs={"rows": 6, "cols": 70})}

    def clean_ivs_arn(self):
        # retire() deletes this ARN from IVS: it must name a key pair, and not one another key here stands for.
        arn = self.cleaned_data["ivs_arn"].strip()
        if arn and not validators.PLAYBACK_KEY_ARN_RE.fullmatch(arn):
            raise forms.ValidationError("Paste the key-pair ARN: arn:aws:ivs:<region>:<account>:playback-key/<id>.")
        if arn and PlaybackKey.objects.filter(ivs_arn=arn).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another registered key already has this ARN.")
        return arn

    def validate_unique(self):
        super().validate_unique()
        # The fingerprint is computed by the model's clean() and is not a form field, so the form's own unique
        # check skips it: without this, the same key added twice is an IntegrityError (a 500).
        if "public_key_pem" in self.errors:
            return
        # The same check as the "Make signing key" step: the site must really sign with this key.
        if self.cleaned_data.get("is_signing") and self.instance.fingerprint != keyrotation.configured_fingerprint():
            self.add_error(
                "is_signing",
                "The site does not sign with this key: point IVS_PLAYBACK_PRIVATE_KEY_FILE at its private half and "
                "restart, then use the key's “Make signing key” step.",
            )
        duplicate = PlaybackKey.objects.filter(fingerprint=self.instance.fingerprint).exclude(pk=self.instance.pk)
        if duplicate.exists():
            self.add_error("public_key_pem", f"This key is already registered as {duplicate.get().name!r}.")


@admin.register(PlaybackKey)
class PlaybackKeyAdmin(admin.ModelAdmin):
    form = PlaybackKeyForm
    list_display = ("name", "fingerprint", "is_signing", "is_active", "ivs_arn", "rotation", "created_at")
    list_filter = ("is_signing", "is_active")
    search_fields = ("name", "fingerprint", "ivs_arn")
    readonly_fields = (
        "fingerprint",
        "ivs_fingerprint",
        "created_at",
        "signing_stopped_at",
        "rotation",
        "import_command",
    )
    Media = OpsMedia
    ROTATION_NOTE = (
        "The public key, the signing flag and a recorded IVS ARN change only through the rotation steps above "
        "(Import into IVS, Make signing key, Delete): they check that the site really signs with a key before it "
        "becomes the signing key, and that the tokens a key signed have expired before it leaves IVS. "
        "The signing key stays active."
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        locked = ["public_key_pem", "is_signing"]
        if obj.ivs_arn:
            locked.append("ivs_arn")  # an ARN may be pasted once, after a CLI import
        if obj.is_signing:
            locked.append("is_active")
        return (*locked, *self.readonly_fields)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [(None, {**fieldsets[0][1], "description": self.ROTATION_NOTE})]

    @admin.display(description="rotation")
    def rotation(self, key):
        if not key.pk:
            return "—"
        if key.is_signing:
            return "signing"
        if keyrotation.can_delete(key):
            return format_html(
                '<a href="{}">delete…</a>', reverse("admin:viewers_playbackkey_step", args=[key.pk, "retire"])
            )
        return f"deletable after {timezone.localtime(keyrotation.deletable_at(key)):%Y-%m-%d %H:%M}"

    @admin.display(description="import into IVS")
    def import_command(self, key):
        if not key.pk:
            return "—"
        if key.ivs_arn:
            return format_html("Imported as <code>{}</code>.", key.ivs_arn)
        return format_html(
            "<p>Save the public key above as <code>{}.pub.pem</code>, then run:</p>"
            "<pre>{}</pre>"
            "<p>and paste the returned key-pair ARN into the field above.</p>",
            key.name,
            keyrotation.import_command(key),
        )

    def has_delete_permission(self, request, obj=None):
        # Keys go only through the "delete" rotation step: it waits out the tokens the key signed and also
        # removes the key pair from IVS.
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("generate/", view(self._generate), name="viewers_playbackkey_generate"),
            path("<int:pk>/step/<str:step>/", view(self._step), name="viewers_playbackkey_step"),
            *super().get_urls(),
        ]

    def _generate(self, request):
        return admin_views.key_generate(self, request)

    def _step(self, request, pk, step):
        return admin_views.key_step(self, request, pk, step)


@admin.register(TokenAudit)
class TokenAuditAdmin(admin.ModelAdmin):
    list_display = ("issued_at", "user", "channel", "viewer_id", "max_resolution", "client_ip", "purpose", "expires_at")
    list_filter = ("channel", "purpose", "max_resolution")
    search_fields = ("user__username", "user__email", "viewer_id", "client_ip", "single_use_uuid")
    list_select_related = ("user", "channel")
    date_hierarchy = "issued_at"
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


from viewers import admin_revocations  # noqa: E402,F401  (registers the Revocation admin)
