from django.urls import path

from viewers.player import heartbeat, views

urlpatterns = [
    path("", views.home, name="home"),
    path("channels/<slug:slug>/", views.channel_detail, name="channel"),
    path("channels/<slug:slug>/playback", views.channel_playback, name="channel-playback"),
    path(heartbeat.PATH.lstrip("/"), heartbeat.heartbeat, name="heartbeat"),  # answered by its middleware
]
