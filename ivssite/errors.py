"""A database outage answers 503 with a friendly page, never a traceback, and recovers by itself.

Django turns an OperationalError into a 500 and logs a traceback per request. During an outage
that is the wrong status (load balancers and browsers should retry) and a flood of identical
tracebacks. Views' database errors are caught here; errors raised elsewhere in the request
(middleware, session save) reach `server_error`, the site's handler500, which tells them apart.
The next request after the database returns gets a fresh connection (CONN_HEALTH_CHECKS).
"""

import logging
import sys

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader

logger = logging.getLogger("ivssite.errors")

UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def database_unavailable(request) -> HttpResponse:
    wants_json = request is not None and request.headers.get("Accept", "").startswith("application/json")
    if wants_json:
        response = JsonResponse(
            {"error": "unavailable", "message": "The site is briefly unavailable. Please try again in a moment."},
            status=503,
        )
    else:
        # No request context: the context processors would ask the session and the user, i.e. the database.
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _log(request, exc) -> None:
    method, path = (request.method, request.path) if request is not None else ("-", "-")
    logger.warning("database unavailable: %s during %s %s; answered 503", type(exc).__name__, method, path)


def _drop_broken_connections() -> None:
    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, UNAVAILABLE):
            _log(request, exception)
            _drop_broken_connections()
            return database_unavailable(request)
        return None


def server_error(request, *args, **kwargs):
    """handler500: a database error raised outside a view is still an outage, not a bug."""
    exc = sys.exc_info()[1]
    if isinstance(exc, UNAVAILABLE):
        _drop_broken_connections()
        return database_unavailable(request)
    return HttpResponseServerError(loader.render_to_string("500.html"))
