from django.conf import settings
from django.core import checks


@checks.register("ivs", deploy=False)
def check_not_in_production(app_configs=None, **kwargs):
    """The stand-in accepts tokens for any registered channel and serves a test pattern: never a production origin.
    Its IVS Chat (/ivschat/ and `manage.py localivs_chat`) is on with it, and takes calls from anyone who reaches it.

    Left on by mistake without DEBUG it must stop start-up; a staging demo that really wants it says so loudly."""
    if not settings.IVS_LOCAL_ORIGIN or settings.DEBUG:
        return []
    if settings.IVS_LOCAL_ORIGIN_IN_PRODUCTION_I_KNOW:
        return [
            checks.Warning(
                "The local IVS origin (and its IVS Chat) is on while DEBUG is off (allowed by "
                "IVS_LOCAL_ORIGIN_IN_PRODUCTION_I_KNOW).",
                hint="Fine for a staging demo; production plays from IVS, and chats on IVS Chat, with "
                "IVS_LOCAL_ORIGIN=false.",
                id="localivs.W001",
            )
        ]
    return [
        checks.Error(
            "The local IVS origin (and its IVS Chat) is on while DEBUG is off.",
            hint="It is a stand-in for the demo and tests: set IVS_LOCAL_ORIGIN=false in production. A staging demo "
            "that needs it without DEBUG also sets IVS_LOCAL_ORIGIN_IN_PRODUCTION_I_KNOW=true.",
            id="localivs.E001",
        )
    ]
