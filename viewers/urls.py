from django.conf import settings
from django.urls import path

from viewers.player import views

urlpatterns = [
    path("", views.home, name="home"),
    path("channels/<slug:slug>/", views.channel_detail, name="channel"),
    path("channels/<slug:slug>/playback", views.channel_playback, name="channel-playback"),
]

if settings.IVS_BENCH_PAGES:
    from viewers import bench_views

    urlpatterns += [
        path("bench/baseline/", bench_views.baseline, name="bench-baseline"),
        path("bench/fetched/<slug:slug>/", bench_views.fetched, name="bench-fetched"),
        path("bench/before/<slug:slug>/", bench_views.before, name="bench-before"),
    ]
