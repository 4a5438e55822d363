"""Single sign-on in Chromium, end to end against the local IdP (a real OpenID provider on the live server):
"Log in with Local IdP" → the IdP's sign-in → the channel plays for a user entitled only through an IdP group; a
SCIM PATCH active=false, sent over HTTP as Okta sends it, stops the running stream within the reconcile period;
and once they are out of the group at the IdP, logging in again refuses the channel."""

import time

import pytest
import requests
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from ivssite import sso_settings
from localidp.models import LocalGroup, LocalUser
from sso.models import IdpGroup
from sso.scim import auth
from tests.browser.test_csp import COLLECT_VIOLATIONS
from tests.browser.test_withdrawal import PLAYING, STOPPED, record
from tests.factories import assert_playback_stopped
from viewers.models import Entitlement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "idp-secret-pass"  # noqa: S105  tests only
PERIOD_PLUS_15_S = 3_000 + 15_000


@pytest.fixture
def local_idp(settings, live_server):
    """The site's local IdP at the live server's address, as `make run` has it at http://127.0.0.1:8000/idp."""
    issuer = f"{live_server.url}/idp"
    settings.LOCAL_IDP_ISSUER = issuer
    app = sso_settings.allauth_app(
        {
            "id": "local",
            "name": "Local IdP",
            "issuer": issuer,
            "client_id": sso_settings.LOCAL_IDP_CLIENT_ID,
            "client_secret": sso_settings.LOCAL_IDP_CLIENT_SECRET,
        }
    )
    settings.SOCIALACCOUNT_PROVIDERS = {"sso": {"APPS": [app]}}
    return issuer


@pytest.fixture
def idp_viewer(e2e_channel, local_idp):
    """At the IdP: "pat", in the group "e2e-viewers"; here: that IdP group, entitled to the E2E Event."""
    pat = LocalUser.objects.create(
        username="pat@corp.example", password=make_password(PASSWORD), email="pat@corp.example"
    )
    pat.groups.add(LocalGroup.objects.create(name="e2e-viewers"))
    group = Group.objects.create(name=IdpGroup.django_name("local", "e2e-viewers"))
    IdpGroup.objects.create(group=group, idp="local", display_name="e2e-viewers")
    Entitlement.objects.create(group=group, channel=e2e_channel)
    return pat


def log_in_with_the_idp(page, live_server, artifacts=None):
    page.goto(f"{live_server.url}/accounts/login/?next=/channels/e2e-event/")
    assert page.evaluate("window.__cspViolations") == []
    if artifacts:
        page.screenshot(path=str(artifacts / "sso-login.png"))
    with page.expect_navigation():
        page.click("text=Log in with Local IdP")
    assert page.url.startswith(f"{live_server.url}/idp/authorize?")
    assert page.evaluate("window.__cspViolations") == []  # the IdP's page, under the site's policy
    page.fill("#idp-username", "pat@corp.example")
    page.fill("#idp-password", PASSWORD)
    if artifacts:
        page.screenshot(path=str(artifacts / "sso-idp-sign-in.png"))
    with page.expect_navigation(url=f"{live_server.url}/channels/e2e-event/"):
        page.click("#idp-continue")


def scim(live_server, token, method, path, body=None):
    response = requests.request(
        method,
        f"{live_server.url}/scim/v2/{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"},
        timeout=10,
    )
    assert response.status_code < 300, response.text
    return response.json()


def test_idp_login_plays_scim_deactivation_stops_it_and_out_of_the_group_it_is_refused(
    context, live_server, idp_viewer, ivs_worker, artifacts
):
    context.add_init_script(COLLECT_VIOLATIONS)
    page = context.new_page()
    log_in_with_the_idp(page, live_server, artifacts)
    page.wait_for_function(PLAYING, timeout=30_000)

    # Okta: find the user by userName, then PATCH active=false.
    token = auth.rotate("local")
    found = scim(live_server, token, "GET", 'Users?filter=userName eq "pat@corp.example"&startIndex=1&count=100')
    assert found["totalResults"] == 1
    scim_id = found["Resources"][0]["id"]
    withdrawn_at = time.monotonic()
    off = {"op": "replace", "value": {"active": False}}
    schemas = ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]
    scim(live_server, token, "PATCH", f"Users/{scim_id}", {"schemas": schemas, "Operations": [off]})
    page.wait_for_selector(STOPPED, timeout=PERIOD_PLUS_15_S)
    record("SCIM PATCH active=false", time.monotonic() - withdrawn_at)
    assert_playback_stopped(page)

    # Back on at the IdP, but taken out of the group there: the next login refuses the channel.
    on = {"op": "replace", "path": "active", "value": True}
    scim(live_server, token, "PATCH", f"Users/{scim_id}", {"schemas": schemas, "Operations": [on]})
    idp_viewer.groups.clear()
    context.clear_cookies()
    again = context.new_page()
    log_in_with_the_idp(again, live_server)
    assert "do not have access" in again.inner_text("main")
    again.screenshot(path=str(artifacts / "sso-refused.png"))
