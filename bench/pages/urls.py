"""The site's URLs plus the benchmark's pages (bench/settings.py points ROOT_URLCONF here)."""

from django.urls import include, path

from bench.pages import views

urlpatterns = [
    path("bench/baseline/", views.baseline, name="bench-baseline"),
    path("bench/fetched/<slug:slug>/", views.fetched, name="bench-fetched"),
    path("bench/before/<slug:slug>/", views.before, name="bench-before"),
    path("", include("ivssite.urls")),
]
