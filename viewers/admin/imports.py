"""The CSV import in the admin: upload (size-capped before the body is read), preview, confirm; and the list of
past imports. Reading, checking and writing the rows is viewers.operators.csv_import'."""

import time

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_exempt

from viewers.admin.base import render
from viewers.models import EntitlementImport, User
from viewers.operators import csv_import, emails
from viewers.wording import counted

PREVIEW_TEMPLATE = "admin/viewers/entitlement/import_preview.html"
# How much of each group the preview lists: enough to see what is wrong; a file with more is wrong throughout.
NEW_PER_PAGE = 50
ERRORS_SHOWN = 100
ADDRESSES_SHOWN = 50
LINES_SHOWN = 50


class CappedUploadHandler(FileUploadHandler):
    """Stops reading an upload once it passes the import limit, before it reaches memory or disk.

    The rest of the request body is read and thrown away (so the connection stays usable), and the view
    reports the size. Form fields sent before the file, the CSRF token among them, are kept."""

    def __init__(self, request=None, limit=csv_import.MAX_FILE_BYTES):
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


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file", help_text=f"UTF-8, at most {csv_import.MAX_FILE_BYTES // 1024 // 1024} MB."
    )
    create_users = forms.BooleanField(
        label="Invite missing users",
        required=False,
        help_text="Create an inactive account for each unknown email, activated when its owner sets a password "
        "through a password-set link. Without it, every email must belong to an existing user.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            self.cleaned_data["text"] = csv_import.decode(upload.read(csv_import.MAX_FILE_BYTES + 1))
            csv_import.read_rows(self.cleaned_data["text"])
        except csv_import.ImportFileError as exc:
            raise forms.ValidationError(str(exc)) from None
        return upload


def import_upload(model_admin, request):
    """The upload form; a readable file is staged and the preview follows."""
    form = ImportForm(request.POST or None, request.FILES or None)
    if getattr(request, "upload_too_large", False):
        # The capped handler stopped reading, so the file field is empty: say why rather than "required".
        form = ImportForm(initial={"create_users": request.POST.get("create_users") == "on"})
        messages.error(request, csv_import.too_large() + " Nothing was imported.")
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
    title = "Import entitlements from CSV"
    context = {
        "form": form,
        "columns": csv_import.COLUMNS,
        "date_help": csv_import.date_help(),
        "resolution_choices": csv_import.RESOLUTION_CHOICES,
        "recent": recent,
    }
    return render(model_admin, request, "admin/viewers/entitlement/import.html", title, **context)


def import_preview(model_admin, request, pk):
    """A staged file: its preview (GET), its import (POST "confirm"), or the record of what it did."""
    staged = get_object_or_404(EntitlementImport, pk=pk)
    # Whoever staged it, the one who confirms creates the users: they need the permission to.
    if staged.create_users and not request.user.has_perm("viewers.add_user"):
        raise PermissionDenied
    if staged.applied_at:
        return render(model_admin, request, PREVIEW_TEMPLATE, f"Import of {staged.filename}", staged=staged, done=True)
    if request.method == "POST" and "confirm" in request.POST:
        return _run_import(request, staged)
    return _preview(model_admin, request, staged)


def _preview(model_admin, request, staged):
    """The rows in groups: errors to fix in the file, then users that do not exist, rows already granted, and the
    new rows a page at a time (?page=N; get_page() reads garbage as page 1 and past the end as the last page).
    No timing is shown: how long the check took says nothing about the file."""
    try:
        plan = csv_import.plan_import(staged.content, create_users=staged.create_users)
    except csv_import.ImportFileError as exc:
        messages.error(request, str(exc))
        return redirect("admin:viewers_entitlement_import")
    new = Paginator(plan.new, NEW_PER_PAGE).get_page(request.GET.get("page"))
    missing = plan.missing_emails
    return render(
        model_admin,
        request,
        PREVIEW_TEMPLATE,
        f"Preview of {staged.filename}",
        staged=staged,
        counts=plan.counts(),
        failing=plan.failing[:ERRORS_SHOWN],
        date_help=csv_import.date_help() if plan.has_bad_dates else "",
        missing_emails=missing[:ADDRESSES_SHOWN],
        missing_count=len(missing),
        more_missing=max(len(missing) - ADDRESSES_SHOWN, 0),
        unchanged_lines=[row.line for row in plan.unchanged[:LINES_SHOWN]],
        new=new,
        pages=new.paginator.get_elided_page_range(new.number, on_each_side=2, on_ends=1),
    )


def _run_import(request, staged):
    started = time.monotonic()
    try:
        result = csv_import.import_entitlements(
            staged.content, create_users=staged.create_users, granted_by=request.user
        )
    except csv_import.ImportRefused:
        messages.error(request, "The data changed since the preview and some rows now have errors; see below.")
        return redirect("admin:viewers_entitlement_import_preview", staged.pk)
    except csv_import.ImportFileError as exc:  # the stored file was checked on upload; kept for safety
        messages.error(request, str(exc))
        return redirect("admin:viewers_entitlement_import")
    invited = result.pop("invited_user_ids")
    staged.applied_at = timezone.now()
    staged.summary = {**result, "seconds": round(time.monotonic() - started, 1)}
    staged.content = ""  # the file has done its job; the emails in it now live in the user table
    staged.save(update_fields=["applied_at", "summary", "content"])
    messages.success(
        request,
        f"Imported {counted(result['new'], 'new entitlement')}; {counted(result['unchanged'], 'row')} already "
        f"granted, left alone; {counted(len(invited), 'user')} invited.",
    )
    _invite(request, invited)
    return redirect("admin:viewers_entitlement_import_preview", staged.pk)


def _invite(request, invited: list[int]) -> None:
    if invited and request.POST.get("email_invitations"):
        sent, failed = emails.send_invitations(User.objects.filter(pk__in=invited).order_by("email"), emails.site_url())
        messages.info(request, emails.invitations_report(sent, failed))
    elif invited:
        messages.info(request, "Send the invited users their password-set links: Invitations → select → download.")


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
