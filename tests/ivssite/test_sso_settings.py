"""SSO_PROVIDERS, read at start-up (ivssite/sso_settings.py): a JSON list of IdPs; a bad one stops start-up with a
message that says what to fix. No database."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from ivssite import sso_settings

OKTA = {
    "id": "okta",
    "name": "Okta",
    "issuer": "https://acme.okta.com",
    "client_id": "0oa1",
    "client_secret": "s3cret",
}


def test_no_providers_is_an_empty_list():
    assert sso_settings.parse_providers("") == []


def test_a_provider_becomes_an_allauth_app_with_pkce_and_the_id_tokens_claims():
    [provider] = sso_settings.parse_providers(json.dumps([{**OKTA, "groups_claim": "roles"}]))
    app = sso_settings.allauth_app(provider)
    assert (app["provider_id"], app["client_id"], app["secret"]) == ("okta", "0oa1", "s3cret")
    assert app["settings"]["server_url"] == "https://acme.okta.com" and app["settings"]["oauth_pkce_enabled"]
    assert app["settings"]["fetch_userinfo"] is False and app["settings"]["groups_claim"] == "roles"
    assert app["settings"]["uid_field"] == "sub"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not valid JSON"),
        ('{"id": "okta"}', "must be a JSON list"),
        ("[1]", "must be a JSON object"),
        (json.dumps([{**OKTA, "client_secret": ""}]), "lacks client_secret"),
        (json.dumps([{**OKTA, "colour": "red"}]), "unknown keys: colour"),
        (json.dumps([{**OKTA, "id": "Okta Prod"}]), "must be unique"),
        (json.dumps([OKTA, OKTA]), "must be unique"),
        (json.dumps([{**OKTA, "issuer": "acme.okta.com"}]), "issuer must be"),
        (json.dumps([{**OKTA, "issuer": "https://acme.okta.com/?x=1"}]), "issuer must be"),
    ],
)
def test_a_bad_value_stops_start_up_saying_what_to_fix(text, says):
    with pytest.raises(ImproperlyConfigured, match=says):
        sso_settings.parse_providers(text)


def test_the_secret_may_come_from_a_file(tmp_path, monkeypatch):
    import environ

    path = tmp_path / "providers.json"
    path.write_text(json.dumps([OKTA]))
    monkeypatch.delenv("SSO_PROVIDERS", raising=False)
    monkeypatch.setenv("SSO_PROVIDERS_FILE", str(path))
    assert sso_settings._providers_text(environ.Env()) == json.dumps([OKTA])
    monkeypatch.setenv("SSO_PROVIDERS_FILE", str(tmp_path / "missing.json"))
    with pytest.raises(ImproperlyConfigured, match="SSO_PROVIDERS_FILE cannot be read"):
        sso_settings._providers_text(environ.Env())


def test_an_idps_origin_joins_form_action_and_the_site_itself_does_not():
    csp = {"DIRECTIVES": {"form-action": ["'self'"]}}
    providers = [OKTA, {**OKTA, "id": "local", "issuer": "http://127.0.0.1:8000/idp"}]
    merged = sso_settings._with_form_origins(csp, providers, "http://127.0.0.1:8000")
    assert merged["DIRECTIVES"]["form-action"] == ["'self'", "https://acme.okta.com"]


def test_the_password_switch_sits_just_before_djangos_backend():
    backends = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
    assert sso_settings._with_password_switch(backends) == [
        "axes.backends.AxesStandaloneBackend",
        "sso.backends.PasswordLoginSwitch",
        "django.contrib.auth.backends.ModelBackend",
    ]
