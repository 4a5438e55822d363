"""Settings for ivssite, read from the environment (see .env.example).

Secure by default: DEBUG is off, there is no built-in SECRET_KEY outside DEBUG,
and bad values stop start-up instead of failing a request later.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from ivssite import cache as site_cache
from ivssite import chat_settings, databases, logfilters, sso_settings
from ivssite import csp as site_csp

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a convenience for development; real deployments set the environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def _secret(name: str) -> str:
    """X, or the contents of the file X_FILE names (Docker secrets)."""
    value = env.str(name, default="")
    if not value and env.str(f"{name}_FILE", default=""):
        try:
            value = Path(env.str(f"{name}_FILE")).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE cannot be read: {exc.strerror}") from None
    return value


# SECRET_KEY or SECRET_KEY_FILE (Docker secrets). Only DEBUG gets a throwaway default.
SECRET_KEY = _secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or SECRET_KEY_FILE); DEBUG is off.")
    SECRET_KEY = "django-insecure-dev-only-key-not-for-production"  # noqa: S105  DEBUG only

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "viewers",
    "sales",
]

# The local IVS stand-in (token verification + a looping test stream) for the demo and tests.
# Production serves video from IVS itself and leaves this off.
IVS_LOCAL_ORIGIN = env.bool("IVS_LOCAL_ORIGIN", default=False)
# Without DEBUG the local origin stops start-up (localivs.E001) unless this says, loudly, that it is meant.
IVS_LOCAL_ORIGIN_IN_PRODUCTION_I_KNOW = env.bool("IVS_LOCAL_ORIGIN_IN_PRODUCTION_I_KNOW", default=False)
if IVS_LOCAL_ORIGIN:
    INSTALLED_APPS.append("localivs")

MIDDLEWARE = [
    # Load balancers probe /healthz and /readyz by IP over plain http: answer before host checks and redirects.
    "ivssite.health.HealthCheckMiddleware",
    "viewers.player.heartbeat.HeartbeatMiddleware",  # a beat needs nothing below (viewers/player/heartbeat.py)
    "django.middleware.security.SecurityMiddleware",
    # Outside WhiteNoise, so the player's worker script gets the same Content-Security-Policy as the page.
    "csp.middleware.CSPMiddleware",
    "ivssite.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A database outage becomes a friendly 503, not a 500 with a traceback in the log for every request.
    "ivssite.errors.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ivssite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "ivssite.wsgi.application"

DATABASES = {
    "default": databases.tuned(
        env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env.int("CONN_MAX_AGE", default=0 if DEBUG else 60),
        connect_timeout=env.int("DB_CONNECT_TIMEOUT", default=3),
        prepared_statements=env.bool("DB_PREPARED_STATEMENTS", default=True),
    )
}

# Django's Redis cache made to keep serving while Redis is down, and a "sessions" alias (ivssite/cache.py).
CACHES = site_cache.caches(env.cache("CACHE_URL", default="locmemcache://"), env.str("CACHE_KEY_PREFIX", default="ivs"))

# Sessions live in the cache first so a player page costs no session query; the
# database copy survives a cache restart (and a Redis outage).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "sessions"

AUTH_USER_MODEL = "viewers.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Brute-force protection: django-axes on the shared cache (viewers/logins.py says the rule). Failures count per
# (account, client address) pair, so an attacker cannot lock an admin out from everywhere, and per address.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)  # per account and address
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=30)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)  # after the last failure
# Password-reset requests per submitted email address and per client address in each hour (viewers/passwords.py);
# more get a 429 and no email, whether or not the address has an account.
PASSWORD_RESETS_PER_EMAIL = env.int("PASSWORD_RESETS_PER_EMAIL", default=3)
PASSWORD_RESETS_PER_ADDRESS = env.int("PASSWORD_RESETS_PER_ADDRESS", default=20)
AXES_HANDLER = "viewers.logins.LoginLockouts"  # axes' cache handler, with a limit for each of the two scopes
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
# axes itself only logs "locking out" past this; viewers.logins decides with the two limits above.
AXES_FAILURE_LIMIT = LOGIN_FAILURES_PER_IP
AXES_COOLOFF_TIME = "viewers.logins.cool_off"
AXES_CLIENT_IP_CALLABLE = "viewers.logins.client_address"  # X-Forwarded-For only with TRUST_X_FORWARDED_FOR
AXES_USERNAME_CALLABLE = "viewers.logins.username"
AXES_LOCKOUT_CALLABLE = "viewers.logins.lockout_response"
AXES_ENABLE_ADMIN = False  # the cache handler keeps no rows to show
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False  # no start-up banner on every manage.py command
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache":
    # The embedded default is one process: per-process counters are the whole truth there (docs/DEPLOYMENT.md).
    SILENCED_SYSTEM_CHECKS = ["axes.W001"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "ivssite.storage.StaticStorage",  # whitenoise's, with the player's imports hashed too
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Security headers. Cookies are Secure unless explicitly relaxed for plain-http development.
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
if IVS_LOCAL_ORIGIN:
    # The stand-in's IVS API is called by the site's own worker over loopback, as boto3 calls AWS: not by a browser.
    SECURE_REDIRECT_EXEMPT = [r"^ivs/"]
# /healthz and /readyz are answered before the redirect (ivssite.health), so plain-http probes work.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
# includeSubDomains covers subdomains of the site's own host name only (not the parent domain).
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# The preload flag only permits submitting the domain to browsers' preload lists; it submits nothing.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("TRUST_X_FORWARDED_PROTO", default=False) else None
)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp, composed in ivssite/csp.py): where the IVS player may fetch playlists and
# segments from, besides this site. IVS serves them from <id>.<region>.playback.live-video.net.
IVS_CSP_PLAYBACK_ORIGINS = env.list("CSP_PLAYBACK_ORIGINS", default=["https://*.live-video.net"])
# Where browsers should POST violation reports (optional). Not named CSP_*: django-csp 4 refuses its old settings.
IVS_CSP_REPORT_URI = env.str("CSP_REPORT_URI", default="")

# --- IVS playback authorization (docs/CONFIGURATION.md).
# The private half of the playback key pair: PEM text, or a path to a PEM file.
IVS_PLAYBACK_PRIVATE_KEY = env.str("IVS_PLAYBACK_PRIVATE_KEY", default="", multiline=True)
IVS_PLAYBACK_PRIVATE_KEY_FILE = env.str("IVS_PLAYBACK_PRIVATE_KEY_FILE", default="")
# Token lifetime. IVS only checks `exp` when playback starts, so short is fine.
IVS_TOKEN_TTL_SECONDS = env.int("IVS_TOKEN_TTL_SECONDS", default=300)
# Single-use tokens: each token opens exactly one playback session.
IVS_TOKEN_SINGLE_USE = env.bool("IVS_TOKEN_SINGLE_USE", default=True)
# Put a pseudonymous aws:viewer-id in tokens so sessions can be revoked.
IVS_TOKEN_VIEWER_ID = env.bool("IVS_TOKEN_VIEWER_ID", default=True)
# How long a playback session may run (IVS's longest broadcast is 48 h): revocation looks this far back.
IVS_SESSION_MAX_HOURS = env.int("IVS_SESSION_MAX_HOURS", default=48)
IVS_REFRESH_PER_MINUTE = env.int("IVS_REFRESH_PER_MINUTE", default=10)  # token refreshes per viewer a minute
# Tokens (each writes an audit row) per viewer and channel in any 60 s before a private player page answers 429.
IVS_PLAYER_PAGES_PER_MINUTE = env.int("IVS_PLAYER_PAGES_PER_MINUTE", default=20)
# Origins allowed to play (aws:access-control-allow-origin). Empty: any origin.
IVS_ALLOWED_ORIGINS = env.list("IVS_ALLOWED_ORIGINS", default=[])
IVS_STRICT_ORIGIN_ENFORCEMENT = env.bool("IVS_STRICT_ORIGIN_ENFORCEMENT", default=False)
# The IVS Player Web SDK. Default: AWS's CDN build. The demo serves a local bundle.
IVS_PLAYER_SDK_URL = env.str(
    "IVS_PLAYER_SDK_URL", default="https://player.live-video.net/1.56.1/amazon-ivs-player.min.js"
)
# A self-hosted bundle needs them; the CDN build finds its own. When set, the player page preloads both.
IVS_PLAYER_WASM_WORKER_URL = env.str("IVS_PLAYER_WASM_WORKER_URL", default="")
IVS_PLAYER_WASM_BINARY_URL = env.str("IVS_PLAYER_WASM_BINARY_URL", default="")
# django-csp's policy (csp.middleware.CSPMiddleware), from the player's origin and the playback origins above.
CONTENT_SECURITY_POLICY = site_csp.policy(IVS_PLAYER_SDK_URL, IVS_CSP_PLAYBACK_ORIGINS, IVS_CSP_REPORT_URI)
# AWS region of the IVS channels (key import, channel sync, revocation). Empty: the site does not
# call AWS. Credentials come from boto3's standard chain (env vars, ~/.aws, instance/task role).
AWS_REGION = env.str("IVS_AWS_REGION", default="") or env.str("AWS_REGION", default="")
# Every region the site reads channels from (channel sync) and imports playback keys into. Empty: the
# regions of the existing channels and AWS_REGION.
IVS_REGIONS = env.list("IVS_REGIONS", default=[])
# Where boto3 sends IVS control-plane calls. Empty: AWS's own endpoint for the region. The demo points it at the
# local origin's copy of the IVS API (http://127.0.0.1:8000/ivs), so it runs the production delivery code.
AWS_ENDPOINT_URL_IVS = env.str("AWS_ENDPOINT_URL_IVS", default="")
# botocore's defaults (60 s reads) outlast a gunicorn worker; the task worker retries what times out.
AWS_CONNECT_TIMEOUT_SECONDS = env.float("AWS_CONNECT_TIMEOUT_SECONDS", default=3)
AWS_READ_TIMEOUT_SECONDS = env.float("AWS_READ_TIMEOUT_SECONDS", default=5)

# --- Background work (viewers/reconcile.py, viewers/revocation.py): django-tasks with its database backend, run by
# `manage.py ivs_worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# How often the worker compares open playback sessions with the access rule and revokes the ones it no longer
# allows. Withdrawn access stops playback within this period plus delivery, whatever path withdrew it.
IVS_RECONCILE_SECONDS = env.int("IVS_RECONCILE_SECONDS", default=30)
# How often the worker asks IVS which channels are live (one ListStreams per region; viewers/stream_state.py). The
# home and player pages show the answer, and stop showing it once it is three periods old.
IVS_STREAM_STATE_SECONDS = env.int("IVS_STREAM_STATE_SECONDS", default=30)
# How often a playing player says so (viewers/attendance/): the live page counts the sessions seen in the last two
# periods as watching now, and the worker folds the heartbeats into the database every half period.
IVS_HEARTBEAT_SECONDS = env.int("IVS_HEARTBEAT_SECONDS", default=60)
# Where heartbeats wait for the fold: a Redis URL; by default CACHE_URL's Redis, and without one a database table.
IVS_HEARTBEAT_REDIS_URL = env.str("IVS_HEARTBEAT_REDIS_URL", default="") or site_cache.redis_url(CACHES)
# Finished task rows are kept this long (the admin shows recent runs), then the worker deletes them.
TASK_RESULTS_KEEP_HOURS = env.int("TASK_RESULTS_KEEP_HOURS", default=24)

# --- Country rules (docs/COUNTRIES.md): where the viewer's country comes from.
# A header set by the trusted proxy or CDN (CloudFront-Viewer-Country, CF-IPCountry…); read only when
# TRUST_X_FORWARDED_FOR is on, since anyone can send it to a site that is not behind that proxy.
IVS_COUNTRY_HEADER = env.str("IVS_COUNTRY_HEADER", default="")
# A MaxMind country (or city) database file, GeoLite2-Country.mmdb or GeoIP2-Country.mmdb: the operator's
# own copy, never downloaded by the site. Used when the header is not configured or not present.
IVS_COUNTRY_DATABASE = env.str("IVS_COUNTRY_DATABASE", default="")

LOGGING = logfilters.logging_config(level=env.str("LOG_LEVEL", default="INFO"))
# Behind a load balancer that appends X-Forwarded-For, record the client's address from it.
TRUST_X_FORWARDED_FOR = env.bool("TRUST_X_FORWARDED_FOR", default=False)

# --- Email (invitations and "you now have access" messages). DEBUG prints them on the console; outside DEBUG
# the default is an SMTP server on this machine, never the console, which would put password-set links in logs.
vars().update(env.email_url_config(_secret("EMAIL_URL") or ("consolemail://" if DEBUG else "smtp://localhost:25")))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="webmaster@localhost")
# The site's public address, e.g. https://watch.example.com: every link in an email starts with it, never with the
# request's Host, which the client chooses (ALLOWED_HOSTS checks its name, not its port). Required outside DEBUG.
SITE_URL = (env.str("SITE_URL", default="") or ("http://127.0.0.1:8000" if DEBUG else "")).rstrip("/")

# --- Selling access with Stripe (sales/). The webhook endpoint's signing secret (whsec_…); empty turns it off.
STRIPE_WEBHOOK_SECRET = _secret("STRIPE_WEBHOOK_SECRET")
# Seconds a signature's timestamp may be old: Stripe's libraries default to 5 minutes, against replays.
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)

# --- Single sign-on (docs/SSO.md): allauth's apps, the IdPs, the local IdP, password login on or off.
_sso = {"installed_apps": INSTALLED_APPS, "middleware": MIDDLEWARE, "backends": AUTHENTICATION_BACKENDS}
vars().update(sso_settings.configure(env, site_url=SITE_URL, csp=CONTENT_SECURITY_POLICY, **_sso))

# --- Chat beside the stream (docs/CHAT.md): IVS Chat's endpoints, the chat token's limits.
vars().update(chat_settings.configure(env))
