"""Password login that can be turned off (IVS_PASSWORD_LOGIN=false).

A backend placed before Django's ModelBackend: while password login is off it raises PermissionDenied for every
password, which makes authenticate() give up at once (Django's documented contract), in the site's login form, the
admin's and any other caller. While it is on it steps aside. ModelBackend stays in the list, so sessions opened with
a password keep their backend (and the IdP logins, which do not go through authenticate(), are unaffected)."""

from django.conf import settings
from django.core.exceptions import PermissionDenied


class PasswordLoginSwitch:
    # No get_user(): sessions never name this backend (force_login and allauth pick the first one with it).

    def authenticate(self, request, username=None, password=None, **kwargs):
        if password is not None and not settings.IVS_PASSWORD_LOGIN:
            raise PermissionDenied
        return None
