"""What the admin modules share: the operations pages' stylesheet, rendering them inside the admin, the list's
URL, a change list that refuses out-of-range dates, and CSV export of a list as the admin shows it."""

from functools import partial, wraps

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from viewers.operators import exports


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record no one edits from the admin (token audit, Stripe events): viewing needs only the view permission."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def admin_view(model_admin, view, *, permission, also=(), **bound):
    """`view(model_admin, request, …)` as an admin URL's view: behind admin login, CSRF and no caching, and only
    for staff holding `permission` on the model admin's model: "view", "add", "change", "delete", or a tuple of
    them, all needed, and the permissions named in `also` ("viewers.view_tokenaudit"). Every custom admin page says
    here what it needs; checks that depend on the request's data (an import that creates users, deleting a key)
    stay in the view."""
    needed = (permission,) if isinstance(permission, str) else tuple(permission)
    call = partial(view, model_admin, **bound)

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not all(getattr(model_admin, f"has_{name}_permission")(request) for name in needed):
            raise PermissionDenied
        if not request.user.has_perms(also):
            raise PermissionDenied
        return call(request, *args, **kwargs)

    return model_admin.admin_site.admin_view(guarded)


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


def changelist_url(model_admin, query=""):
    opts = model_admin.model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + query


def export_path(model_admin, *, filename, header, rows_of):
    """The list's "export.csv" URL (admin:<app>_<model>_export), for staff who may view the list."""
    opts = model_admin.model._meta
    view = admin_view(model_admin, export_csv, permission="view", filename=filename, header=header, rows_of=rows_of)
    return path("export.csv", view, name=f"{opts.app_label}_{opts.model_name}_export")


def export_csv(model_admin, request, *, filename, header, rows_of):
    """The list as the admin shows it (filters, search, date drill-down, ordering), as CSV."""
    try:
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        messages.error(request, "That filter is not valid; export the list from its page.")
        return redirect(changelist_url(model_admin))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return exports.csv_response(f"{filename}-{stamp}.csv", header, rows_of(changelist.queryset))
