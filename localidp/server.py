"""The local OpenID provider, built on authlib's authorization server (a well-kept library, as the site's login
code is django-allauth): the authorization code flow with PKCE (S256, required) and OpenID Connect's ID token
(nonce required, RS256), for the one client the site is. It stands in for Entra ID, Okta or Keycloak in the demo
and the tests, so the site's login code runs exactly as against them.

authlib rather than django-oauth-toolkit: the toolkit's grants belong to the site's own user model (its
AUTH_USER_MODEL), so the IdP's users would be the site's users and logging in at the IdP would log into the site.
This IdP keeps its own users and groups (localidp/models.py) and its own session key.
"""

import hmac
import time
from urllib.parse import urlsplit

from authlib.integrations.django_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from django.conf import settings

from ivssite.sso_settings import LOCAL_IDP_CLIENT_ID, LOCAL_IDP_CLIENT_SECRET, LOCAL_IDP_ID
from localidp import keys
from localidp.models import AuthorizationCode

SCOPES = {"openid", "profile", "email", "groups"}
CALLBACK_PATH = f"/accounts/sso/{LOCAL_IDP_ID}/login/callback/"


def issuer() -> str:
    return settings.LOCAL_IDP_ISSUER


class SiteClient(ClientMixin):
    """The site, registered at this IdP: a confidential client, its secret in ivssite/sso_settings.py."""

    def get_client_id(self):
        return LOCAL_IDP_CLIENT_ID

    def get_default_redirect_uri(self):
        return None  # the site always names its callback

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri):
        # The site's callback on the issuer's own origin: the IdP and the site are one server here.
        parts, own = urlsplit(redirect_uri or ""), urlsplit(issuer())
        return (parts.scheme, parts.netloc, parts.path, parts.query) == (own.scheme, own.netloc, CALLBACK_PATH, "")

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(str(client_secret).encode(), LOCAL_IDP_CLIENT_SECRET.encode())

    def check_endpoint_auth_method(self, method, endpoint):
        return endpoint != "token" or method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


class Server(AuthorizationServer):
    def query_client(self, client_id):
        return SiteClient() if client_id == LOCAL_IDP_CLIENT_ID else None

    def save_token(self, token, request):
        pass  # no userinfo endpoint: the ID token carries every claim, so access tokens are never looked up


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code, request):
        data = request.payload.data
        AuthorizationCode.objects.create(
            code=code,
            client_id=request.client.get_client_id(),
            user=request.user,
            redirect_uri=request.payload.redirect_uri or "",
            scope=request.payload.scope or "",
            nonce=data.get("nonce") or "",
            code_challenge=data.get("code_challenge") or "",
            code_challenge_method=data.get("code_challenge_method") or "",
            auth_time=int(time.time()),
        )

    def query_authorization_code(self, code, client):
        found = AuthorizationCode.objects.filter(code=code, client_id=client.get_client_id()).first()
        return found if found and not found.is_expired() else None

    def delete_authorization_code(self, authorization_code):
        authorization_code.delete()  # a code works once

    def authenticate_user(self, authorization_code):
        return authorization_code.user


class IdToken(OpenIDCode):
    def exists_nonce(self, nonce, request):
        return AuthorizationCode.objects.filter(client_id=request.payload.client_id, nonce=nonce).exists()

    def resolve_client_private_key(self, client):
        return keys.private_key()

    def get_client_algorithm(self, client):
        return "RS256"

    def get_client_claims(self, client):
        return {"iss": issuer(), "aud": [client.get_client_id()]}

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": keys.private_key().kid}

    def generate_user_info(self, user, scope):
        return UserInfo(
            sub=user.subject,
            preferred_username=user.username,
            name=user.name,
            email=user.email,
            email_verified=user.email_verified,
            groups=sorted(user.groups.values_list("name", flat=True)),
        )


server = Server(None, None)
server.register_grant(CodeGrant, [IdToken(require_nonce=True), CodeChallenge(required=True)])
