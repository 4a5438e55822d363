from django.conf import settings
from django.core import checks


@checks.register("ivs")
def check_some_login(app_configs=None, **kwargs):
    """With password login off, an identity provider is the only way in: without one nobody could log in."""
    if settings.IVS_PASSWORD_LOGIN or settings.SSO_PROVIDER_IDS:
        return []
    return [
        checks.Error(
            "IVS_PASSWORD_LOGIN is off and no identity provider is configured: nobody could log in.",
            hint="Configure SSO_PROVIDERS (docs/SSO.md), or leave IVS_PASSWORD_LOGIN on.",
            id="sso.E001",
        )
    ]
