"""The admin's own pages use the admin's widgets, in Chromium, under the site's CSP: the group grant's calendar and
clock, two-box channel picker and group autocomplete come alive and submit; the extend confirmation's date widget
too; and no page with a form logs a console error or a CSP violation."""

import pytest
from django.contrib.auth.models import Group

from tests.browser.conftest import login
from tests.browser.test_csp import COLLECT_VIOLATIONS
from tests.factories import PRIVATE_ARN, playback_url_for
from viewers.models import Channel, Entitlement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENTITLEMENTS = "/admin/viewers/entitlement/"


class Watched:
    """A page that keeps its console errors, uncaught exceptions and CSP violations."""

    def __init__(self, context):
        context.add_init_script(COLLECT_VIOLATIONS)
        self.page = context.new_page()
        self.errors = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message):
        # The browser asks for /favicon.ico by itself; the admin's pages name no icon, so that one 404s.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.errors.append(f"{message.text} ({message.location.get('url')})")

    def assert_clean(self):
        assert self.page.evaluate("window.__cspViolations") == []
        assert self.errors == []


@pytest.fixture
def watched(context):
    return Watched(context)


@pytest.fixture
def channel(transactional_db):
    return Channel.objects.create(
        name="Main Event", slug="main-event", arn=PRIVATE_ARN, playback_url=playback_url_for(PRIVATE_ARN)
    )


def test_the_group_grant_form_works_with_the_admins_widgets(watched, live_server, admin_user, channel, artifacts):
    page = watched.page
    group = Group.objects.create(name="subscribers")
    login(page, live_server, "admin", "password", ENTITLEMENTS + "group-grant/")
    page.wait_for_selector("#calendarlink0")  # DateTimeShortcuts ran: calendar and clock links
    page.click("#calendarlink0")
    page.wait_for_selector("#calendarbox0", state="visible")
    page.screenshot(path=str(artifacts / "admin-group-grant-calendar.png"), full_page=True)
    page.keyboard.press("Escape")
    # The group, through the autocomplete (select2 asking the admin's autocomplete view).
    page.click(".field-group .select2-selection")
    page.fill(".select2-search__field", "subs")
    page.click(".select2-results__option >> text=subscribers")
    # The channel, through the two-box picker (SelectFilter2), which builds itself after its label as in the
    # change form (not before it, as it does outside the admin's relation wrapper).
    label, picker = page.locator(".field-channels label").first, page.locator(".field-channels .selector")
    assert label.bounding_box()["x"] < picker.bounding_box()["x"]
    page.dblclick(f"#id_channels_from option[value='{channel.pk}']")
    page.fill("#id_ends_at_0", "2099-12-03")
    page.fill("#id_ends_at_1", "13:25")
    with page.expect_navigation():
        page.click("input[value=Preview]")
    summary = page.inner_text(".ops-summary")
    assert "until 3 Dec 2099, 13:25 UTC." in " ".join(summary.split())
    watched.assert_clean()
    with page.expect_navigation():
        page.click("input[name=confirm]")
    assert Entitlement.objects.get(group=group, channel=channel).ends_at.year == 2099
    watched.assert_clean()


def test_the_extend_confirmation_uses_the_admins_date_widget(watched, live_server, admin_user, channel):
    page = watched.page
    Entitlement.objects.create(user=admin_user, channel=channel)
    login(page, live_server, "admin", "password", ENTITLEMENTS)
    page.check("input.action-select")
    page.select_option("select[name=action]", "extend")
    with page.expect_navigation():
        page.click("button[name=index]")
    page.wait_for_selector("#calendarlink0")
    page.fill("#id_until_0", "2099-01-01")
    page.fill("#id_until_1", "00:00")
    with page.expect_navigation():
        page.click("input[name=apply]")
    assert "Extended 1 entitlement." in page.inner_text(".messagelist")
    watched.assert_clean()


@pytest.mark.parametrize("path", [ENTITLEMENTS + "import/", "/admin/viewers/playbackkey/generate/"])
def test_the_other_form_pages_load_with_no_console_error(watched, live_server, admin_user, path):
    login(watched.page, live_server, "admin", "password", path)
    watched.page.wait_for_selector(".submit-row")
    watched.page.wait_for_load_state("load")
    watched.assert_clean()
