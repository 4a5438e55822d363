"""Pages for bench/ only, mounted by bench/settings.py (never by the site).

baseline: what any logged-in page costs (session, user, base template), the floor under the player page.
fetched: the player page without an embedded token, so the browser must fetch one (the other workflow).
before: the player page as it was before issue 13 (bench/pages/templates/bench/player_before.html), embedded token
and all, so the first-frame benchmark compares before and after in one run.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from viewers import access
from viewers.player import pageread, playback
from viewers.player.views import denied, no_store, player_page_config


@login_required
@require_safe
def baseline(request):
    return render(request, "bench/baseline.html")


@no_store
@login_required
@require_safe
def fetched(request, slug):
    channel, decision, refusal = _allowed(request, slug)
    if refusal:
        return refusal
    return render(request, "viewers/player.html", player_page_config(request, channel, decision, issued=None))


@no_store
@login_required
@require_safe
def before(request, slug):
    channel, decision, refusal = _allowed(request, slug)
    if refusal:
        return refusal
    issued = playback.issue(user=request.user, channel=channel, decision=decision, request=request)
    return render(request, "bench/player_before.html", player_page_config(request, channel, decision, issued))


def _allowed(request, slug):
    """The player page's own read and decision (viewers/player/views.py), so the bench pages differ from it only where
    they mean to: no embedded token, or the old template."""
    now = timezone.now()
    page = pageread.read(slug, request.user, now, page_limit=settings.IVS_PLAYER_PAGES_PER_MINUTE)
    if page.channel is None:
        raise Http404("No such channel.")
    decision = access.decide(request.user, page.channel, now, held=page.held)
    if not decision.allowed:
        return page.channel, decision, denied(request, page.channel, decision)
    return page.channel, decision, None
