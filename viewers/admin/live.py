"""A channel's live page in the admin: who is watching now (a count that updates itself), whose login looks shared,
attendance over a date range with its CSV, and "stop watching" for one viewer. The numbers come from the players'
heartbeats as the worker folded them (viewers/attendance/); nothing here calls IVS."""

from datetime import date, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone

from viewers import revocation, services, wording
from viewers.admin.base import render
from viewers.attendance import fold, live
from viewers.models import Channel, Entitlement, TokenAudit, User
from viewers.operators import exports

MAX_RANGE_DAYS = 366
EARLIEST = date(2000, 1, 1)  # before any heartbeat; and the day after 9999-12-31 is not a date


class RangeForm(forms.Form):
    """The attendance's date range, both days included, in the site's time zone; the last 7 days by default."""

    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="to", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["until"] = data.get("until") or today
        data["since"] = data.get("since") or data["until"] - timedelta(days=6)
        if not (data["since"] >= EARLIEST and data["until"] <= today + timedelta(days=MAX_RANGE_DAYS)):
            raise forms.ValidationError(f"Choose days between {EARLIEST:%Y} and next year.")
        if data["since"] > data["until"]:
            raise forms.ValidationError("The first day is after the last.")
        if (data["until"] - data["since"]).days >= MAX_RANGE_DAYS:
            raise forms.ValidationError(f"Choose at most {MAX_RANGE_DAYS} days.")
        return data


def _duration(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds >= 120 and seconds % 60 == 0 else f"{seconds} s"


def _watching_said(count) -> str:
    if not count["sessions"]:
        return "Nobody is watching now."
    said = f"{wording.counted(count['viewers'], 'viewer')} watching now"
    if count["sessions"] != count["viewers"]:
        said += f" ({wording.counted(count['sessions'], 'session')})"
    return said + "."


def _range(request):
    """The date range asked for, or the default one with the form's errors to show."""
    form = RangeForm(request.GET)
    if form.is_valid():
        data = form.cleaned_data
        return data, RangeForm(initial={"since": data["since"], "until": data["until"]})
    fallback = RangeForm({})
    fallback.is_valid()
    return fallback.cleaned_data, form


def channel_live(model_admin, request, pk):
    channel = get_object_or_404(Channel, pk=pk)
    now = timezone.now()
    data, form = _range(request)
    view = live.live_view(channel, now)
    start, end = live.day_range(data["since"], data["until"])
    attendance = live.attendance_page(channel, start, end, page=data.get("page") or 1)
    return render(
        model_admin,
        request,
        "admin/viewers/channel/live.html",
        f"Live: {channel.name}",
        channel=channel,
        original=channel,
        range_form=form,
        since=data["since"],
        until=data["until"],
        watching_said=_watching_said(view["count"]),
        view=view,
        attendance=attendance,
        heartbeat_seconds=settings.IVS_HEARTBEAT_SECONDS,
        window=_duration(2 * settings.IVS_HEARTBEAT_SECONDS),
        poll_seconds=fold.fold_period(),
        can_stop=request.user.has_perm("viewers.stop_session"),
    )


def live_count(model_admin, request, pk):
    """The live page's count, for its polling script (static/js/admin-live.js): JSON, no page."""
    channel = get_object_or_404(Channel, pk=pk)
    count = live.watching_count(channel, timezone.now())
    return JsonResponse({**count, "said": _watching_said(count)})


def attendance_csv(model_admin, request, pk):
    channel = get_object_or_404(Channel, pk=pk)
    form = RangeForm(request.GET)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("__all__", ["That date range is not valid."])))
        return redirect(reverse("admin:viewers_channel_live", args=[channel.pk]))
    since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    rows = live.attendance_rows(channel, *live.day_range(since, until))
    filename = f"attendance-{channel.slug}-{since:%Y%m%d}-{until:%Y%m%d}.csv"
    return exports.csv_response(filename, live.ATTENDANCE_HEADER, rows)


def stop_watching(model_admin, request, pk, user_pk):
    """Confirm (GET), then stop (POST): one viewer's sessions on this channel end now, and IVS is told at once
    (the worker delivers the revocation). Optionally their own entitlements to the channel end too."""
    channel = get_object_or_404(Channel, pk=pk)
    viewer = get_object_or_404(User, pk=user_pk)
    may_end = request.user.has_perm("viewers.change_entitlement")
    own = Entitlement.objects.filter(user=viewer, channel=channel)
    live_page = reverse("admin:viewers_channel_live", args=[channel.pk])
    if request.method == "POST":
        stopped = revocation.stop_watching(user=viewer, channel=channel)
        ended = 0
        if may_end and request.POST.get("end_entitlement") == "1":
            ended = services.entitlements_end_now(entitlements=own)
        said = f"Stopped {viewer.username} on {channel.name}: " + (
            "IVS is told to end their stream now." if stopped else "they had no open session."
        )
        if ended:
            said += f" {wording.counted(ended, 'entitlement')} ended: they cannot start again."
        messages.success(request, said)
        from_user_page = request.POST.get("next") == "user"
        return redirect(reverse("admin:viewers_user_change", args=[viewer.pk]) if from_user_page else live_page)
    return render(
        model_admin,
        request,
        "admin/viewers/channel/stop_watching.html",
        f"Stop {viewer.username} watching {channel.name}",
        channel=channel,
        original=channel,
        viewer=viewer,
        open_sessions=TokenAudit.objects.open().filter(user=viewer, channel=channel).count(),
        own_in_force=own.current().count() if may_end else 0,
        through_groups=Entitlement.objects.current()
        .filter(channel=channel, group__user=viewer)
        .select_related("group"),
        may_end=may_end,
        next=request.GET.get("next", ""),
        live_page=live_page,
    )
