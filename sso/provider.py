"""The OpenID Connect login: django-allauth's OpenID Connect provider with two checks it leaves out.

allauth does the authorization code flow: discovery, PKCE (S256), a one-time `state` kept in the session, the code
exchange, and the ID token's issuer, audience and expiry through PyJWT. It matches users by (IdP, subject) in its
SocialAccount table. Two gaps are closed here, and only here:

- **nonce**: allauth's generic provider sends none. We send one with every authorization request, keep it in allauth's
  state (so it is spent with the state) and refuse an ID token that does not carry it.
- **signature**: allauth skips the ID token's signature when the token came straight from the token endpoint over
  TLS (OIDC Core 3.1.3.7 allows it). We always check it against the IdP's JWKS: it costs one request, and it stops a
  forged token from a compromised proxy or a misconfigured http:// issuer.

It is registered as allauth provider "sso" (one allauth app per IdP, from SSO_PROVIDERS: ivssite/sso_settings.py);
its login and callback URLs are /accounts/sso/<idp>/login/ and …/login/callback/ (sso/urls.py).
"""

import logging
import secrets

import jwt
import requests
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.base import AuthProcess
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

logger = logging.getLogger("sso")


class SsoAdapter(OpenIDConnectOAuth2Adapter):
    expected_nonce: str | None = None

    def _decode_id_token(self, app, id_token: str) -> dict:
        try:
            claims = jwtkit.verify_and_decode(
                credential=id_token,
                keys_url=self.openid_config["jwks_uri"],
                issuer=self.openid_config["issuer"],
                audience=app.client_id,
                lookup_kid=jwtkit.lookup_kid_jwk,
                verify_signature=True,
            )
        except (KeyError, TypeError, ValueError, jwt.PyJWTError) as exc:  # no kid, a malformed JWKS or header
            raise OAuth2Error("The ID token or the IdP's keys could not be read.") from exc
        nonce, expected = claims.get("nonce"), self.expected_nonce
        if not expected or not isinstance(nonce, str) or not secrets.compare_digest(nonce, expected):
            raise OAuth2Error("The ID token's nonce is not the one this login sent.")
        return claims

    def get_callback_url(self, request, app):
        return request.build_absolute_uri(reverse("sso_callback", kwargs={"provider_id": self.provider_id}))


class SsoProvider(OpenIDConnectProvider):
    id = "sso"
    name = "Single sign-on"
    oauth2_adapter_class = SsoAdapter

    def get_login_url(self, request, **kwargs):
        url = reverse("sso_login", kwargs={"provider_id": self.app.provider_id})
        return f"{url}?{urlencode(kwargs)}" if kwargs else url

    def get_callback_url(self):
        return reverse("sso_callback", kwargs={"provider_id": self.app.provider_id})

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        process = AuthProcess.LOGIN  # never allauth's "connect" or "redirect" flows: this site has no pages for them
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None)
        auth_params = dict(self.get_auth_params() if auth_params is None else auth_params, nonce=nonce)
        return super().redirect(request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs)


class SsoCallbackView(OAuth2CallbackView):
    def _get_state(self, request, provider):
        # allauth pops the state (a replayed one is gone); the nonce it carried is what the ID token must hold.
        state, response = super()._get_state(request, provider)
        self.adapter.expected_nonce = (state or {}).get("nonce")
        return state, response


@require_POST
def login(request, provider_id):
    try:
        return OAuth2LoginView.adapter_view(SsoAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
    except (requests.RequestException, ValueError, KeyError) as exc:
        # The IdP's discovery document could not be had or read: nothing started, say so (not a 500).
        logger.warning("sso: %s's discovery failed: %s", provider_id, exc.__class__.__name__)
        return render(request, "socialaccount/authentication_error.html", status=502)


def callback(request, provider_id):
    try:
        return SsoCallbackView.adapter_view(SsoAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None


provider_classes = [SsoProvider]
