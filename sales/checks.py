from django.conf import settings
from django.core.checks import Error, register

CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"


@register()
def check_sales_settings(app_configs, **kwargs):
    errors = []
    secret = settings.STRIPE_WEBHOOK_SECRET
    if secret and not secret.startswith("whsec_"):
        errors.append(
            Error(
                "STRIPE_WEBHOOK_SECRET does not look like a webhook signing secret.",
                hint="Copy the endpoint's signing secret (whsec_…) from Stripe's dashboard, not an API key.",
                id="sales.E001",
            )
        )
    if settings.STRIPE_WEBHOOK_TOLERANCE <= 0:
        errors.append(
            Error(
                "STRIPE_WEBHOOK_TOLERANCE must be a positive number of seconds; 0 turns the timestamp check off, "
                "so a captured delivery could be replayed at any time.",
                hint="Leave it at Stripe's default, 300.",
                id="sales.E003",
            )
        )
    if not settings.DEBUG and settings.EMAIL_BACKEND == CONSOLE_BACKEND:
        errors.append(
            Error(
                "EMAIL_URL is consolemail:// outside DEBUG: invitation links would be written to the log.",
                hint="Set EMAIL_URL to your SMTP server, e.g. smtp+tls://user:password@smtp.example.com:587.",
                id="sales.E002",
            )
        )
    return errors
