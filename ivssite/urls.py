from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from viewers import passwords

admin.site.site_header = "IVS private channels"
admin.site.site_title = "IVS channels admin"

urlpatterns = [
    # Before Django's own: reset links go to SITE_URL, never to the Host the request named, and are rate-limited.
    path("accounts/password_reset/", passwords.PasswordResetView.as_view(), name="password_reset"),
    # Before Django's own: the login page with the identity providers' buttons, and allauth's login flow (sso/).
    path("accounts/", include("sso.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("scim/v2/", include("sso.scim.urls")),
    path("admin/", admin.site.urls),
    path("", include("sales.urls")),
    path("", include("viewers.urls")),
]

if settings.IVS_LOCAL_ORIGIN:
    urlpatterns.insert(0, path("ivs/", include("localivs.urls")))
    urlpatterns.insert(0, path("ivschat/", include("localivs.chat_urls")))
if settings.IVS_LOCAL_IDP:
    urlpatterns.insert(0, path("idp/", include("localidp.urls")))

# A database outage raised outside a view still answers 503, not 500 (ivssite/errors.py).
handler500 = "ivssite.errors.server_error"
