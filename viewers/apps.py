from django.apps import AppConfig


class ViewersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "viewers"

    def ready(self):
        # Registers the system checks (the stream state's period's too) and the signal handlers.
        from viewers import checks, signals, stream_state  # noqa: F401
