from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html

from viewers import services
from viewers.models import Channel, Entitlement, PlaybackKey, TokenAudit, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    readonly_fields = ("viewer_id",)
    fieldsets = DjangoUserAdmin.fieldsets + (("Playback", {"fields": ("viewer_id",)}),)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "access", "is_listed", "arn", "created_at")
    list_filter = ("is_private", "is_listed")
    search_fields = ("name", "slug", "arn")
    prepopulated_fields = {"slug": ("name",)}
    # A playback URL typed without a scheme is an https one (and Django 6 makes https the default anyway).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="access", ordering="is_private")
    def access(self, channel):
        return "Private (token)" if channel.is_private else "Public"


class ExtendForm(forms.Form):
    until = forms.DateTimeField(
        label="New end",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="In the site's time zone.",
    )

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        return until


@admin.register(Entitlement)
class EntitlementAdmin(admin.ModelAdmin):
    list_display = ("holder_display", "channel", "starts_at", "ends_at", "max_resolution", "status", "note")
    list_filter = ("channel", "max_resolution", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "user__email", "group__name", "channel__name", "channel__slug", "note")
    list_select_related = ("user", "group", "channel")
    autocomplete_fields = ("user", "group", "channel")
    readonly_fields = ("created_at", "created_by", "revoked_at", "revoked_by")
    actions = ("revoke", "extend")
    date_hierarchy = "created_at"

    @admin.display(description="holder")
    def holder_display(self, entitlement):
        if entitlement.user_id:
            return entitlement.user.get_username()
        return format_html("<em>group</em> {}", entitlement.group.name)

    @admin.display(description="status")
    def status(self, entitlement):
        now = timezone.now()
        if entitlement.revoked_at:
            return format_html('<span style="color:#b42318">revoked {}</span>', entitlement.revoked_at.date())
        if entitlement.starts_at and entitlement.starts_at > now:
            return "upcoming"
        if entitlement.ends_at and entitlement.ends_at <= now:
            return "ended"
        return format_html('<span style="color:#067647">{}</span>', "active")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Revoke selected entitlements")
    def revoke(self, request, queryset):
        count = services.entitlements_revoke(entitlements=queryset, revoked_by=request.user)
        self.message_user(request, f"Revoked {count} entitlement(s).", messages.SUCCESS)

    @admin.action(description="Extend selected entitlements…")
    def extend(self, request, queryset):
        form = ExtendForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            count = services.entitlements_extend(entitlements=queryset, until=form.cleaned_data["until"])
            self.message_user(request, f"Extended {count} entitlement(s).", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Extend entitlements",
            "form": form,
            "queryset": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/viewers/entitlement/extend.html", context)


class PlaybackKeyForm(forms.ModelForm):
    class Meta:
        model = PlaybackKey
        fields = ("name", "public_key_pem", "ivs_arn", "is_signing", "is_active")
        widgets = {"public_key_pem": forms.Textarea(attrs={"rows": 6, "cols": 70})}

    def validate_unique(self):
        super().validate_unique()
        # The fingerprint is computed by the model's clean() and is not a form field, so the form's own unique
        # check skips it: without this, the same key added twice is an IntegrityError (a 500).
        if "public_key_pem" in self.errors:
            return
        duplicate = PlaybackKey.objects.filter(fingerprint=self.instance.fingerprint).exclude(pk=self.instance.pk)
        if duplicate.exists():
            self.add_error("public_key_pem", f"This key is already registered as {duplicate.get().name!r}.")


@admin.register(PlaybackKey)
class PlaybackKeyAdmin(admin.ModelAdmin):
    form = PlaybackKeyForm
    list_display = ("name", "fingerprint", "is_signing", "is_active", "ivs_arn", "created_at")
    list_filter = ("is_signing", "is_active")
    search_fields = ("name", "fingerprint", "ivs_arn")
    readonly_fields = ("fingerprint", "created_at", "import_command")

    @admin.display(description="import into IVS")
    def import_command(self, key):
        if not key.pk:
            return "—"
        return format_html(
            "<p>Save the public key above as <code>{}.pub.pem</code>, then run:</p>"
            "<pre>aws ivs import-playback-key-pair --name {} --public-key-material file://{}.pub.pem</pre>"
            "<p>and paste the returned key-pair ARN into the field above.</p>",
            key.name,
            key.name,
            key.name,
        )


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


from viewers import admin_revocations  # noqa: E402,F401  (registers the Revocation admin)
