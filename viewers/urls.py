from django.urls import path

from viewers.chat import views as chat_views
from viewers.player import heartbeat, views

urlpatterns = [
    path("", views.home, name="home"),
    path("channels/<slug:slug>/", views.channel_detail, name="channel"),
    path("channels/<slug:slug>/playback", views.channel_playback, name="channel-playback"),
    path("channels/<slug:slug>/chat-token", chat_views.chat_token, name="chat-token"),
    path("channels/<slug:slug>/chat-ban", chat_views.chat_ban, name="chat-ban"),
    path(heartbeat.PATH.lstrip("/"), heartbeat.heartbeat, name="heartbeat"),  # answered by its middleware
]
