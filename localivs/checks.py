from django.conf import settings
from django.core import checks


@checks.register("ivs", deploy=False)
def check_not_in_production(app_configs=None, **kwargs):
    if settings.IVS_LOCAL_ORIGIN and not settings.DEBUG:
        return [
            checks.Warning(
                "The local IVS origin is on while DEBUG is off.",
                hint="It is a stand-in for the demo and tests: set IVS_LOCAL_ORIGIN=false in production.",
                id="localivs.W001",
            )
        ]
    return []
