"""The local IdP's endpoints: discovery, JWKS, the authorization page (its own login and consent in one form) and
the token endpoint. The protocol is authlib's (localidp/server.py); these only say who the user is."""

from authlib.oauth2 import OAuth2Error
from django.contrib.auth.hashers import check_password, make_password
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from localidp import keys
from localidp.models import LocalUser
from localidp.server import SCOPES, issuer, server

SESSION_KEY = "localidp_user"  # not Django's login: being signed in here is not being logged in to the site
UNKNOWN_PASSWORD = make_password(None)


@require_GET
def discovery(request):
    base = issuer()
    return JsonResponse(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": sorted(SCOPES),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "preferred_username", "name", "email", "email_verified", "groups"],
        }
    )


@require_GET
def jwks(request):
    return JsonResponse(keys.jwks())


def _signed_in(request) -> LocalUser | None:
    user_id = request.session.get(SESSION_KEY)
    return LocalUser.objects.filter(pk=user_id).first() if user_id else None


@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request):
    user = _signed_in(request)
    try:
        grant = server.get_consent_grant(request, end_user=user)
    except OAuth2Error as error:
        # A bad client or redirect URI: say so here, never redirect to an address nobody checked.
        return render(request, "localidp/error.html", {"error": error.error, "description": error.description}, 400)
    context = {"user": user, "client": "IVS private channels", "scopes": grant.request.payload.scope.split()}
    if request.method == "GET":
        return render(request, "localidp/authorize.html", context)
    if "cancel" in request.POST:
        return server.create_authorization_response(request, grant_user=None, grant=grant)
    if user is None or "username" in request.POST:
        user = _check_password(request.POST.get("username", ""), request.POST.get("password", ""))
        if user is None:
            context["error"] = "Wrong username or password."
            return render(request, "localidp/authorize.html", context, status=401)
        request.session.cycle_key()
        request.session[SESSION_KEY] = user.pk
    return server.create_authorization_response(request, grant_user=user, grant=grant)


def _check_password(username: str, password: str) -> LocalUser | None:
    user = LocalUser.objects.filter(username=username.strip()[:100]).first()
    # The same work for an unknown name, so the answer's time tells nothing.
    if check_password(password, user.password if user else UNKNOWN_PASSWORD) and user is not None:
        return user
    return None


@csrf_exempt  # the site calls it server to server, authenticated by its client secret
@require_POST
def token(request):
    return server.create_token_response(request)


@require_POST
def sign_out(request):
    request.session.pop(SESSION_KEY, None)
    return render(request, "localidp/signed_out.html")
