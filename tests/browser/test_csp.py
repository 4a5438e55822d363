"""The IVS player plays under the site's Content-Security-Policy, in Chromium, with no violation at all."""

import pytest

from ivssite.middleware import content_security_policy
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAYING = "() => document.querySelector('video').currentTime > 4"

# Installed before any page script runs: every violation the document reports is kept.
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push({directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile});
});
"""


def with_site_policy(route):
    """The live server serves static files outside the middleware; in production WhiteNoise serves them
    inside it, so the worker script carries the page's policy. Do the same here."""
    response = route.fetch()
    route.fulfill(response=response, headers={**response.headers, "content-security-policy": content_security_policy()})
    served_with_policy.append(route.request.url)


served_with_policy = []


def test_the_player_plays_with_no_csp_violation(context, live_server, viewer, artifacts):
    context.add_init_script(COLLECT_VIOLATIONS)
    context.route("**/static/vendor/ivs/*", with_site_policy)
    page = context.new_page()
    console = []
    page.on("console", lambda message: console.append(message.text))

    login(page, live_server, "viewer", "watch-it-now", "/channels/e2e-event/")
    page.wait_for_function(PLAYING, timeout=30_000)
    page.screenshot(path=str(artifacts / "csp-playing.png"))

    policy = page.evaluate("async () => (await fetch(location.href)).headers.get('content-security-policy')")
    assert "'wasm-unsafe-eval'" in policy and "worker-src 'self' blob:" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert page.evaluate("window.__cspViolations") == []
    assert not [text for text in console if "Content Security Policy" in text or "Refused to" in text]
    # The player's worker ran under the same policy (wasm compiled inside it): nothing was refused.
    assert any("wasmworker" in url for url in served_with_policy)
    assert page.get_attribute("#player-status", "data-state") == "playing"


def test_a_violation_would_be_seen(context, live_server, viewer):
    """The check above can fail: an inline script, which the policy forbids, is reported."""
    context.add_init_script(COLLECT_VIOLATIONS)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = '1'; document.body.append(s); }")
    page.wait_for_function("() => window.__cspViolations.length > 0", timeout=5_000)
    assert page.evaluate("window.__cspViolations")[0]["directive"] == "script-src-elem"
