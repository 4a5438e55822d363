"""WSGI entry point. Runs the playback checks first, so a bad key fails start-up, not requests."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivssite.settings")

application = get_wsgi_application()

from viewers.startup import fail_on_check_errors  # noqa: E402

fail_on_check_errors()
