"""Withdrawn access stops a stream that is already playing, whatever the path, within one reconcile period.

The viewer plays in Chromium through the local origin; access is withdrawn by one path; the player must show
why it stopped. The real worker runs in a thread and delivers through boto3 to the local origin's IVS API.
Each path's time from withdrawal to the stopped player goes to test-artifacts/withdrawal-seconds.json.
"""

import json
import time
from datetime import timedelta

import jwt
import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from tests.browser.conftest import ARTIFACTS, E2E_ARN, login
from tests.factories import assert_playback_stopped, playback_url_for
from viewers import services
from viewers.models import Channel, Entitlement, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAYING = "() => document.querySelector('video').currentTime > 1"
STOPPED = "#player-status[data-state=unauthorized]"
PERIOD_PLUS_15_S = 3_000 + 15_000


@pytest.fixture
def group_viewer(e2e_channel):
    """Entitled only through the group "e2e-subscribers"."""
    user = User.objects.create_user("viewer", "viewer@example.com", "watch-it-now")
    group = Group.objects.create(name="e2e-subscribers")
    user.groups.add(group)
    Entitlement.objects.create(group=group, channel=e2e_channel)
    return user


def play(context, live_server):
    page = context.new_page()
    login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    page.wait_for_function(PLAYING, timeout=30_000)
    return page


def record(path, seconds):
    ARTIFACTS.mkdir(exist_ok=True)
    results = ARTIFACTS / "withdrawal-seconds.json"
    figures = json.loads(results.read_text()) if results.exists() else {}
    figures[path] = round(seconds, 1)
    results.write_text(json.dumps(figures, indent=2, sort_keys=True))


def assert_stops(page, path, withdrawn_at):
    page.wait_for_selector(STOPPED, timeout=PERIOD_PLUS_15_S)
    record(path, time.monotonic() - withdrawn_at)
    assert_playback_stopped(page)


def other_channel():
    arn = E2E_ARN.replace("E2eChannel01", "E2eChannel02")
    return Channel.objects.create(name="Other", slug="other", arn=arn, playback_url=playback_url_for(arn))


DIRECT_PATHS = {
    "admin revoke action (services)": lambda user: services.entitlements_revoke(
        entitlements=Entitlement.objects.filter(user=user)
    ),
    "entitlement deleted": lambda user: Entitlement.objects.get(user=user).delete(),
    "user deactivated": lambda user: (setattr(user, "is_active", False), user.save()),
    "user deleted": lambda user: user.delete(),
    "entitlement moved to another user (change form)": lambda user: _move_to(
        user, User.objects.create_user("someone-else")
    ),
    "entitlement's channel changed": lambda user: _change_channel(user),
    "bulk QuerySet.update()": lambda user: Entitlement.objects.filter(user=user).update(revoked_at=timezone.now()),
}


def _move_to(user, other):
    entitlement = Entitlement.objects.get(user=user)
    entitlement.user = other
    entitlement.save()


def _change_channel(user):
    entitlement = Entitlement.objects.get(user=user)
    entitlement.channel = other_channel()
    entitlement.save()


@pytest.mark.parametrize("path", list(DIRECT_PATHS))
def test_withdrawing_a_direct_entitlement_stops_playback(path, context, live_server, viewer, ivs_worker):
    page = play(context, live_server)
    withdrawn_at = time.monotonic()
    DIRECT_PATHS[path](viewer)
    assert_stops(page, path, withdrawn_at)


def test_the_viewer_removed_from_the_entitling_group(context, live_server, group_viewer, ivs_worker):
    page = play(context, live_server)
    withdrawn_at = time.monotonic()
    group_viewer.groups.clear()
    assert_stops(page, "user removed from the entitling group", withdrawn_at)


def test_the_entitling_group_deleted(context, live_server, group_viewer, ivs_worker):
    page = play(context, live_server)
    withdrawn_at = time.monotonic()
    Group.objects.get(name="e2e-subscribers").delete()
    assert_stops(page, "the entitling group deleted", withdrawn_at)


def test_the_window_ends_while_the_viewer_watches(context, live_server, viewer, ivs_worker):
    page = play(context, live_server)
    # Nothing runs when the window closes: only the periodic reconciliation can notice.
    Entitlement.objects.filter(user=viewer).update(ends_at=timezone.now() + timedelta(seconds=4))
    page.wait_for_timeout(4_000)
    assert_stops(page, "the entitlement's window ends", time.monotonic())
    assert "has ended" in page.inner_text("#player-status")


def test_a_narrowed_entitlement_drops_to_sd_without_the_viewer_doing_anything(
    context, live_server, viewer, ivs_worker, public_key, artifacts
):
    page = context.new_page()
    tokens = []
    page.on("request", lambda request: ".m3u8?token=" in request.url and tokens.append(request.url.split("=")[-1]))
    login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    page.wait_for_function(PLAYING, timeout=30_000)

    Entitlement.objects.filter(user=viewer).update(max_resolution="SD")

    deadline = time.monotonic() + PERIOD_PLUS_15_S / 1000
    while len(tokens) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    # The embedded token had no limit; the one retry's token, minted after the narrowing, says SD, as IVS reads it.
    claims = [jwt.decode(token, public_key, algorithms=["ES384"]) for token in tokens]
    assert [c.get("aws:maximum-resolution") for c in claims] == [None, "SD"]
    page.wait_for_function("() => document.querySelector('video').videoHeight === 360", timeout=15_000)
    page.wait_for_function("() => document.querySelector('video').currentTime > 2", timeout=15_000)
    assert page.get_attribute("#player-status", "data-state") == "playing"
    page.screenshot(path=str(artifacts / "narrowed-to-sd.png"))
