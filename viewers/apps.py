from django.apps import AppConfig


class ViewersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "viewers"

    def ready(self):
        from viewers import checks, signals  # noqa: F401  (registers the system checks and signal handlers)
