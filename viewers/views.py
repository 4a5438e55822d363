import functools

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from viewers import access, playback
from viewers.models import Channel


@require_safe
def home(request):
    channels = Channel.objects.listed_for(request.user)
    return render(request, "viewers/home.html", {"channels": channels})


def no_store(view):
    """Player pages carry bearer tokens: no shared cache and no browser cache may keep them."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapped


@no_store
@require_safe
def channel_detail(request, slug):
    channel = get_object_or_404(Channel, slug=slug)
    if channel.is_private and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    decision = access.decide(request.user, channel)
    if not decision.allowed:
        return render(request, "viewers/denied.html", {"channel": channel, "decision": decision}, status=403)

    issued = playback.issue(user=request.user, channel=channel, decision=decision, request=request)
    player_config = {
        "playbackUrl": issued.url,
        "expiresAt": issued.expires_at.timestamp() if issued.expires_at else None,
        "wasmWorker": settings.IVS_PLAYER_WASM_WORKER_URL or None,
        "wasmBinary": settings.IVS_PLAYER_WASM_BINARY_URL or None,
    }
    context = {"channel": channel, "decision": decision, "player_config": player_config}
    return render(request, "viewers/player.html", {**context, "sdk_url": settings.IVS_PLAYER_SDK_URL})
