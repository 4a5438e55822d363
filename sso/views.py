"""The login page with a button per identity provider, and the few pages allauth's flow ends on."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect


def identity_providers() -> list[dict]:
    return [
        {"id": app["provider_id"], "name": app["name"]}
        for app in settings.SOCIALACCOUNT_PROVIDERS.get("sso", {}).get("APPS", [])
    ]


class LoginView(auth_views.LoginView):
    """Django's login view, with the IdPs' buttons; its password form only while IVS_PASSWORD_LOGIN is on (the
    password itself is refused by sso.backends.PasswordLoginSwitch when it is off, whatever page posts it)."""

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "identity_providers": identity_providers(),
            "password_login": settings.IVS_PASSWORD_LOGIN,
        }


def login_cancelled(request):
    messages.info(request, "The login at your identity provider was cancelled.")
    return redirect("login")


def signup_refused(request):
    # allauth sends a login it cannot finish on its own to a sign-up form; this site has none.
    messages.error(request, "That login could not be completed. Ask an operator to check the identity provider.")
    return redirect("login")
