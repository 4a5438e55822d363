"""The player's heartbeat: "session N of user U is still playing". It mints nothing and writes nothing to the
database: it hands the beat to the store (viewers/attendance/store.py) and answers 204, also when the store is down
(the beat is dropped).

Authenticated by the session cookie together with the ticket the page was given for it (viewers/attendance/
tickets.py): one HMAC instead of loading the session and the user, and no CSRF token needed, since the ticket is a
secret of the page. The fold checks again, in bulk, that the session is the user's."""

import time

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from viewers.attendance import tickets
from viewers.attendance.store import Beat, store
from viewers.client_ip import client_ip
from viewers.player.forms import heartbeat_fields


@csrf_exempt  # the ticket is the page's secret: see the module's docstring
@require_POST
def heartbeat(request):
    fields = heartbeat_fields(request.POST, settings.IVS_HEARTBEAT_SECONDS)
    if fields is None:
        return HttpResponse("Not a heartbeat.", status=400, content_type="text/plain")
    user, session, seconds, final = fields
    cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not tickets.valid(request.POST.get("ticket", ""), cookie, user, session):
        return HttpResponse("Log in first.", status=401, content_type="text/plain")
    store().record(Beat(session, user, seconds, time.time(), client_ip(request), final))
    return HttpResponse(status=204)


PATH = "/heartbeat"


class HeartbeatMiddleware:
    """Answers the heartbeat before the rest of the stack, as /healthz is answered: a beat needs none of it (no
    session load, no user, no CSRF check, no headers for a page), and the stack costs more CPU than the beat itself
    (bench/heartbeats.py). Outermost but for the health checks; the URL is still routed, for reverse()."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == PATH:
            return heartbeat(request)
        return self.get_response(request)
