from django.apps import AppConfig


class SsoConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sso"
    verbose_name = "Single sign-on"

    def ready(self):
        from sso import adapters, checks  # noqa: F401  (the login receiver, the system checks)
