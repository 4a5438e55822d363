"""Dates outside what Python (and every page that reads a row back) can hold are input errors that say
what is wrong, wherever a date comes in: the CSV import (CLI and admin), the group grant, the extend action and the
entitlement form. Nothing out of range is ever stored."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from viewers.models import Entitlement
from viewers.operators import csv_import

pytestmark = pytest.mark.django_db

HEADER = "email,channel,starts_at,ends_at,max_resolution,note\n"
TOO_LATE = "9999-12-31T23:59:00-05:00"  # year 10000 in UTC
TOO_EARLY = "0001-01-01T00:00+01:00"  # year 0 in UTC
EXTREMES = [(TOO_EARLY, ""), ("", TOO_LATE), ("", "9999-12-31T23:59"), ("0001-01-01", "")]


@pytest.mark.parametrize("starts_at, ends_at", EXTREMES)
def test_the_importer_reports_a_row_error(carol, private_channel, starts_at, ends_at):
    plan = csv_import.plan_import(
        HEADER + f"carol@example.com,main-event,{starts_at},{ends_at},,\n", create_users=False
    )
    (row,) = plan.errors
    assert any("out of range" in str(error) for error in row.errors)


def test_the_command_exits_with_a_message_not_a_traceback(carol, private_channel, tmp_path):
    path = tmp_path / "grants.csv"
    path.write_text(HEADER + f"carol@example.com,main-event,,{TOO_LATE},,\n")
    with pytest.raises(CommandError):
        call_command("import_entitlements", str(path), "--no-progress", stdout=None)
    assert not Entitlement.objects.filter(user__username="carol").exists()


def test_the_admin_preview_lists_the_row_error(admin_client, carol, private_channel):
    content = (HEADER + f"carol@example.com,main-event,{TOO_EARLY},,,\n").encode()
    response = admin_client.post(
        "/admin/viewers/entitlement/import/", {"file": SimpleUploadedFile("g.csv", content, "text/csv")}, follow=True
    )
    assert response.status_code == 200
    assert "out of range" in response.content.decode()


# The admin's split date and time fields take no offset: the site's time zone carries the date out of range.
SPLIT_EXTREMES = [("starts_at", "Asia/Tokyo", "0001-01-01"), ("ends_at", "America/New_York", "9999-12-31")]


@pytest.mark.parametrize("field, zone, date", SPLIT_EXTREMES)
def test_the_group_grant_form_refuses_it(admin_client, settings, subscribers, private_channel, field, zone, date):
    settings.TIME_ZONE = zone
    form = {"group": subscribers.pk, "channels": [private_channel.pk], f"{field}_0": date, f"{field}_1": "23:59"}
    response = admin_client.post("/admin/viewers/entitlement/group-grant/", form)
    assert response.status_code == 200
    assert "out of range" in str(response.context["form"].errors[field])


def test_the_extend_action_refuses_it(admin_client, settings, alice):
    settings.TIME_ZONE = "America/New_York"
    entitlement = alice.entitlements.get()
    response = admin_client.post(
        "/admin/viewers/entitlement/",
        {
            "action": "extend",
            "apply": "1",
            "until_0": "9999-12-31",
            "until_1": "23:59",
            ACTION_CHECKBOX_NAME: [entitlement.pk],
        },
    )
    assert response.status_code == 200
    assert "out of range" in response.content.decode()
    entitlement.refresh_from_db()
    assert entitlement.ends_at is None


def test_the_entitlement_form_refuses_it_in_a_time_zone_west_of_utc(admin_client, settings, carol, private_channel):
    settings.TIME_ZONE = "America/New_York"
    form = {
        "user": carol.pk,
        "channel": private_channel.pk,
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "9999-12-31",
        "ends_at_1": "23:59:00",
        "max_resolution": "",
        "note": "",
    }
    response = admin_client.post("/admin/viewers/entitlement/add/", form)
    assert response.status_code == 200
    assert "out of range" in str(response.context["adminform"].form.errors["ends_at"])
    assert not Entitlement.objects.filter(user=carol).exists()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/viewers/tokenaudit/?issued_at__year=9999&issued_at__month=12&issued_at__day=31",
        "/admin/viewers/tokenaudit/?issued_at__year=9999&issued_at__month=12",
        "/admin/viewers/tokenaudit/?issued_at__year=9999",
        "/admin/viewers/entitlement/?created_at__year=9999",
        "/admin/viewers/tokenaudit/export.csv?issued_at__year=9999&issued_at__month=12&issued_at__day=31",
        "/admin/viewers/entitlement/export.csv?created_at__year=9999",
    ],
)
def test_the_date_drill_down_at_the_end_of_time_is_not_a_500(admin_client, url):
    """Like the dates above: Django's date hierarchy computed the next year, month or day past 9999."""
    response = admin_client.get(url)
    assert response.status_code == 302  # back to the list (or its page), saying the filter is not valid
