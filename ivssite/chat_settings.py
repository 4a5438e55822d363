"""Chat settings (docs/CHAT.md), read from the environment by ivssite/settings.py.

Kept out of settings.py, which they would push past its size. A bad value stops start-up with ImproperlyConfigured.
"""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured


def configure(env) -> dict:
    messaging_url = env.str("IVS_CHAT_MESSAGING_URL", default="").rstrip("/")
    if messaging_url and (urlsplit(messaging_url).scheme not in ("ws", "wss") or not urlsplit(messaging_url).netloc):
        raise ImproperlyConfigured("IVS_CHAT_MESSAGING_URL must be a ws:// or wss:// URL, or empty (IVS's own).")
    settings = {
        # Where boto3 sends IVS Chat's control-plane calls. Empty: AWS's own endpoint for the room's region. The demo
        # points it at the local stand-in (http://127.0.0.1:8000/ivschat).
        "AWS_ENDPOINT_URL_IVSCHAT": env.str("AWS_ENDPOINT_URL_IVSCHAT", default=""),
        # The WebSocket browsers chat over. Empty: the room's region's wss://edge.ivschat.<region>.amazonaws.com.
        "IVS_CHAT_MESSAGING_URL": messaging_url,
        # Chat tokens per viewer a minute (each is an AWS call): the player asks for one per (re)connection.
        "IVS_CHAT_TOKENS_PER_MINUTE": env.int("IVS_CHAT_TOKENS_PER_MINUTE", default=6),
        # The chat token is the one AWS call a request makes, so it waits little: this long to connect and to read,
        # with one retry; past it the viewer is told chat is unavailable and the page retries later.
        "IVS_CHAT_TOKEN_TIMEOUT_SECONDS": env.float("IVS_CHAT_TOKEN_TIMEOUT_SECONDS", default=1.5),
        # Longest chat session asked of IVS (1 to 180 minutes); shorter when the viewer's access ends sooner.
        "IVS_CHAT_SESSION_MINUTES": env.int("IVS_CHAT_SESSION_MINUTES", default=180),
    }
    if not 1 <= settings["IVS_CHAT_SESSION_MINUTES"] <= 180:
        raise ImproperlyConfigured("IVS_CHAT_SESSION_MINUTES must be between 1 and 180 (IVS's limits).")
    if not 0 < settings["IVS_CHAT_TOKEN_TIMEOUT_SECONDS"] <= 10:
        raise ImproperlyConfigured("IVS_CHAT_TOKEN_TIMEOUT_SECONDS must be more than 0 and at most 10.")
    if settings["IVS_CHAT_TOKENS_PER_MINUTE"] < 1:
        raise ImproperlyConfigured("IVS_CHAT_TOKENS_PER_MINUTE must be at least 1.")
    return settings
