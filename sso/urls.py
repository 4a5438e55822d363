from django.urls import path

from sso import provider, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("sso/<slug:provider_id>/login/", provider.login, name="sso_login"),
    path("sso/<slug:provider_id>/login/callback/", provider.callback, name="sso_callback"),
    # The URL names allauth's flow redirects to.
    path("sso/cancelled/", views.login_cancelled, name="socialaccount_login_cancelled"),
    path("sso/signup/", views.signup_refused, name="socialaccount_signup"),
    path("sso/login/", views.LoginView.as_view(), name="account_login"),
]
