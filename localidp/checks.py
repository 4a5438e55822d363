from django.conf import settings
from django.core import checks


@checks.register("ivs", deploy=False)
def check_not_in_production(app_configs=None, **kwargs):
    """The local IdP signs in anyone who knows a demo password, with a client secret written in the source: never
    a production identity provider. On without DEBUG it stops start-up; a staging demo that wants it says so loudly."""
    if not settings.IVS_LOCAL_IDP or settings.DEBUG:
        return []
    if settings.IVS_LOCAL_IDP_IN_PRODUCTION_I_KNOW:
        return [
            checks.Warning(
                "The local identity provider is on while DEBUG is off (allowed by IVS_LOCAL_IDP_IN_PRODUCTION_I_KNOW).",
                hint="Fine for a test run; production logs in through a real IdP with IVS_LOCAL_IDP=false.",
                id="localidp.W001",
            )
        ]
    return [
        checks.Error(
            "The local identity provider is on while DEBUG is off.",
            hint="It is a stand-in for the demo and tests: set IVS_LOCAL_IDP=false in production and configure "
            "SSO_PROVIDERS (docs/SSO.md).",
            id="localidp.E001",
        )
    ]
