"""The player's heartbeat: "session N is still playing". Authenticated by the session cookie, it mints nothing and
writes nothing to the database: it hands the beat to the store (viewers/attendance/store.py) and answers 204, also
when the store is down (the beat is dropped). Which session belongs to whom is checked by the fold, in bulk."""

import time

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_POST

from viewers.attendance.store import Beat, store
from viewers.client_ip import client_ip
from viewers.player.forms import heartbeat_fields


@require_POST
def heartbeat(request):
    if not request.user.is_authenticated:
        return HttpResponse("Log in first.", status=401, content_type="text/plain")
    fields = heartbeat_fields(request.POST, settings.IVS_HEARTBEAT_SECONDS)
    if fields is None:
        return HttpResponse("Not a heartbeat.", status=400, content_type="text/plain")
    session, seconds, final = fields
    store().record(Beat(session, request.user.pk, seconds, time.time(), client_ip(request), final))
    return HttpResponse(status=204)
