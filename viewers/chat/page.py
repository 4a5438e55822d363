"""What the player page tells its chat panel (static/js/chat.js), from the room the page's one read found."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

from viewers import validators
from viewers.chat import tokens


def messaging_url(room_arn: str) -> str:
    """The WebSocket the browser chats over: IVS Chat's edge in the room's region, or IVS_CHAT_MESSAGING_URL."""
    return settings.IVS_CHAT_MESSAGING_URL or f"wss://edge.ivschat.{validators.region_of_arn(room_arn)}.amazonaws.com"


def chat_config(request, channel, chat) -> dict | None:
    """The `chat-config` the panel reads; None when the channel has no ready chat room (no panel at all)."""
    if chat is None:
        return None
    user = request.user
    signed_in = user.is_authenticated
    return {
        "tokenUrl": reverse("chat-token", args=[channel.slug]),
        "banUrl": reverse("chat-ban", args=[channel.slug]),  # which checks that the caller moderates
        "messagingUrl": messaging_url(chat.room_arn),
        "userId": user.viewer_id if signed_in else None,
        "displayName": tokens.display_name(user) if signed_in else None,
        # Said by the chat token's answer (views.chat_token), which asks anyway: the player page, the site's hottest,
        # asks the database nothing more for its chat.
        "moderator": False,
        "maxLength": chat.max_length,
        "loginUrl": redirect_to_login(request.get_full_path()).url,
    }
