"""The production-mode cluster: two gunicorn app servers and a worker on loopback, sharing this machine's
PostgreSQL and Redis, and a cookie-keeping HTTP client to drive them."""

import base64
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tests import ROOT

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ivs_prod_test"
REDIS_DB = 13
PORTS = (8701, 8702)
PASSWORD = "prod-test-password"  # noqa: S105
CHANNEL = "prod-event"
ARN = "arn:aws:ivs:us-west-2:123456789012:channel/ProdEvent01"
VIEWERS = 20
REFRESH_PER_MINUTE = 10
LOGIN_FAILURES = 5


def base_env(tmp: Path, key_file: Path, port: int, **overrides) -> dict:
    """Production settings, built from nothing (the test process's own environment is the test settings')."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "DJANGO_SETTINGS_MODULE": "ivssite.settings",
        "DEBUG": "false",
        "SECRET_KEY": "prod-test-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": DATABASE_URL,
        "CACHE_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        # TLS ends at the load balancer; the test client plays it and sends X-Forwarded-Proto: https.
        "TRUST_X_FORWARDED_PROTO": "true",
        "IVS_PLAYBACK_PRIVATE_KEY_FILE": str(key_file),
        "IVS_LOCAL_ORIGIN": "true",
        "IVS_LOCAL_ORIGIN_IN_PRODUCTION_I_KNOW": "true",
        "IVS_REFRESH_PER_MINUTE": str(REFRESH_PER_MINUTE),
        # The fault tests reload one viewer's page in a loop on purpose; the page limit has its own unit tests.
        "IVS_PLAYER_PAGES_PER_MINUTE": "100000",
        "LOGIN_FAILURES_PER_ACCOUNT": str(LOGIN_FAILURES),
        "IVS_PLAYER_SDK_URL": "/static/vendor/ivs/ivs-player.js",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        # Revocations go through boto3 to server A's copy of the IVS API, as they would go to AWS.
        "AWS_REGION": "us-west-2",
        "AWS_ACCESS_KEY_ID": "prod-tests",
        "AWS_SECRET_ACCESS_KEY": "prod-tests",
        "AWS_ENDPOINT_URL_IVS": f"http://127.0.0.1:{PORTS[0]}/ivs",
        "IVS_RECONCILE_SECONDS": "2",
    }
    env.update(overrides)
    return env


def manage(env: dict, *args: str, input_text: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class Process:
    process: subprocess.Popen | None = None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


class Worker(Process):
    """`manage.py ivs_worker`, as deployed: its own process, several of them sharing the queue."""

    def __init__(self, name: str, env: dict, log_dir: Path):
        self.name, self.env = name, env
        self.log_path = log_dir / f"worker-{name}.log"
        self.process = None

    def start(self) -> "Worker":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "ivs_worker", "--no-reload", "--interval", "0.2", "--worker-id", self.name],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self


class Server(Process):
    def __init__(self, name: str, port: int, env: dict, log_dir: Path):
        self.name, self.port, self.env = name, port, env
        self.log_path = log_dir / f"gunicorn-{name}.log"
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True, timeout: float = 30) -> "Server":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "ivssite.wsgi"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if wait:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                assert self.process.poll() is None, f"{self.name} exited: {self.log()[-2000:]}"
                try:
                    if request(self, "GET", "/readyz")[0] == 200:
                        return self
                except OSError:
                    pass
                time.sleep(0.2)
            raise AssertionError(f"{self.name} not ready in {timeout}s: {self.log()[-2000:]}")
        return self

    def wait_exit(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def request(server: Server, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    """One request as the load balancer would forward it. Returns (status, headers, text)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    all_headers = {"X-Forwarded-Proto": "https", "Host": f"127.0.0.1:{server.port}", **(headers or {})}
    data = None
    if body is not None:
        data = urlencode(body)
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read().decode(errors="replace")
    finally:
        conn.close()


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class Browser:
    """Keeps cookies like a browser would (Secure cookies included: the user sees https)."""

    secrets_seen: set = set()  # every token and session id any browser got, for the log check

    def __init__(self, server: Server, cookies: dict | None = None):
        self.server = server
        self.cookies = cookies if cookies is not None else {}
        self.tokens: list[str] = []

    def on(self, server: Server) -> "Browser":
        other = Browser(server, self.cookies)
        other.tokens = self.tokens
        return other

    def send(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        extra = {"Cookie": cookie} if cookie else {}
        status, response_headers, text = request(self.server, method, path, body, {**extra, **(headers or {})})
        for header in response_headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
                if name == "sessionid" and morsel.value:
                    Browser.secrets_seen.add(morsel.value)
        return status, response_headers, text

    def csrf_post(self, path: str, body: dict):
        referer = f"https://127.0.0.1:{self.server.port}{path}"
        token = self.cookies.get("csrftoken") or ""
        return self.send("POST", path, {**body, "csrfmiddlewaretoken": token}, {"Referer": referer})

    def login(self, username: str, password: str = PASSWORD) -> int:
        self.send("GET", "/accounts/login/")
        return self.csrf_post("/accounts/login/", {"username": username, "password": password})[0]

    def watch(self, slug: str = CHANNEL):
        """Open the player page. Returns (status, claims of the embedded token or None, playback URL)."""
        status, _, text = self.send("GET", f"/channels/{slug}/")
        match = re.search(r'"playbackUrl": "([^"]+)"', text)
        if status != 200 or not match:
            return status, None, None
        url = match.group(1)
        token = url.split("?token=")[1]
        self.tokens.append(token)
        Browser.secrets_seen.add(token)
        return status, claims_of(token), url

    def start(self, slug: str = CHANNEL):
        """What the player does on a device-limited channel, whose page embeds no token: POST for the first one.
        Returns (status, claims or None)."""
        status, _, text = self.csrf_post(f"/channels/{slug}/playback", {})
        if status != 200:
            return status, None
        token = json.loads(text)["playbackUrl"].split("?token=")[1]
        self.tokens.append(token)
        Browser.secrets_seen.add(token)
        return status, claims_of(token)

    def refresh(self, slug: str = CHANNEL):
        status, _, text = self.csrf_post(f"/channels/{slug}/playback", {})
        if status == 200:
            self.tokens.append(json.loads(text)["playbackUrl"].split("?token=")[1])
            Browser.secrets_seen.add(self.tokens[-1])
        return status


class Cluster:
    def __init__(self, a: Server, b: Server, tmp: Path, key_file: Path):
        self.a, self.b, self.tmp, self.key_file = a, b, tmp, key_file
        self.tokens_seen: list[str] = []

    def sql(self, query: str, params=()):
        import psycopg

        with psycopg.connect(DATABASE_URL, connect_timeout=5) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else cursor.rowcount

    def wait_for(self, query: str, params, expected, timeout: float = 20):
        """Poll the database until `query` returns `expected` (the workers act on their own schedule)."""
        deadline = time.monotonic() + timeout
        while (rows := self.sql(query, params)) != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        return rows

    def server(self, name: str, port: int, **overrides) -> Server:
        return Server(name, port, base_env(self.tmp, self.key_file, port, **overrides), self.tmp)


SETUP_DATA = """
from viewers.ivs import signing_keys, tokens
from viewers.models import Channel, Entitlement, PlaybackKey, User
key = signing_keys.signing_key()
PlaybackKey.objects.create(name="prod-test", public_key_pem=tokens.public_key_pem(key),
                           fingerprint=tokens.fingerprint(key), is_signing=True)
channel = Channel.objects.create(name="Prod Event", slug="{slug}", arn="{arn}",
    playback_url="http://127.0.0.1:{port}/ivs/api/video/v1/us-west-2.123456789012.channel.ProdEvent01.m3u8")
for i in range({viewers}):
    user = User.objects.create_user(f"viewer{{i}}", password="{password}")
    Entitlement.objects.create(user=user, channel=channel)
User.objects.create_user("stranger", password="{password}")
User.objects.create_user("victim", password="{password}")
User.objects.create_superuser("ops-admin", "ops@example.com", password="{password}")
"""


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")
