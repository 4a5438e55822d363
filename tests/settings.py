"""Test settings: the real settings module, fed a test environment first."""

import os
import re

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("IVS_LOCAL_ORIGIN", "true")
# The suite runs without DEBUG, as production does, and plays from the local origin.
os.environ.setdefault("IVS_LOCAL_ORIGIN_IN_PRODUCTION_I_KNOW", "true")
# And logs in through the local identity provider (localidp/), a real OpenID provider, as the demo does.
os.environ.setdefault("IVS_LOCAL_IDP", "true")
os.environ.setdefault("IVS_LOCAL_IDP_IN_PRODUCTION_I_KNOW", "true")
# authlib (the local IdP's server) accepts plain http on loopback only; the test client's host is "testserver".
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
os.environ["DEBUG"] = "false"
# Required outside DEBUG; the test client's own host, so that the links in emails can be followed.
os.environ["SITE_URL"] = "http://testserver"
# The tests make their own key; a developer's key settings must not leak in.
os.environ.pop("IVS_PLAYBACK_PRIVATE_KEY_FILE", None)
os.environ["IVS_PLAYBACK_PRIVATE_KEY"] = (
    ec.generate_private_key(ec.SECP384R1())
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
)

# pytest-xdist gives each worker a test database of its own; on Redis (CACHE_URL) each gets its own database too,
# counting down from the one named (gw0: /14, gw1: /13, …), so that workers never share a cache, a rate limit or a
# session.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_REDIS = re.fullmatch(r"(rediss?://[^/]+/)(\d+)", os.environ.get("CACHE_URL", ""))
if _WORKER.startswith("gw") and _REDIS:
    os.environ["CACHE_URL"] = f"{_REDIS[1]}{max(int(_REDIS[2]) - int(_WORKER[2:]), 0)}"

from ivssite.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
SECURE_COOKIES = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
SECURE_SSL_REDIRECT = False  # the test client speaks plain http; production redirects (tests/ivssite/test_security.py)

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file rather than memory, so that the browser tests' task worker runs in a thread with a connection of its
    # own, as it would in a process of its own (an in-memory database would be shared through one connection).
    (BASE_DIR / "var").mkdir(exist_ok=True)  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
