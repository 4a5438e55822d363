from django.urls import path

from localidp import views

urlpatterns = [
    path(".well-known/openid-configuration", views.discovery, name="localidp-discovery"),
    path("jwks", views.jwks, name="localidp-jwks"),
    path("authorize", views.authorize, name="localidp-authorize"),
    path("token", views.token, name="localidp-token"),
    path("sign-out", views.sign_out, name="localidp-sign-out"),
]
