"""Pages for bench/ only, mounted when IVS_BENCH_PAGES is on (never in production).

baseline: what any logged-in page costs (session, user, base template), the floor under the player page.
fetched: the player page without an embedded token, so the browser must fetch one (the other workflow).
before: the player page as it was before issue 13 (templates/bench/player_before.html), embedded token and all,
so the first-frame benchmark compares before and after in one run.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from viewers import access, playback
from viewers.models import Channel
from viewers.views import no_store, player_page_config


@login_required
@require_safe
def baseline(request):
    return render(request, "bench/baseline.html")


@no_store
@login_required
@require_safe
def fetched(request, slug):
    channel = get_object_or_404(Channel, slug=slug)
    decision = access.decide(request.user, channel)
    if not decision.allowed:
        return render(request, "viewers/denied.html", {"channel": channel, "decision": decision}, status=403)
    return render(request, "viewers/player.html", player_page_config(request, channel, decision, issued=None))


@no_store
@login_required
@require_safe
def before(request, slug):
    channel = get_object_or_404(Channel, slug=slug)
    decision = access.decide(request.user, channel)
    if not decision.allowed:
        return render(request, "viewers/denied.html", {"channel": channel, "decision": decision}, status=403)
    issued = playback.issue(user=request.user, channel=channel, decision=decision, request=request)
    return render(request, "bench/player_before.html", player_page_config(request, channel, decision, issued))
