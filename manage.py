#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    """Run administrative tasks."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivssite.settings")
    try:
        from django.core.exceptions import ImproperlyConfigured
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError(
            "Couldn't import Django. Are you sure it's installed and "
            "available on your PYTHONPATH environment variable? Did you "
            "forget to activate a virtual environment?"
        ) from exc
    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # Usually a shell without the site's environment: the settings' own message says what to set, and a
        # traceback through Django's loader would only bury it.
        print(
            f"manage.py: configuration error: {str(exc).rstrip('.')}. Run manage.py with the site's environment "
            '(docs/CONFIGURATION.md, "Commands and their environment").',
            file=sys.stderr,
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
