"""WSGI entry point. Runs the system checks first, so a bad key or setting fails start-up, not requests."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivssite.settings")

application = get_wsgi_application()

from django.db import connections  # noqa: E402

from viewers.startup import fail_on_check_errors  # noqa: E402

fail_on_check_errors()
# gunicorn loads this module once and forks workers (preload_app): connections the checks opened
# must not be shared by the children.
connections.close_all()
