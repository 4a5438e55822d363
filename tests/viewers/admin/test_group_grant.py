"""Granting channels to a group: the form with the admin's widgets, a confirmation that counts the viewers in
words and dates its window without a doubled full stop, then the grant."""

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from tests.visible_text import visible_text
from viewers.models import Entitlement, User

GROUP_GRANT = "/admin/viewers/entitlement/group-grant/"


def text(response) -> str:
    return " ".join(visible_text(response.content.decode()).split())


def messages_of(response):
    return [str(m) for m in response.wsgi_request._messages]


def split(moment: datetime, name: str) -> dict:
    """A moment as the admin's split date and time widget posts it."""
    local = timezone.localtime(moment)
    return {f"{name}_0": local.strftime("%Y-%m-%d"), f"{name}_1": local.strftime("%H:%M")}


@pytest.fixture
def grant(subscribers, hidden_channel):
    return {"group": subscribers.pk, "channels": [hidden_channel.pk], "max_resolution": "HD"}


@pytest.mark.django_db
class TestGroupGrant:
    def test_it_previews_with_the_number_of_viewers_then_grants(self, admin_client, bob, grant, hidden_channel):
        subscribers = Group.objects.get(name="subscribers")
        User.objects.create_user("zed", is_active=False).groups.add(subscribers)
        data = {**grant, **split(timezone.now() + timedelta(days=7), "ends_at")}
        preview = text(admin_client.post(GROUP_GRANT, data))
        assert (
            "This gives 1 viewer (the active members of subscribers; 2 members in all) access to Backstage" in preview
        )
        assert not Entitlement.objects.filter(channel=hidden_channel).exists()
        done = admin_client.post(GROUP_GRANT, {**data, "confirm": "1"})
        assert done.status_code == 302
        assert messages_of(done) == ["Granted 1 channel to the group subscribers."]
        granted = Entitlement.objects.get(channel=hidden_channel)
        assert (granted.group, granted.max_resolution, granted.ends_at is not None) == (subscribers, "HD", True)

    def test_the_confirmation_dates_the_window_with_one_full_stop(self, admin_client, grant, settings):
        settings.TIME_ZONE = "UTC"
        ends = datetime(2099, 12, 3, 13, 25, tzinfo=timezone.get_current_timezone())
        preview = text(admin_client.post(GROUP_GRANT, {**grant, **split(ends, "ends_at")}))
        assert "from now until 3 Dec 2099, 13:25 UTC, up to HD." in preview
        assert ".." not in preview and "p.m." not in preview

    def test_the_window_shows_in_the_sites_time_zone(self, admin_client, grant, settings):
        settings.TIME_ZONE = "Europe/Paris"
        starts = datetime(2099, 1, 5, 9, 0, tzinfo=timezone.get_current_timezone())
        preview = text(admin_client.post(GROUP_GRANT, {**grant, **split(starts, "starts_at")}))
        assert "from 5 Jan 2099, 09:00 CET, with no end, up to HD." in preview

    def test_change_something_goes_back_to_the_filled_in_form(self, admin_client, grant):
        response = admin_client.post(GROUP_GRANT, {**grant, "note": "spring tour", "edit": "1"})
        body = response.content.decode()
        assert 'value="spring tour"' in body and 'value="Preview"' in body
        assert Entitlement.objects.count() == 1

    def test_a_window_that_ends_before_it_starts_is_shown_at_its_field(self, admin_client, grant):
        now = timezone.now()
        data = {**grant, **split(now + timedelta(days=2), "starts_at"), **split(now + timedelta(days=1), "ends_at")}
        response = admin_client.post(GROUP_GRANT, {**data, "confirm": "1"})
        body = response.content.decode()
        assert response.status_code == 200 and 'class="errornote"' in body
        assert "The end must be after the start." in body and "form-row errors field-ends_at" in body
        assert Entitlement.objects.count() == 1

    def test_a_date_without_a_time_is_a_clear_error(self, admin_client, grant):
        response = admin_client.post(GROUP_GRANT, {**grant, "ends_at_0": "2099-01-01", "ends_at_1": ""})
        assert response.status_code == 200 and "Enter a valid time." in response.content.decode()

    def test_an_impossible_date_is_a_clear_error(self, admin_client, grant):
        response = admin_client.post(GROUP_GRANT, {**grant, "ends_at_0": "2099-02-30", "ends_at_1": "13:25"})
        assert response.status_code == 200 and "Enter a valid date." in response.content.decode()

    def test_the_form_uses_the_admins_widgets(self, admin_client, grant):
        body = admin_client.get(GROUP_GRANT).content.decode()
        assert 'type="datetime-local"' not in body
        assert 'name="starts_at_0"' in body and 'class="vDateField"' in body
        assert 'class="selectfilter"' in body and "admin/js/SelectFilter2.js" in body
        assert "admin-autocomplete" in body and "admin/js/autocomplete.js" in body
