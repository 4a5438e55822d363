"""The admin's operations pages: bulk import, group grants, bulk confirmations, exports, activity, key rotation,
IVS channel sync. Each view is a function of (model_admin, request, …); viewers/admin.py wires them into URLs.
Writes go through viewers.services, viewers.imports, viewers.keyrotation and viewers.channel_sync."""

import time

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from viewers import (
    activity,
    aws,
    channel_sync,
    emails,
    exports,
    imports,
    keyregions,
    keyrotation,
    services,
    tokens,
    validators,
)
from viewers.models import Channel, EntitlementImport, PlaybackKey, Resolution, User

# --- Shared helpers --------------------------------------------------------------------


def render(model_admin, request, template, title, **context):
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "opts": model_admin.model._meta,
            "has_view_permission": model_admin.has_view_permission(request),
            **context,
        },
    )


def viewers_affected(entitlements) -> int:
    """Distinct people who hold any of `entitlements`, directly or through a group."""
    direct = entitlements.filter(user__isnull=False).values("user_id")
    groups = entitlements.filter(group__isnull=False).values("group_id")
    return User.objects.filter(Q(pk__in=direct) | Q(groups__in=groups)).distinct().count()


def changelist_url(model_admin, query=""):
    opts = model_admin.model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + query


# --- Upload size cap ----------------------------------------------------------------------


class CappedUploadHandler(FileUploadHandler):
    """Stops reading an upload once it passes the import limit, before it reaches memory or disk.

    The rest of the request body is read and thrown away (so the connection stays usable), and the view
    reports the size. Form fields sent before the file, the CSRF token among them, are kept."""

    def __init__(self, request=None, limit=imports.MAX_FILE_BYTES):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


def with_upload_cap(view):
    """Install the capped handler before anything reads the body. CSRF is still checked: admin_view()
    wraps `view` in csrf_protect, which runs after the handler is in place."""

    @csrf_exempt
    def wrapped(request, *args, **kwargs):
        request.upload_too_large = False
        request.upload_handlers.insert(0, CappedUploadHandler(request))
        return view(request, *args, **kwargs)

    return wrapped


# --- Bulk import -----------------------------------------------------------------------------


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text=f"UTF-8, at most {imports.MAX_FILE_BYTES // 1024 // 1024} MB.")
    create_users = forms.BooleanField(
        label="Invite missing users",
        required=False,
        help_text="Create an inactive account for each unknown email, activated when its owner sets a password "
        "through a password-set link. Without it, every email must belong to an existing user.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            self.cleaned_data["text"] = imports.decode(upload.read(imports.MAX_FILE_BYTES + 1))
            imports.read_rows(self.cleaned_data["text"])
        except imports.ImportFileError as exc:
            raise forms.ValidationError(str(exc)) from None
        return upload


TOO_LARGE = f"The file is larger than {imports.MAX_FILE_BYTES // 1024 // 1024} MB. Split it into smaller files."


def import_upload(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    if getattr(request, "upload_too_large", False):
        # The capped handler stopped reading, so the file field is empty: say why rather than "required".
        form = ImportForm(initial={"create_users": request.POST.get("create_users") == "on"})
        messages.error(request, TOO_LARGE + " Nothing was imported.")
    elif request.method == "POST" and form.is_valid():
        create_users = form.cleaned_data["create_users"]
        if create_users and not request.user.has_perm("viewers.add_user"):
            raise PermissionDenied
        staged = EntitlementImport.objects.create(
            filename=form.cleaned_data["file"].name[:255],
            content=form.cleaned_data["text"],
            create_users=create_users,
            created_by=request.user,
        )
        return redirect("admin:viewers_entitlement_import_preview", staged.pk)
    recent = EntitlementImport.objects.select_related("created_by").defer("content")[:10]
    return render(
        model_admin,
        request,
        "admin/viewers/entitlement/import.html",
        "Import entitlements from CSV",
        form=form,
        columns=imports.COLUMNS,
        date_help=imports.DATE_HELP,
        recent=recent,
    )


def import_preview(model_admin, request, pk):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    staged = get_object_or_404(EntitlementImport, pk=pk)
    # Whoever staged it, the one who confirms creates the users: they need the permission to.
    if staged.create_users and not request.user.has_perm("viewers.add_user"):
        raise PermissionDenied
    if staged.applied_at:
        return render(
            model_admin,
            request,
            "admin/viewers/entitlement/import_preview.html",
            f"Import of {staged.filename}",
            staged=staged,
            done=True,
        )
    if request.method == "POST" and "confirm" in request.POST:
        started = time.monotonic()
        try:
            result = imports.import_entitlements(
                staged.content, create_users=staged.create_users, granted_by=request.user
            )
        except imports.ImportRefused:
            messages.error(request, "The data changed since the preview and some rows now have errors; see below.")
            return redirect("admin:viewers_entitlement_import_preview", staged.pk)
        except imports.ImportFileError as exc:  # the stored file was checked on upload; kept for safety
            messages.error(request, str(exc))
            return redirect("admin:viewers_entitlement_import")
        invited = result.pop("invited_user_ids")
        staged.applied_at = timezone.now()
        staged.summary = {**result, "seconds": round(time.monotonic() - started, 1)}
        staged.content = ""  # the file has done its job; the emails in it now live in the user table
        staged.save(update_fields=["applied_at", "summary", "content"])
        messages.success(
            request,
            f"Imported {result['new']} new entitlement(s); {result['unchanged']} were already granted; "
            f"{len(invited)} user(s) invited.",
        )
        if invited and request.POST.get("email_invitations"):
            sent, failed = emails.send_invitations(
                User.objects.filter(pk__in=invited).order_by("email"), emails.site_url(request)
            )
            messages.info(request, emails.invitations_report(sent, failed))
        elif invited:
            messages.info(request, "Send the invited users their password-set links: Invitations → select → download.")
        return redirect("admin:viewers_entitlement_import_preview", staged.pk)

    started = time.monotonic()
    try:
        plan = imports.plan_import(staged.content, create_users=staged.create_users)
    except imports.ImportFileError as exc:
        messages.error(request, str(exc))
        return redirect("admin:viewers_entitlement_import")
    return render(
        model_admin,
        request,
        "admin/viewers/entitlement/import_preview.html",
        f"Preview of {staged.filename}",
        staged=staged,
        plan=plan,
        counts=plan.counts(),
        errors=plan.errors[:500],
        sample=plan.new[:20],
        seconds=round(time.monotonic() - started, 1),
    )


# --- Group grants and bulk actions ----------------------------------------------------------------


class WindowField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})
    default_validators = [validators.validate_date_in_range]


class GroupGrantForm(forms.Form):
    group = forms.ModelChoiceField(queryset=Group.objects.order_by("name"))
    channels = forms.ModelMultipleChoiceField(
        queryset=Channel.objects.filter(is_private=True), widget=forms.CheckboxSelectMultiple
    )
    starts_at = WindowField(required=False, help_text="Empty: from now on. In the site's time zone.")
    ends_at = WindowField(required=False, help_text="Empty: no end.")
    max_resolution = forms.ChoiceField(choices=[("", "No limit"), *Resolution.choices], required=False)
    note = forms.CharField(max_length=500, required=False)

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "The end must be after the start.")
        if ends and ends <= timezone.now():
            self.add_error("ends_at", "This window has already ended.")
        return data


def group_grant(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = GroupGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "confirm" in request.POST:
            created = services.group_grant(
                group=data["group"],
                channels=list(data["channels"]),
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                max_resolution=data["max_resolution"],
                note=data["note"],
                granted_by=request.user,
            )
            messages.success(request, f"Granted {len(created)} channel(s) to the group {data['group'].name}.")
            return redirect(changelist_url(model_admin, f"?group__id__exact={data['group'].pk}"))
        return render(
            model_admin,
            request,
            "admin/viewers/entitlement/group_grant_confirm.html",
            "Confirm the group grant",
            form=form,
            data=data,
            members=data["group"].user_set.count(),
            active_members=data["group"].user_set.filter(is_active=True).count(),
        )
    return render(
        model_admin, request, "admin/viewers/entitlement/group_grant.html", "Grant channels to a group", form=form
    )


class ExtendForm(forms.Form):
    until = WindowField(label="New end", help_text="In the site's time zone.")

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        return until


BULK_ACTIONS = {
    "revoke": ("Revoke", "Revoked", "They stop being able to start playback now; the rows stay for the record."),
    "end_now": ("End now", "Ended", "Entitlements in force end now. Upcoming, ended and revoked ones are left alone."),
    "extend": ("Extend", "Extended", "Live entitlements get the new end. Revoked ones are left alone."),
}


def bulk_action(model_admin, request, queryset, action):
    """Confirmation page for revoke / end now / extend, then the write through viewers.services."""
    verb, done, explanation = BULK_ACTIONS[action]
    form = ExtendForm(request.POST if "apply" in request.POST else None) if action == "extend" else None
    if "apply" in request.POST and (form is None or form.is_valid()):
        if action == "revoke":
            count = services.entitlements_revoke(entitlements=queryset, revoked_by=request.user)
        elif action == "end_now":
            count = services.entitlements_end_now(entitlements=queryset)
        else:
            count = services.entitlements_extend(entitlements=queryset, until=form.cleaned_data["until"])
        model_admin.message_user(request, f"{done} {count} entitlement(s).", messages.SUCCESS)
        return None
    select_across = request.POST.get("select_across") == "1"
    return render(
        model_admin,
        request,
        "admin/viewers/entitlement/bulk_confirm.html",
        f"{verb} entitlements",
        action=action,
        verb=verb,
        explanation=explanation,
        form=form,
        count=queryset.count(),
        viewers=viewers_affected(queryset),
        pks=[] if select_across else list(queryset.values_list("pk", flat=True)),
        select_across=select_across,
        first_pk=request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)[:1],
        action_checkbox_name=admin.helpers.ACTION_CHECKBOX_NAME,
    )


# --- Export ------------------------------------------------------------------------------------------


def export_csv(model_admin, request, filename, header, rows_of):
    """The list as the admin shows it (filters, search, date drill-down, ordering), as CSV."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    try:
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        messages.error(request, "That filter is not valid; export the list from its page.")
        return redirect(changelist_url(model_admin))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return exports.csv_response(f"{filename}-{stamp}.csv", header, rows_of(changelist.queryset))


# --- Activity -------------------------------------------------------------------------------------------


def channel_activity(model_admin, request, pk):
    channel = get_object_or_404(Channel, pk=pk)
    if not model_admin.has_view_permission(request, channel):
        raise PermissionDenied
    return render(
        model_admin,
        request,
        "admin/viewers/channel/activity.html",
        f"Activity: {channel.name}",
        channel=channel,
        original=channel,
        **activity.channel_activity(channel),
    )


# --- IVS channel sync ----------------------------------------------------------------------------------


def ivs_sync(model_admin, request):
    if not (model_admin.has_add_permission(request) and model_admin.has_change_permission(request)):
        raise PermissionDenied
    if not aws.aws_configured():
        return render(
            model_admin, request, "admin/viewers/channel/ivs_sync.html", "Sync channels from IVS", configured=False
        )
    apply = request.method == "POST" and "apply" in request.POST
    try:
        report = channel_sync.sync_channels(apply=apply)
    except channel_sync.SyncError as exc:
        messages.error(request, str(exc))
        return redirect(changelist_url(model_admin))
    if apply:
        messages.success(request, f"Synced from IVS: {channel_sync.summary(report)}.")
        return redirect(changelist_url(model_admin))
    return render(
        model_admin,
        request,
        "admin/viewers/channel/ivs_sync.html",
        "Sync channels from IVS",
        configured=True,
        region=", ".join(keyregions.ivs_regions()),
        report=report,
        summary=channel_sync.summary(report),
        changes=any(change.action in ("created", "updated") for change in report),
    )


# --- Key rotation --------------------------------------------------------------------------------------


class GenerateKeyForm(forms.Form):
    name = forms.RegexField(
        regex=r"^[A-Za-z0-9_-]{1,128}$",
        max_length=128,
        help_text="The key pair's name in IVS and here: letters, digits, - and _.",
        error_messages={"invalid": "Use letters, digits, - and _ only (IVS's rule for key names)."},
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
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = GenerateKeyForm(request.POST or None, initial={"name": keyrotation.default_name()})
    if not aws.aws_configured():
        form.fields.pop("import_into_ivs")
    if request.method == "POST" and form.is_valid():
        try:
            private, key = keyrotation.generate(form.cleaned_data["name"])
        except keyrotation.RotationError as exc:
            form.add_error("name", str(exc))
        else:
            import_error = ""
            if form.cleaned_data.get("import_into_ivs"):
                try:
                    keyrotation.import_into_ivs(key)
                except keyrotation.RotationError as exc:
                    import_error = str(exc)
            response = render(
                model_admin,
                request,
                "admin/viewers/playbackkey/generated.html",
                f"New key pair {key.name}",
                key=key,
                # Shown once, in this response only: it is never stored, and the page is not cached.
                private_pem=tokens.private_key_pem(private).decode(),
                import_command=keyrotation.import_command(key),
                import_error=import_error,
                imported=list(key.regions.all()),
                missing_regions=keyregions.regions_missing(key),
            )
            response["Cache-Control"] = "private, no-store"
            return response
    return render(
        model_admin,
        request,
        "admin/viewers/playbackkey/generate.html",
        "Generate a new playback key pair",
        form=form,
        active_keys=PlaybackKey.objects.filter(is_active=True).count(),
        limit=keyrotation.IVS_KEY_LIMIT,
    )


KEY_STEPS = {
    "import": ("Import into IVS", "Import the public key of {name} into IVS with ImportPlaybackKeyPair in {regions}?"),
    "make_signing": ("Make signing key", "Record {name} as the key the site signs with?"),
    "retire": ("Delete", "Delete {name} from IVS and from the site? Tokens it signed are no longer accepted."),
}


def key_step(model_admin, request, pk, step):
    key = get_object_or_404(PlaybackKey, pk=pk)
    if step not in KEY_STEPS:
        raise Http404
    if not model_admin.has_change_permission(request, key):
        raise PermissionDenied
    if step == "retire":
        if not request.user.has_perm("viewers.delete_playbackkey"):
            raise PermissionDenied
        if not keyrotation.can_delete(key):
            when = keyrotation.deletable_at(key)
            reason = (
                "it is the signing key"
                if when is None
                else f"tokens it signed may still be in use until {timezone.localtime(when):%Y-%m-%d %H:%M:%S}"
            )
            messages.error(request, f"{key.name} cannot be deleted yet: {reason}.")
            return redirect("admin:viewers_playbackkey_change", key.pk)
    label, question = KEY_STEPS[step]
    missing = keyregions.regions_missing(key)
    if request.method == "POST":
        try:
            if step == "import":
                regions = keyrotation.import_into_ivs(key)
                messages.success(request, f"Imported {key.name} into {', '.join(regions)}.")
            elif step == "make_signing":
                keyrotation.make_signing(key)
                messages.success(request, f"{key.name} is now the signing key.")
            else:
                messages.success(request, keyrotation.retire(key))
                return redirect("admin:viewers_playbackkey_changelist")
        except keyrotation.RotationError as exc:
            messages.error(request, str(exc))
        return redirect("admin:viewers_playbackkey_change", key.pk)
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
        import_command=keyrotation.import_command(key, regions=missing),
        delete_command=keyrotation.delete_command(key),
        configured_matches=keyrotation.configured_fingerprint() == key.fingerprint,
    )
