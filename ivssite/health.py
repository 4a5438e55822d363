"""Health endpoints for load balancers and orchestrators.

/healthz  liveness: the process answers. Touches nothing else, so a database outage does not get
          every app server restarted.
/readyz   readiness: the database answers (503 if not: take this server out of rotation) and the
          cache answers (if not, the site still serves, degraded, so this stays 200).

Both are answered by the outermost middleware: before host validation (probes often use the
server's IP as Host), before the https redirect, without sessions. They never say more than
"ok"/"unavailable": no host names, versions or error text; the reason goes to the log.
"""

import json
import logging

from django.core.cache import caches
from django.db import DatabaseError, connections
from django.http import HttpResponse

logger = logging.getLogger("ivssite.health")

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == LIVENESS_PATH:
            return _json(200, {"status": "ok"})
        if request.path == READINESS_PATH:
            return readiness()
        return self.get_response(request)


def readiness() -> HttpResponse:
    checks = {"database": _database_ok(), "cache": _cache_ok()}
    if not checks["database"]:
        status = "unavailable"
    elif not checks["cache"]:
        status = "degraded"  # serving on the fallbacks: keep it in rotation
    else:
        status = "ok"
    body = {"status": status, **{name: "ok" if ok else "unavailable" for name, ok in checks.items()}}
    return _json(503 if status == "unavailable" else 200, body)


def _database_ok() -> bool:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("readiness: database unavailable (%s)", type(exc).__name__)
        # A persistent connection that just failed must not be handed to the next request.
        connection.close_if_unusable_or_obsolete()
        return False
    return True


def _cache_ok() -> bool:
    ok = True
    seen = set()
    for alias in ("default", "sessions"):
        cache = caches[alias]
        if id(cache) in seen or not hasattr(cache, "ping"):
            continue  # per-process memory caches are always there
        seen.add(id(cache))
        if not cache.ping():
            logger.warning("readiness: cache %r unavailable", alias)
            ok = False
    return ok


def _json(status: int, body: dict) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response
