from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def fail_on_check_errors() -> None:
    """Servers such as gunicorn skip Django's system checks; run them before serving.

    Every registered check, whatever its tag: a Stripe or worker setting that docs/CONFIGURATION.md says start-up
    refuses must stop gunicorn as surely as a bad key. The deployment checks stay with `manage.py check --deploy`, which
    judges the whole deployment (HSTS, cookies) rather than values the site cannot run with.
    """
    errors = [m for m in checks.run_checks() if m.is_serious() and not m.is_silenced()]
    if errors:
        raise ImproperlyConfigured("; ".join(f"{m.id}: {m.msg} {m.hint or ''}".strip() for m in errors))
