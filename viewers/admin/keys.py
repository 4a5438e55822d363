"""Playback keys in the admin: registering a key, and the rotation steps (generate, import, make signing, delete)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from django.utils.html import format_html

from viewers import validators
from viewers.admin.base import OpsMedia, admin_view, render
from viewers.admin.warnings import OpsWarnings
from viewers.ivs import aws, key_regions, key_rotation, tokens
from viewers.models import PlaybackKey, PlaybackKeyRegion


class PlaybackKeyForm(forms.ModelForm):
    """Registering a key. After creation the admin makes the key material and the signing flag read-only
    (PlaybackKeyAdmin.get_readonly_fields): they change only through the rotation steps."""

    class Meta:
        model = PlaybackKey
        fields = ("name", "public_key_pem", "is_signing", "is_active")
        widgets = {"public_key_pem": forms.Textarea(attrs={"rows": 6, "cols": 70})}

    def clean_is_signing(self):
        # Said here, on the field, so that the one_signing_key constraint's bare "Constraint … is violated" is not
        # said too: a field with an error is left out of the model's checks, its constraints included.
        is_signing = self.cleaned_data["is_signing"]
        signing = is_signing and PlaybackKey.objects.filter(is_signing=True).exclude(pk=self.instance.pk).first()
        if signing:
            raise forms.ValidationError(
                f"{signing.name} is already the signing key, and there is only one. Add this key with “signing key” "
                "unticked, then use its “Make signing key” step once the site signs with it: that step moves the flag "
                "to this key."
            )
        return is_signing

    def validate_unique(self):
        super().validate_unique()
        # The fingerprint is computed by the model's clean() and is not a form field, so the form's own unique
        # check skips it: without this, the same key added twice is an IntegrityError (a 500).
        if "public_key_pem" in self.errors:
            return
        # The same check as the "Make signing key" step: the site must really sign with this key.
        if self.cleaned_data.get("is_signing") and self.instance.fingerprint != key_rotation.configured_fingerprint():
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
        state = key_rotation.retirement(key)
        if state.allowed():
            return format_html(
                '{} <a href="{}">delete…</a>',
                state.describe(),
                reverse("admin:viewers_playbackkey_step", args=[key.pk, "retire"]),
            )
        return state.describe()

    def get_queryset(self, request):
        return key_rotation.with_last_token(super().get_queryset(request).prefetch_related("regions"))

    @admin.display(description="IVS regions")
    def region_list(self, key):
        return ", ".join(r.region for r in key.regions.all()) or "not imported"

    @admin.display(description="import into IVS")
    def import_command(self, key):
        if not key.pk:
            return "—"
        imported = [record.region for record in key.regions.all()]
        missing = key_regions.regions_missing(key)
        if imported and not missing:
            return "Imported into every region with channels."
        return format_html(
            "<p>{}Use “Import into IVS” above, or save the public key as <code>{}.pub.pem</code>, "
            "run</p><pre>{}</pre><p>and add each returned key-pair ARN under “Imported into IVS regions”.</p>",
            f"Not imported in {', '.join(missing)}. " if missing else "",
            key.name,
            key_rotation.import_command(key, regions=missing),
        )

    def has_delete_permission(self, request, obj=None):
        # Keys go only through the "delete" rotation step: it waits out the tokens the key signed and also
        # removes the key pair from IVS.
        return False

    def get_urls(self):
        return [
            path("generate/", admin_view(self, key_generate, permission="add"), name="viewers_playbackkey_generate"),
            path(
                "<int:pk>/step/<str:step>/",
                admin_view(self, key_step, permission="change"),
                name="viewers_playbackkey_step",
            ),
            *super().get_urls(),
        ]


# --- Rotation pages: generate a key pair; import, make signing, delete --------------------------------------


class GenerateKeyForm(forms.Form):
    name = forms.CharField(
        max_length=128,
        validators=[validators.validate_key_name],
        help_text="The key pair's name in IVS and here: letters, digits, - and _.",
    )
    import_into_ivs = forms.BooleanField(
        required=False, initial=True, label="Import the public key into IVS now (AWS is configured)"
    )

    def clean_name(self):
        name = self.cleaned_data["name"]
        if PlaybackKey.objects.filter(name=name).exists():
            raise forms.ValidationError("A key with this name exists already.")
        return name


def key_generate(model_admin, request):
    form = GenerateKeyForm(request.POST or None, initial={"name": key_rotation.default_name()})
    if not aws.aws_configured():
        form.fields.pop("import_into_ivs")
    if request.method == "POST" and form.is_valid():
        try:
            private, key = key_rotation.generate(form.cleaned_data["name"])
        except key_rotation.RotationError as exc:
            form.add_error("name", str(exc))
        else:
            return _generated(model_admin, request, private, key, form.cleaned_data.get("import_into_ivs"))
    return render(
        model_admin,
        request,
        "admin/viewers/playbackkey/generate.html",
        "Generate a new playback key pair",
        form=form,
        active_keys=PlaybackKey.objects.filter(is_active=True).count(),
        limit=key_rotation.IVS_KEY_LIMIT,
    )


def _generated(model_admin, request, private, key, import_into_ivs: bool):
    """The new key pair's page: the private key, shown this once, and where its public half was imported."""
    import_error = ""
    if import_into_ivs:
        try:
            key_rotation.import_into_ivs(key)
        except key_rotation.RotationError as exc:
            import_error = str(exc)
    response = render(
        model_admin,
        request,
        "admin/viewers/playbackkey/generated.html",
        f"New key pair {key.name}",
        key=key,
        # Shown once, in this response only: it is never stored, and the page is not cached.
        private_pem=tokens.private_key_pem(private).decode(),
        import_command=key_rotation.import_command(key),
        import_error=import_error,
        imported=list(key.regions.all()),
        missing_regions=key_regions.regions_missing(key),
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


KEY_STEPS = {
    "import": ("Import into IVS", "Import the public key of {name} into IVS with ImportPlaybackKeyPair in {regions}?"),
    "make_signing": ("Make signing key", "Record {name} as the key the site signs with?"),
    "retire": ("Delete", "Delete {name} from IVS and from the site? Tokens it signed are no longer accepted."),
}


def key_step(model_admin, request, pk, step):
    """One rotation step on one key: a confirmation page (GET), then the step (POST)."""
    key = get_object_or_404(PlaybackKey, pk=pk)
    if step not in KEY_STEPS:
        raise Http404
    if step == "retire":
        if not request.user.has_perm("viewers.delete_playbackkey"):
            raise PermissionDenied
        state = key_rotation.retirement(key)
        if not state.allowed():
            why = "it is the signing key" if state.signing else state.describe()
            messages.error(request, f"Playback key {key.name} cannot be deleted yet: {why}.")
            return redirect("admin:viewers_playbackkey_change", key.pk)
    if request.method == "POST":
        return _apply_step(request, key, step)
    label, question = KEY_STEPS[step]
    missing = key_regions.regions_missing(key)
    return render(
        model_admin,
        request,
        "admin/viewers/playbackkey/step_confirm.html",
        f"{label}: {key.name}",
        key=key,
        original=key,
        label=label,
        question=question.format(name=key.name, regions=", ".join(missing) or "no region"),
        aws_configured=aws.aws_configured(),
        missing_regions=missing,
        import_command=key_rotation.import_command(key, regions=missing),
        delete_command=key_rotation.delete_command(key),
        configured_matches=key_rotation.configured_fingerprint() == key.fingerprint,
    )


def _apply_step(request, key, step):
    try:
        if step == "import":
            regions = key_rotation.import_into_ivs(key)
            messages.success(request, f"Imported {key.name} into {', '.join(regions)}.")
        elif step == "make_signing":
            key_rotation.make_signing(key)
            messages.success(request, f"Playback key {key.name} is now the signing key.")
        else:
            messages.success(request, key_rotation.retire(key))
            return redirect("admin:viewers_playbackkey_changelist")
    except key_rotation.RotationError as exc:
        messages.error(request, str(exc))
    return redirect("admin:viewers_playbackkey_change", key.pk)
