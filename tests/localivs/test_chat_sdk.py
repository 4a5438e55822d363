"""The real IVS Chat JS SDK against the local messaging server: tests/localivs/chat_sdk_check.cjs, in node, with
`amazon-ivs-chat-messaging` from the project's node_modules (the player bundle's npm install brings it). Skipped
where node or the SDK is missing."""

import json
import shutil
import subprocess
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connections
from django.utils import timezone

from localivs import chat
from localivs.models import ChatToken
from tests import ROOT

NODE = shutil.which("node")
CHECK = ROOT / "tests" / "localivs" / "chat_sdk_check.cjs"


def sdk_found() -> bool:
    """Where node finds it from the project: node_modules, or NODE_PATH."""
    found = subprocess.run(
        [NODE, "-e", "require.resolve('amazon-ivs-chat-messaging')"], cwd=ROOT, capture_output=True, check=False
    )
    return found.returncode == 0


pytestmark = pytest.mark.skipif(
    NODE is None or not sdk_found(), reason="needs node and the amazon-ivs-chat-messaging npm package (npm ci)"
)


def node_flags() -> list[str]:
    """node 22 has a WebSocket of its own; node 20 (Debian's) behind a flag."""
    has_it = subprocess.run([NODE, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"], check=False)
    return [] if has_it.returncode == 0 else ["--experimental-websocket"]


@pytest.fixture
def token_url(transactional_db):
    """A stand-in for the site's token endpoint: POST CreateChatToken's members, get its answer."""
    room = chat.create_room("us-west-2", {"name": "sdk", "maximumMessageLength": 20})

    class Mint(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seconds = body.pop("sessionSeconds", None)
            answer = chat.create_chat_token("us-west-2", {"roomIdentifier": room["arn"], **body})
            if seconds:
                digest = chat.token_digest(answer["token"])
                expires = timezone.now() + timedelta(seconds=seconds)
                ChatToken.objects.filter(token_sha256=digest).update(session_expires_at=expires)
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

        def finish(self):
            super().finish()
            connections.close_all()  # this request's thread's connection

    server = ThreadingHTTPServer(("127.0.0.1", 0), Mint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_the_js_sdk_chats_moderates_refreshes_and_reconnects(chat_server, token_url):
    result = subprocess.run(
        [NODE, *node_flags(), str(CHECK), chat_server, token_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and not [line for line in lines if line.startswith("FAIL")], result.stdout
    assert len([line for line in lines if line.startswith("ok ")]) == 10, result.stdout
