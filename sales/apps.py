from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = "Sales (Stripe)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from sales import checks  # noqa: F401  (registers the system checks)
