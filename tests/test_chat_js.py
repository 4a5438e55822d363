"""The chat panel's ES modules as production serves them: the hashed chat.js imports the hashed chat-logic.js and
the hashed SDK bundle (static/vendor/ivs/ivs-chat.js, built by bin/build-player), the URLs the page preloads."""

import re

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command

from tests import ROOT
from tests.viewers.player.test_chat_panel import MODERATOR, page

BUNDLE = ROOT / "static/vendor/ivs/ivs-chat.js"


@pytest.mark.django_db
def test_collectstatic_points_the_hashed_chat_at_its_hashed_imports(settings, tmp_path, alice, private_channel):
    if not BUNDLE.exists():
        pytest.fail("static/vendor/ivs/ivs-chat.js is missing: run `make player` (bin/build-player)")
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "ivssite.storage.StaticStorage"}}
    call_command("collectstatic", "--noinput", "-v", "0")

    chat = staticfiles_storage.stored_name("js/chat.js")
    logic = staticfiles_storage.stored_name("js/chat-logic.js")
    sdk = staticfiles_storage.stored_name("vendor/ivs/ivs-chat.js")
    assert re.fullmatch(r"vendor/ivs/ivs-chat\.[0-9a-f]{12}\.js", sdk)
    imports = re.findall(r'from "([^"]+)"', (tmp_path / chat).read_text())
    assert imports == ["../" + sdk, "./" + logic.split("/")[-1]]
    # The bundle is the SDK's own text, untouched, and an ES module exporting what chat.js imports.
    assert (tmp_path / sdk).read_bytes() == BUNDLE.read_bytes()
    exported = re.search(r"export\s*\{([^}]*)\}\s*;?\s*$", BUNDLE.read_text()).group(1)
    names = {part.split(" as ")[-1].strip() for part in exported.split(",")}
    assert {"ChatRoom", "SendMessageRequest", "DeleteMessageRequest", "DisconnectUserRequest"} <= names

    html = page(private_channel, alice, MODERATOR)
    assert f'<link rel="modulepreload" href="/static/{logic}">' in html
    assert f'<link rel="modulepreload" href="/static/{sdk}">' in html
    assert f'<script type="module" src="/static/{chat}"></script>' in html


def test_the_chat_module_imports_only_what_the_storage_rewrites():
    # ivssite/storage.py rewrites `from "./x.js"` and `from "../x.js"` in static/js/: a bare or absolute import
    # would reach production unhashed.
    source = (ROOT / "static/js/chat.js").read_text()
    specifiers = re.findall(r'\bfrom\s*"([^"]+)"', source)
    assert specifiers and all(s.startswith(("./", "../")) for s in specifiers)
    # Viewers' text reaches the page as text only.
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source and "outerHTML" not in source
