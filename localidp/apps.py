from django.apps import AppConfig


class LocalIdpConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "localidp"
    verbose_name = "Local identity provider (demo and tests only)"

    def ready(self):
        from localidp import checks  # noqa: F401  (registers the system check)
