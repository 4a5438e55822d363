"""Entitlements in the admin: the list (with a status filter) and form, the bulk actions (revoke, end now,
extend; entitlement_bulk.py), granting channels to a group, and the CSV export. Every write goes through
viewers.services."""

from django.contrib import admin, messages
from django.db import models
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import ngettext

from viewers import access, services, validators
from viewers.admin.base import BoundedDateChangeList, OpsMedia, admin_view, changelist_url, export_path, render
from viewers.admin.entitlement_bulk import bulk_action
from viewers.admin.entitlement_forms import GroupGrantForm
from viewers.admin.imports import import_preview, import_upload, with_upload_cap
from viewers.models import ENTITLEMENT_STATES, Entitlement
from viewers.operators import exports


class StatusFilter(admin.SimpleListFilter):
    """The status column's states (access.entitlement_state), each selected by its QuerySet rule (in_state)."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(state, state.capitalize()) for state in ENTITLEMENT_STATES]

    def queryset(self, request, queryset):
        if self.value() in ENTITLEMENT_STATES:
            return queryset.in_state(self.value(), timezone.now())
        return queryset


def group_grant(model_admin, request):
    """The form (GET, or POST "edit" from the confirmation to change it), a confirmation with the group's size
    (POST), then the grant (POST "confirm")."""
    form = GroupGrantForm(request.POST or None)
    if not (request.method == "POST" and form.is_valid()) or "edit" in request.POST:
        title = "Grant channels to a group"
        return render(model_admin, request, "admin/viewers/entitlement/group_grant.html", title, form=form)
    data = form.cleaned_data
    if "confirm" not in request.POST:
        return render(
            model_admin,
            request,
            "admin/viewers/entitlement/group_grant_confirm.html",
            "Confirm the group grant",
            confirmed=form,  # not `form`: the page carries its fields hidden, with no widgets to load
            data=data,
            members=data["group"].user_set.count(),
            active_members=data["group"].user_set.filter(is_active=True).count(),
        )
    fields = ("starts_at", "ends_at", "max_resolution", "note")
    created = services.group_grant(
        group=data["group"],
        channels=list(data["channels"]),
        granted_by=request.user,
        **{name: data[name] for name in fields},
    )
    message = ngettext(
        "Granted %(count)d channel to the group %(group)s.",
        "Granted %(count)d channels to the group %(group)s.",
        len(created),
    )
    messages.success(request, message % {"count": len(created), "group": data["group"].name})
    return redirect(changelist_url(model_admin, f"?group__id__exact={data['group'].pk}"))


@admin.register(Entitlement)
class EntitlementAdmin(admin.ModelAdmin):
    list_display = ("holder_display", "channel", "starts_at", "ends_at", "max_resolution", "status", "note")
    list_filter = (StatusFilter, "channel", "group", "max_resolution")
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

    # The forms and deletes write through viewers.services like every other entitlement write.
    def save_model(self, request, obj, form, change):
        if change:
            services.entitlement_update(entitlement=obj, fields=form.changed_data)
        else:
            services.entitlement_add(entitlement=obj, granted_by=request.user)

    def delete_model(self, request, obj):
        services.entitlements_delete(entitlements=Entitlement.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        services.entitlements_delete(entitlements=queryset)

    @admin.action(description="Revoke selected entitlements…", permissions=["change"])
    def revoke(self, request, queryset):
        return bulk_action(self, request, queryset, "revoke")

    @admin.action(description="End selected entitlements now…", permissions=["change"])
    def end_now(self, request, queryset):
        return bulk_action(self, request, queryset, "end_now")

    @admin.action(description="Extend selected entitlements…", permissions=["change"])
    def extend(self, request, queryset):
        return bulk_action(self, request, queryset, "extend")

    def get_urls(self):
        return [
            path(
                "import/",
                with_upload_cap(admin_view(self, import_upload, permission="add")),
                name="viewers_entitlement_import",
            ),
            path(
                "import/<int:pk>/",
                admin_view(self, import_preview, permission="add"),
                name="viewers_entitlement_import_preview",
            ),
            path(
                "group-grant/", admin_view(self, group_grant, permission="add"), name="viewers_entitlement_group_grant"
            ),
            export_path(
                self, filename="entitlements", header=exports.ENTITLEMENT_HEADER, rows_of=exports.entitlement_rows
            ),
            *super().get_urls(),
        ]
