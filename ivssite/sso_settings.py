"""Single sign-on settings (docs/SSO.md), read from the environment by ivssite/settings.py.

Kept out of settings.py, which they would push past its size. `configure()` returns the settings to add: the apps and
middleware django-allauth needs, the identity providers as allauth's "sso" provider apps, and the local identity
provider when IVS_LOCAL_IDP is on. A bad value stops start-up with ImproperlyConfigured, saying what to set.
"""

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

#: The local IdP's client at itself: a demo secret, like the demo's passwords (refused in production, localidp.E001).
LOCAL_IDP_ID = "local"
LOCAL_IDP_CLIENT_ID = "ivs-site"
LOCAL_IDP_CLIENT_SECRET = "local-idp-demo-secret"  # noqa: S105  demo and tests only
PROVIDER_ID = re.compile(r"^[a-z][a-z0-9-]{0,29}$")
REQUIRED = ("id", "name", "issuer", "client_id", "client_secret")
OPTIONAL = ("groups_claim", "uid_claim", "scope")


def _providers_text(env) -> str:
    text = env.str("SSO_PROVIDERS", default="")
    path = env.str("SSO_PROVIDERS_FILE", default="")
    if not text and path:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ImproperlyConfigured(f"SSO_PROVIDERS_FILE cannot be read: {exc.strerror}") from None
    return text.strip()


def parse_providers(text: str) -> list[dict]:
    """SSO_PROVIDERS: a JSON list of identity providers, each {"id", "name", "issuer", "client_id", "client_secret"}
    and optionally "groups_claim" (default "groups"), "uid_claim" (default "sub") and "scope"."""
    if not text:
        return []
    try:
        providers = json.loads(text)
    except ValueError as exc:
        raise ImproperlyConfigured(f"SSO_PROVIDERS is not valid JSON: {exc}") from None
    if not isinstance(providers, list):
        raise ImproperlyConfigured("SSO_PROVIDERS must be a JSON list of identity providers.")
    seen = set()
    for number, provider in enumerate(providers, 1):
        where = f"SSO_PROVIDERS entry {number}"
        if not isinstance(provider, dict):
            raise ImproperlyConfigured(f"{where} must be a JSON object.")
        missing = [key for key in REQUIRED if not isinstance(provider.get(key), str) or not provider[key].strip()]
        if missing:
            raise ImproperlyConfigured(f"{where} lacks {', '.join(missing)}.")
        unknown = sorted(set(provider) - set(REQUIRED) - set(OPTIONAL))
        if unknown:
            raise ImproperlyConfigured(f"{where} has unknown keys: {', '.join(unknown)}.")
        if not PROVIDER_ID.match(provider["id"]) or provider["id"] in seen:
            raise ImproperlyConfigured(
                f"{where}: id {provider['id']!r} must be unique, lower-case letters, digits and '-' (up to 30)."
            )
        issuer = urlsplit(provider["issuer"])
        if issuer.scheme not in ("https", "http") or not issuer.netloc or issuer.query or issuer.fragment:
            raise ImproperlyConfigured(f"{where}: issuer must be the IdP's https URL, e.g. https://acme.okta.com.")
        seen.add(provider["id"])
    return providers


def allauth_app(provider: dict) -> dict:
    """One IdP as an allauth provider app of the "sso" provider (sso/provider.py)."""
    return {
        "provider_id": provider["id"],
        "name": provider["name"],
        "client_id": provider["client_id"],
        "secret": provider["client_secret"],
        "settings": {
            "server_url": provider["issuer"].rstrip("/"),
            "oauth_pkce_enabled": True,
            # Claims come from the ID token, whose signature, issuer, audience and nonce are checked; no userinfo call.
            "fetch_userinfo": False,
            "uid_field": provider.get("uid_claim") or "sub",
            "groups_claim": provider.get("groups_claim") or "groups",
            "scope": (provider.get("scope") or "openid profile email").split(),
        },
    }


def configure(env, *, site_url: str, installed_apps: list, middleware: list, backends: list, csp: dict) -> dict:
    providers = parse_providers(_providers_text(env))
    local_idp = env.bool("IVS_LOCAL_IDP", default=False)
    if local_idp:
        providers.append(
            {
                "id": LOCAL_IDP_ID,
                "name": "Local IdP",
                "issuer": f"{site_url}/idp",
                "client_id": LOCAL_IDP_CLIENT_ID,
                "client_secret": LOCAL_IDP_CLIENT_SECRET,
            }
        )
    allauth_apps = ["allauth", "allauth.account", "allauth.socialaccount", "sso"]
    at_messages = middleware.index("django.contrib.messages.middleware.MessageMiddleware")
    return {
        "INSTALLED_APPS": [*installed_apps, *allauth_apps, *(["localidp"] if local_idp else [])],
        "MIDDLEWARE": [*middleware[: at_messages + 1], "allauth.account.middleware.AccountMiddleware"]
        + middleware[at_messages + 1 :],
        "IVS_PASSWORD_LOGIN": env.bool("IVS_PASSWORD_LOGIN", default=True),
        "IVS_LOCAL_IDP": local_idp,
        # Without DEBUG the local IdP stops start-up (localidp.E001) unless this says, loudly, that it is meant.
        "IVS_LOCAL_IDP_IN_PRODUCTION_I_KNOW": env.bool("IVS_LOCAL_IDP_IN_PRODUCTION_I_KNOW", default=False),
        "LOCAL_IDP_ISSUER": f"{site_url}/idp",
        "SSO_PROVIDER_IDS": [provider["id"] for provider in providers],
        "SOCIALACCOUNT_PROVIDERS": {"sso": {"APPS": [allauth_app(p) for p in providers]}},
        "SOCIALACCOUNT_ADAPTER": "sso.adapters.SocialAccountAdapter",
        "ACCOUNT_ADAPTER": "sso.adapters.AccountAdapter",
        "SOCIALACCOUNT_AUTO_SIGNUP": True,
        # Never join an IdP login to an existing account by its e-mail: users are matched by the IdP's subject only.
        "SOCIALACCOUNT_EMAIL_AUTHENTICATION": False,
        "SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT": False,
        "SOCIALACCOUNT_STORE_TOKENS": False,
        "SOCIALACCOUNT_LOGIN_ON_GET": False,  # the login page's buttons POST (CSRF); a bare GET shows a confirmation
        "SOCIALACCOUNT_REQUESTS_TIMEOUT": 5,
        "ACCOUNT_UNIQUE_EMAIL": False,
        "ACCOUNT_EMAIL_VERIFICATION": "none",
        # Passwords are checked only while IVS_PASSWORD_LOGIN is on (sso/backends.py), in every login form.
        "AUTHENTICATION_BACKENDS": _with_password_switch(backends),
        "CONTENT_SECURITY_POLICY": _with_form_origins(csp, providers, site_url),
    }


def _with_password_switch(backends: list[str]) -> list[str]:
    """sso.backends.PasswordLoginSwitch just before Django's ModelBackend."""
    at = backends.index("django.contrib.auth.backends.ModelBackend")
    return [*backends[:at], "sso.backends.PasswordLoginSwitch", *backends[at:]]


def _origin(url: str) -> str:
    return f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"


def _with_form_origins(csp: dict, providers: list[dict], site_url: str) -> dict:
    """The login page's buttons post to this site, which redirects to the IdP: Chromium applies form-action to that
    redirect, so each IdP's origin joins 'self' there (the local IdP is this site: 'self' covers it)."""
    origins = [_origin(p["issuer"]) for p in providers if _origin(p["issuer"]) != _origin(site_url)]
    directives = dict(csp["DIRECTIVES"])
    directives["form-action"] = list(dict.fromkeys([*directives["form-action"], *origins]))
    return {**csp, "DIRECTIVES": directives}
