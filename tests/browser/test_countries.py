"""Country rules in a real browser, with the country coming from a trusted proxy's header."""

import pytest

from localivs.models import PlaybackSession
from tests.browser.conftest import RequestLog, login
from viewers.models import CountryDenial, TokenAudit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "CloudFront-Viewer-Country"
MULTIVARIANT = "/ivs/api/video/v1/"


@pytest.fixture
def blocked_in_germany(e2e_channel, settings):
    # The browser plays the proxy: it sends the header the proxy would set, and the site trusts its proxy.
    settings.IVS_COUNTRY_HEADER, settings.TRUST_X_FORWARDED_FOR, settings.IVS_COUNTRY_DATABASE = HEADER, True, ""
    e2e_channel.blocked_countries = ["DE"]
    e2e_channel.save()
    return e2e_channel


def test_a_viewer_in_a_blocked_country_is_told_why_and_nothing_is_played(
    context, live_server, viewer, blocked_in_germany, artifacts
):
    context.set_extra_http_headers({HEADER: "DE"})
    page = context.new_page()
    log = RequestLog(page)
    login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    assert "This channel is not available in your country (Germany)." in page.content()
    page.screenshot(path=str(artifacts / "country-denied.png"))
    page.wait_for_timeout(1000)  # a player that were there would have asked for the playlist by now
    assert not log.matching(MULTIVARIANT) and not log.matching("/ivs/")
    assert not page.query_selector("video")
    assert not TokenAudit.objects.exists() and not PlaybackSession.objects.exists()
    assert list(CountryDenial.objects.values_list("country", "count")) == [("DE", 1)]


def test_the_same_viewer_elsewhere_plays(context, live_server, viewer, blocked_in_germany):
    context.set_extra_http_headers({HEADER: "FR"})
    page = context.new_page()
    log = RequestLog(page)
    login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    page.wait_for_function("() => document.querySelector('video').currentTime > 1", timeout=30_000)
    assert len(log.matching(MULTIVARIANT)) == 1
    assert not CountryDenial.objects.exists()


def test_the_admin_picks_countries_by_name_under_the_csp(context, live_server, e2e_channel, admin_user, artifacts):
    from tests.browser.test_csp import COLLECT_VIOLATIONS

    context.add_init_script(COLLECT_VIOLATIONS)
    page = context.new_page()
    login(page, live_server, "admin", "password", f"/admin/viewers/channel/{e2e_channel.pk}/change/")
    # A channel without rules has them folded away; the operator unfolds them.
    assert not page.is_visible("#id_blocked_countries_input")
    page.click("summary:has-text('Country rules')")
    # Django's two-pane widget, built by its script: a filter box and the countries by name, after its label.
    label_first = "(label, picker) => !!(label.compareDocumentPosition(picker) & Node.DOCUMENT_POSITION_FOLLOWING)"
    for field in ("allowed_countries", "blocked_countries"):
        picker = page.locator(f".field-{field} .selector")
        assert page.locator(f"label[for=id_{field}]").evaluate(label_first, picker.element_handle())
        label_box, picker_box = page.locator(f"label[for=id_{field}]").bounding_box(), picker.bounding_box()
        assert label_box["x"] < picker_box["x"]  # beside it, on the left, as every label in the admin
    page.fill("#id_blocked_countries_input", "germ")
    page.dblclick("#id_blocked_countries_from option[value=DE]")
    page.screenshot(path=str(artifacts / "admin-countries.png"), full_page=True)
    with page.expect_navigation():
        page.click("input[name=_continue]")
    e2e_channel.refresh_from_db()
    assert [c.code for c in e2e_channel.blocked_countries] == ["DE"]
    # Now that the channel has a rule, its page shows the rules unfolded.
    assert page.is_visible("#id_blocked_countries_input")
    assert page.evaluate("window.__cspViolations") == []
