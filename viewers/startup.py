from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def fail_on_check_errors() -> None:
    """Servers such as gunicorn skip Django's system checks; run ours before serving."""
    errors = [m for m in checks.run_checks(tags=["ivs"]) if m.is_serious()]
    if errors:
        raise ImproperlyConfigured("; ".join(f"{m.id}: {m.msg} {m.hint or ''}".strip() for m in errors))
