from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from viewers.throttle import ThrottledLoginView

admin.site.site_header = "IVS private channels"
admin.site.site_title = "IVS channels admin"

urlpatterns = [
    # Before the auth include: the same login form, with brute-force protection and a lockout page.
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("sales.urls")),
    path("", include("viewers.urls")),
]

if settings.IVS_LOCAL_ORIGIN:
    urlpatterns.insert(0, path("ivs/", include("localivs.urls")))

# A database outage raised outside a view still answers 503, not 500 (ivssite/errors.py).
handler500 = "ivssite.errors.server_error"
