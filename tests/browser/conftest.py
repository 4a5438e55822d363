"""Real-browser tests: Debian's Chromium driven by Playwright, against pytest-django's live server."""

import os
import shutil
from pathlib import Path

import pytest

from tests import ROOT
from tests.factories import playback_url_for, task_worker
from viewers.models import Channel, Entitlement, User

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
PLAYER_BUNDLE = ROOT / "static/vendor/ivs/ivs-player.js"
# Playwright's sync API runs an event loop in this thread; the ORM calls in these tests are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

E2E_ARN = "arn:aws:ivs:us-west-2:123456789012:channel/E2eChannel01"


def pytest_collection_modifyitems(config, items):
    reason = None
    if not Path(CHROMIUM).exists():
        reason = (
            f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium` (or set CHROMIUM_PATH) for browser tests"
        )
    elif not PLAYER_BUNDLE.exists():
        reason = "IVS player bundle missing: run `make player` (bin/build-player) to run browser tests"
    if reason is None:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(reason + " (CI must run them).")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--autoplay-policy=no-user-gesture-required",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-gpu",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def player_settings(settings, live_server):
    settings.IVS_PLAYER_SDK_URL = "/static/vendor/ivs/ivs-player.js"
    settings.IVS_PLAYER_WASM_WORKER_URL = "/static/vendor/ivs/amazon-ivs-wasmworker.min.js"
    settings.IVS_PLAYER_WASM_BINARY_URL = "/static/vendor/ivs/amazon-ivs-wasmworker.min.wasm"
    return settings


@pytest.fixture
def e2e_channel(transactional_db, live_server, registered_key, player_settings):
    return Channel.objects.create(
        name="E2E Event",
        slug="e2e-event",
        arn=E2E_ARN,
        playback_url=playback_url_for(E2E_ARN, base=live_server.url + "/ivs"),
    )


@pytest.fixture
def viewer(e2e_channel):
    user = User.objects.create_user("viewer", "viewer@example.com", "watch-it-now")
    Entitlement.objects.create(user=user, channel=e2e_channel)
    return user


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 820})
    yield context
    context.close()


class RequestLog:
    def __init__(self, page):
        self.urls = []
        page.on("request", lambda request: self.urls.append(request.url))

    def matching(self, fragment):
        return [url for url in self.urls if fragment in url]


def login(page, live_server, username, password, next_path):
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("#password-submit")  # the password form's button, not an IdP's


def copy_artifact(src: Path, dest: Path) -> None:
    shutil.copyfile(src, dest)


@pytest.fixture
def ivs_worker(live_server, settings, monkeypatch):
    """The real task worker (django-tasks-db's), in a thread with its own database connection, delivering
    revocations through boto3 to the live server's copy of the IVS API, as `make run` does. Reconciles
    every 3 seconds."""
    import threading

    from django.db import connections

    from viewers import reconcile
    from viewers.ivs import aws

    settings.AWS_REGION = "us-west-2"
    settings.AWS_ENDPOINT_URL_IVS = live_server.url + "/ivs"
    settings.IVS_RECONCILE_SECONDS = 3
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "browser-tests")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "browser-tests")
    aws._client.cache_clear()
    worker = task_worker(worker_id="browser-tests")

    def run():
        try:
            worker.run()
        finally:
            connections.close_all()

    reconcile.schedule(delay=0)
    thread = threading.Thread(target=run, name="ivs-worker", daemon=True)
    thread.start()
    yield worker
    worker.running = False
    thread.join(timeout=30)
    aws._client.cache_clear()
