"""Playback keys in the admin: registering a key, and the rotation steps (generate, import, make signing, delete)."""

from django import forms
from django.contrib import admin
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from viewers import admin_views, keyrotation, validators
from viewers.admin import OpsMedia
from viewers.models import PlaybackKey


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
