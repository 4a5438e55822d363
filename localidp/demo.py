"""The demo's single sign-on: an IdP user in an IdP group entitled to the Demo Event (`manage.py demo`)."""

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from ivssite.sso_settings import LOCAL_IDP_ID
from localidp.models import LocalGroup, LocalUser
from sso.models import IdpGroup
from viewers.models import Entitlement

USERNAME = "idp-viewer"
GROUP = "demo-viewers"


def seed(channel, password: str) -> None:
    """Created when missing; what an operator changed (the user's groups at the IdP, the entitlement) is kept."""
    local_group, _ = LocalGroup.objects.get_or_create(name=GROUP)
    user = LocalUser.objects.filter(username=USERNAME).first()
    if user is None:
        user = LocalUser.objects.create(
            username=USERNAME,
            password=make_password(password),
            name="Idp Viewer",
            email="idp-viewer@demo.invalid",
            email_verified=True,
        )
        user.groups.add(local_group)
    idp_group = IdpGroup.objects.filter(idp=LOCAL_IDP_ID, display_name=GROUP).first()
    if idp_group is None:
        group, _ = Group.objects.get_or_create(name=IdpGroup.django_name(LOCAL_IDP_ID, GROUP))
        idp_group = IdpGroup.objects.create(group=group, idp=LOCAL_IDP_ID, display_name=GROUP)
    if not Entitlement.objects.filter(group=idp_group.group, channel=channel).exists():
        Entitlement.objects.create(group=idp_group.group, channel=channel, note="demo: through the IdP group")


def how_to_log_in(password: str) -> list[str]:
    return [
        f"  {USERNAME:<10} / {password}   single sign-on: press “Log in with Local IdP”, sign in at the local IdP;",
        f"  {'':<10}   entitled through the IdP group '{GROUP}' (take them out of it at /admin/localidp/ to refuse)",
    ]
