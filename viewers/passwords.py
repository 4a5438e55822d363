"""Password resets: Django's own view and form, with every link built from SITE_URL.

Django takes a reset link's address from the request (its Host header, port included, which ALLOWED_HOSTS does
not check): `Host: watch.example.com:6666` would send the account's reset token to whoever listens there.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import forms as auth_forms


class PasswordResetForm(auth_forms.PasswordResetForm):
    def save(self, **kwargs):
        site = urlsplit(settings.SITE_URL)
        return super().save(**{**kwargs, "domain_override": site.netloc, "use_https": site.scheme == "https"})
