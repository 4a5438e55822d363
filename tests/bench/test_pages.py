"""The benchmark-only pages (bench/pages/) exist only under the bench's settings, and stay honest about access."""

import json
import re

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.urls import Resolver404, resolve

from bench.pages import views as bench_views
from viewers.models import TokenAudit

pytestmark = pytest.mark.django_db


def test_they_are_not_mounted_by_default():
    with pytest.raises(Resolver404):
        resolve("/bench/baseline/")


@pytest.fixture(autouse=True)
def bench_settings(request, settings):
    """What bench/settings.py adds to the site's settings, for every test here but the first."""
    if request.node.name != "test_they_are_not_mounted_by_default":
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "bench.pages"]
        settings.ROOT_URLCONF = "bench.pages.urls"


def test_the_bench_settings_mount_them():
    assert resolve("/bench/baseline/").func == bench_views.baseline
    assert resolve("/channels/main-event/").url_name == "channel"


def request_as(rf, user, path="/"):
    request = rf.get(path)
    SessionMiddleware(lambda r: None).process_request(request)
    request.user = user
    return request


def test_the_fetched_page_embeds_no_token_and_mints_none(rf, alice):
    response = bench_views.fetched(request_as(rf, alice), slug="main-event")
    assert response.status_code == 200
    config = json.loads(re.search(rb'id="player-config" type="application/json">(.*?)</script>', response.content)[1])
    assert config["playbackUrl"] is None and config["refreshUrl"] == "/channels/main-event/playback"
    assert not TokenAudit.objects.exists()


def test_the_fetched_page_still_applies_the_access_rule(rf, carol, private_channel):
    assert bench_views.fetched(request_as(rf, carol), slug="main-event").status_code == 403


def test_the_baseline_page_renders_the_base_template(rf, alice):
    assert b"The benchmark's baseline page." in bench_views.baseline(request_as(rf, alice)).content


def test_the_before_page_embeds_a_token_and_audits_it(rf, alice):
    response = bench_views.before(request_as(rf, alice), slug="main-event")
    assert response.status_code == 200
    config = json.loads(re.search(rb'id="player-config" type="application/json">(.*?)</script>', response.content)[1])
    assert "?token=" in config["playbackUrl"]
    assert TokenAudit.objects.count() == 1
    assert b"bench/player-before.js" in response.content


def test_the_before_page_still_applies_the_access_rule(rf, carol, private_channel):
    assert bench_views.before(request_as(rf, carol), slug="main-event").status_code == 403
