"""Every custom admin page with a form lays it out as the admin's change form does (ops_form.html): fieldsets of
form rows with help text, a submit row, the widgets' scripts with the admin's translations; and dates inside
sentences read without a doubled full stop."""

from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone

FORM_PAGES = [
    "/admin/viewers/entitlement/group-grant/",
    "/admin/viewers/entitlement/import/",
    "/admin/viewers/playbackkey/generate/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", FORM_PAGES)
def test_the_form_is_laid_out_as_the_admins(admin_client, url):
    body = admin_client.get(url).content.decode()
    assert '<fieldset class="module aligned' in body and 'class="form-row' in body
    assert '<div class="submit-row"><input type="submit"' in body
    assert "admin/css/forms.css" in body and '<script src="/admin/jsi18n/">' in body
    assert "<p>" not in body.split("<fieldset", 1)[1].split("</fieldset>", 1)[0]  # not form.as_p


@pytest.mark.django_db
def test_an_invalid_form_shows_the_admins_error_note(admin_client):
    response = admin_client.post("/admin/viewers/playbackkey/generate/", {"name": "not a valid name!"})
    body = response.content.decode()
    assert response.status_code == 200 and '<p class="errornote">' in body and "form-row errors" in body


def in_sentence(value) -> str:
    return Template("{% load admin_pages %}{{ value|in_sentence }}").render(Context({"value": value}))


def test_in_sentence_ends_in_the_time_zone_not_in_a_full_stop(settings):
    settings.TIME_ZONE = "UTC"
    afternoon = datetime(2026, 12, 3, 13, 25, tzinfo=timezone.get_current_timezone())
    assert in_sentence(afternoon) == "3 Dec 2026, 13:25 UTC"
    assert in_sentence(None) == ""


def test_in_sentence_shows_the_current_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    assert in_sentence(datetime(2026, 12, 3, 18, 25, tzinfo=UTC)) == "3 Dec 2026, 13:25 EST"
