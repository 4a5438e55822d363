"""The player's ES modules as production serves them, and the JS tests' copy of the page's reason codes."""

import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command

from viewers.player.views import REASONS

ROOT = Path(__file__).resolve().parents[1]


def test_the_js_tests_reason_codes_are_the_pages():
    # tests/js/ runs in node, without Django: it reads the codes from this copy.
    assert json.loads((ROOT / "tests/js/reasons.json").read_text()) == REASONS


@pytest.mark.django_db
def test_collectstatic_points_the_hashed_player_at_the_hashed_logic(settings, tmp_path, client, alice):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "ivssite.storage.StaticStorage"}}
    call_command("collectstatic", "--noinput", "-v", "0")

    player = staticfiles_storage.stored_name("js/player.js")
    logic = staticfiles_storage.stored_name("js/player-logic.js")
    assert re.fullmatch(r"js/player-logic\.[0-9a-f]{12}\.js", logic)
    imports = re.findall(r'from "([^"]+)"', (tmp_path / player).read_text())
    assert imports == ["./" + logic.split("/")[-1]]
    assert (tmp_path / logic).read_text() == (ROOT / "static/js/player-logic.js").read_text()

    # The page preloads the very URL the module imports, or the browser would fetch it twice.
    client.force_login(alice)
    html = client.get("/channels/main-event/").content.decode()
    assert f'<link rel="modulepreload" href="/static/{logic}">' in html
    assert f'<script type="module" src="/static/{player}"></script>' in html


def test_only_the_sites_modules_are_rewritten():
    # The SDK bundle and the admin's scripts keep Django's default patterns: their text is not ours to parse.
    from ivssite.storage import StaticStorage

    globs = [glob for glob, _ in StaticStorage.patterns]
    assert globs.count("js/*.js") == 1
    assert "*.js" in globs and "*.css" in globs
