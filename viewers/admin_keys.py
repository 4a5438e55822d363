"""Playback keys in the admin: registering a key, and the rotation steps (generate, import, make signing, delete)."""

from django import forms
from django.contrib import admin
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from viewers import admin_views, keyregions, keyrotation
from viewers.admin import OpsMedia
from viewers.admin_warnings import OpsWarnings
from viewers.models import PlaybackKey, PlaybackKeyRegion


class PlaybackKeyForm(forms.ModelForm):
    """Registering a key. After creation the admin makes the key material and the signing flag read-only
    (PlaybackKeyAdmin.get_readonly_fields): they change only through the rotation steps."""

    class Meta:
        model = PlaybackKey
        fields = ("name", "public_key_pem", "is_signing", "is_active")
        widgets = {"public_key_pem": forms.Textarea(attrs={"rows": 6, "cols": 70})}

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


class PlaybackKeyRegionForm(forms.ModelForm):
    def clean_arn(self):
        # The delete step removes the key pair at these ARNs from IVS: a recorded one is never swapped for another.
        arn = self.cleaned_data["arn"]
        if self.instance.pk and arn != self.instance.arn:
            raise forms.ValidationError("A recorded key-pair ARN cannot be changed; the rotation steps manage it.")
        return arn


class PlaybackKeyRegionInline(admin.TabularInline):
    """Where the key is imported. Filled in by the import step; paste an ARN here for a key imported by hand.
    A recorded ARN stays: the delete step removes the key from IVS there, so it is neither changed nor dropped."""

    model = PlaybackKeyRegion
    form = PlaybackKeyRegionForm
    fields = ("arn", "region", "fingerprint", "imported_at")
    readonly_fields = ("region", "fingerprint", "imported_at")
    extra = 0
    verbose_name = "IVS region"
    verbose_name_plural = "Imported into IVS regions"

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PlaybackKey)
class PlaybackKeyAdmin(OpsWarnings, admin.ModelAdmin):
    form = PlaybackKeyForm
    inlines = (PlaybackKeyRegionInline,)
    list_display = ("name", "fingerprint", "is_signing", "is_active", "region_list", "rotation", "created_at")
    list_filter = ("is_signing", "is_active")
    search_fields = ("name", "fingerprint", "regions__arn")
    readonly_fields = (
        "fingerprint",
        "created_at",
        "signing_stopped_at",
        "rotation",
        "import_command",
    )
    Media = OpsMedia
    ROTATION_NOTE = (
        "The public key, the signing flag and recorded IVS ARNs change only through the rotation steps above "
        "(Import into IVS, Make signing key, Delete): they check that the site really signs with a key before it "
        "becomes the signing key, and that the tokens a key signed have expired before it leaves IVS. "
        "The signing key stays active."
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        locked = ["public_key_pem", "is_signing", *(["is_active"] if obj.is_signing else [])]
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

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("regions")

    @admin.display(description="IVS regions")
    def region_list(self, key):
        return ", ".join(r.region for r in key.regions.all()) or "not imported"

    @admin.display(description="import into IVS")
    def import_command(self, key):
        if not key.pk:
            return "—"
        imported = [record.region for record in key.regions.all()]
        missing = keyregions.regions_missing(key)
        if imported and not missing:
            return "Imported into every region with channels."
        return format_html(
            "<p>{}Use “Import into IVS” above, or save the public key as <code>{}.pub.pem</code>, "
            "run</p><pre>{}</pre><p>and add each returned key-pair ARN under “Imported into IVS regions”.</p>",
            f"Not imported in {', '.join(missing)}. " if missing else "",
            key.name,
            keyrotation.import_command(key, regions=missing),
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
