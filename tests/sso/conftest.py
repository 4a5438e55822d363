import pytest
from django.contrib.auth.models import Group

from sso.models import IdpGroup
from tests.sso.idp import idp_http  # noqa: F401  (a fixture)
from viewers.models import Entitlement


@pytest.fixture
def sales(private_channel):
    """The IdP group "sales" of the local IdP, entitled to the cast's private channel."""
    group = Group.objects.create(name=IdpGroup.django_name("local", "sales"))
    idp_group = IdpGroup.objects.create(group=group, idp="local", display_name="sales")
    Entitlement.objects.create(group=group, channel=private_channel)
    return idp_group
