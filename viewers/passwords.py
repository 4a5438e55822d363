"""Password resets: Django's own view and form, with every link built from SITE_URL and a limit on how often.

Django takes a reset link's address from the request (its Host header, port included, which ALLOWED_HOSTS does
not check): `Host: watch.example.com:6666` would send the account's reset token to whoever listens there.

Each reset sends an email, so without a limit anyone can flood an inbox or use the site to send mail. Requests
count per submitted address (casefolded) and per client address (viewers.logins', as the login lockouts count),
before the address is looked up: the answer is the same whether or not it has an account.
"""

import hashlib
import math
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.shortcuts import render

from viewers import logins, ratelimit

HOUR = 3600


class PasswordResetForm(auth_forms.PasswordResetForm):
    def save(self, **kwargs):
        site = urlsplit(settings.SITE_URL)
        return super().save(**{**kwargs, "domain_override": site.netloc, "use_https": site.scheme == "https"})


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm

    def form_valid(self, form):
        retry_after = _throttled(self.request, form.cleaned_data["email"])
        if retry_after:
            context = {"minutes": math.ceil(retry_after / 60)}
            response = render(self.request, "registration/password_reset_throttled.html", context, status=429)
            response["Retry-After"] = str(retry_after)
            return response
        return super().form_valid(form)


def _throttled(request, email: str) -> int:
    """Count this request; the seconds until another may be made, or 0."""
    # Hashed: an address can be 254 characters (too long for a portable cache key) and is not the cache's business.
    digest = hashlib.sha256(email.casefold().encode()).hexdigest()
    waits = [ratelimit.hit(f"reset-email:{digest}", limit=settings.PASSWORD_RESETS_PER_EMAIL, window=HOUR)]
    address = logins.client_address(request)
    if address:  # unknown behind a unix socket without trusted forwarding (check ivs.W041): the email still counts
        waits.append(ratelimit.hit(f"reset-address:{address}", limit=settings.PASSWORD_RESETS_PER_ADDRESS, window=HOUR))
    return max(waits)
