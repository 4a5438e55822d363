from django.apps import AppConfig


class LocalIvsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "localivs"
    verbose_name = "Local IVS origin (demo and tests only)"

    def ready(self):
        from localivs import checks  # noqa: F401  (registers the system check)
