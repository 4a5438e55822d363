"""Channels in the admin: the list and form, a channel's activity page, and the sync from IVS."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.db import models
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from viewers import revocation, wording
from viewers.admin import live
from viewers.admin.base import OpsMedia, admin_view, changelist_url, render
from viewers.admin.warnings import OpsWarnings
from viewers.ivs import aws, channel_sync, key_regions
from viewers.models import Channel
from viewers.operators import activity

SYNC_TEMPLATE = "admin/viewers/channel/ivs_sync.html"


def channel_activity(model_admin, request, pk):
    channel = get_object_or_404(Channel, pk=pk)
    return render(
        model_admin,
        request,
        "admin/viewers/channel/activity.html",
        f"Activity: {channel.name}",
        channel=channel,
        original=channel,
        **activity.channel_activity(channel),
    )


def ivs_sync(model_admin, request):
    """What a sync from IVS would change (GET), or the sync itself (POST "apply")."""
    if not aws.aws_configured():
        return render(model_admin, request, SYNC_TEMPLATE, "Sync channels from IVS", configured=False)
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
        SYNC_TEMPLATE,
        "Sync channels from IVS",
        configured=True,
        region=", ".join(key_regions.ivs_regions()),
        report=report,
        summary=channel_sync.summary(report),
        changes=any(change.action in ("created", "updated") for change in report),
    )


def _with_watching(response, channels):
    """A delete confirmation that says who is watching: deleting a channel stops their streams."""
    if isinstance(response, TemplateResponse):
        response.context_data.update(
            watching=revocation.watching(channels), session_hours=settings.IVS_SESSION_MAX_HOURS
        )
    return response


class CountryPicker(FilteredSelectMultiple):
    """Django's two-pane picker in a box of its own. Its script puts the panes first in the select's parent: on a
    relation that is the admin's widget wrapper, but a country list has none, so without this box the panes went
    before the field's label."""

    def render(self, name, value, attrs=None, renderer=None):
        return format_html('<div class="ops-picker">{}</div>', super().render(name, value, attrs, renderer))


LIVE = {"permission": "view", "also": ["viewers.view_tokenaudit"]}  # what a channel's live pages need
COUNTRY_RULES = "Country rules"
# Fields whose values are long (a full ARN, a playback URL): wide enough to read whole (static/css/admin-ops.css).
WIDE_FIELDS = ("arn", "playback_url")


@admin.register(Channel)
class ChannelAdmin(OpsWarnings, admin.ModelAdmin):
    # The live page's link next to the stream state, not past the long ARN where a narrow screen never scrolls.
    list_display = ("name", "slug", "access", "stream", "activity_link", "countries", "is_listed", "arn", "created_at")
    list_filter = ("is_private", "is_listed")
    search_fields = ("name", "slug", "arn")
    prepopulated_fields = {"slug": ("name",)}
    # A playback URL typed without a scheme is an https one (and Django 6 makes https the default anyway).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # Most channels have no country rules: the two country pickers stay folded away until asked for
    # (the admin opens a folded fieldset by itself when one of its fields has an error).
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "slug",
                    "arn",
                    "playback_url",
                    "is_private",
                    "is_listed",
                    "description",
                    "max_devices",
                )
            },
        ),
        (
            COUNTRY_RULES,
            {
                "classes": ("collapse",),
                "description": "Where viewers may watch from. With both lists empty, anywhere.",
                "fields": ("allowed_countries", "blocked_countries"),
            },
        ),
    )
    Media = OpsMedia

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not (obj.allowed_countries or obj.blocked_countries):
            return fieldsets
        # A channel with rules shows them: an operator should not have to unfold them to see they exist.
        return [
            (name, {**options, "classes": ()}) if name == COUNTRY_RULES else (name, options)
            for name, options in fieldsets
        ]

    @admin.display(description="access", ordering="is_private")
    def access(self, channel):
        return "Private (token)" if channel.is_private else "Public"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in ("allowed_countries", "blocked_countries"):
            # Two panes of country names with a filter box, not a 250-line list to ctrl-click through.
            kwargs["widget"] = CountryPicker(db_field.verbose_name, is_stacked=False)
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in WIDE_FIELDS and formfield is not None:
            formfield.widget.attrs["class"] = f"{formfield.widget.attrs.get('class', '')} ops-wide".strip()
        return formfield

    @admin.display(description="stream", ordering="stream_state")
    def stream(self, channel):
        """What the viewers' pages say (viewers/stream_state.py), with the viewer count, and IVS's last refusal."""
        state = channel.live_state()
        said = {"live": "Live", "offline": "Offline", None: "not known"}[state]
        if state == "live" and channel.stream_viewers is not None:
            said += f" · {wording.counted(channel.stream_viewers, 'viewer')}"
        if channel.stream_error:
            return format_html('{} <span class="ops-bad">(last read failed: {})</span>', said, channel.stream_error)
        return said

    @admin.display(description="countries")
    def countries(self, channel):
        allowed = ", ".join(c.code for c in channel.allowed_countries)
        blocked = ", ".join(c.code for c in channel.blocked_countries)
        return "; ".join(filter(None, [allowed and f"only {allowed}", blocked and f"not {blocked}"])) or "—"

    @admin.display(description="activity")
    def activity_link(self, channel):
        return format_html(
            '<a href="{}">live</a> · <a href="{}">last 48 h</a>',
            reverse("admin:viewers_channel_live", args=[channel.pk]),
            reverse("admin:viewers_channel_activity", args=[channel.pk]),
        )

    actions = ("delete_selected",)

    @admin.action(permissions=["delete"], description=delete_selected.short_description)
    def delete_selected(self, request, queryset):
        return _with_watching(delete_selected(self, request, queryset), queryset)

    def render_delete_form(self, request, context):
        return _with_watching(super().render_delete_form(request, context), [context["object"]])

    def save_model(self, request, obj, form, change):
        # Re-pointing or making a channel public ends the sessions its tokens opened (the reconciler, by the ARN
        # each session plays): say so, since the operator's viewers see their players reload.
        re_pointed = change and "arn" in form.changed_data
        made_public = change and "is_private" in form.changed_data and not obj.is_private
        watching = revocation.watching([obj]) if re_pointed or made_public else None
        super().save_model(request, obj, form, change)
        if watching and watching["viewers"]:
            count = watching["viewers"]
            then = "asks for a token for the new ARN" if re_pointed else "loads the channel's public stream"
            self.message_user(
                request,
                f"{count} viewer{pluralize(count)} watching {obj.name} played its old "
                f"{'ARN' if re_pointed else 'private stream'}: IVS is told to stop "
                f"{pluralize(count, 'that stream,those streams')}, and each player then {then}.",
                messages.WARNING,
            )

    def get_urls(self):
        return [
            path(
                "<int:pk>/activity/",
                admin_view(self, channel_activity, permission="view"),
                name="viewers_channel_activity",
            ),
            # Who watched, from where and on what is the token audit's data: its view permission too. Stopping a
            # viewer is a permission of its own (viewers.stop_session).
            path("<int:pk>/live/", admin_view(self, live.channel_live, **LIVE), name="viewers_channel_live"),
            path(
                "<int:pk>/live/now.json", admin_view(self, live.live_count, **LIVE), name="viewers_channel_live_count"
            ),
            path(
                "<int:pk>/live/attendance.csv",
                admin_view(self, live.attendance_csv, **LIVE),
                name="viewers_channel_attendance",
            ),
            path(
                "<int:pk>/live/stop/<int:user_pk>/",
                admin_view(self, live.stop_watching, permission="view", also=["viewers.stop_session"]),
                name="viewers_channel_stop_watching",
            ),
            path(
                "ivs-sync/", admin_view(self, ivs_sync, permission=("add", "change")), name="viewers_channel_ivs_sync"
            ),
            *super().get_urls(),
        ]
