"""Single sign-on in the admin: IdP groups and their members (read-only once the IdP owns them), the SCIM tokens with
each IdP's last request, and rotation, which shows the new token once, to staff who may change tokens only."""

import hashlib
import re

import pytest
from allauth.socialaccount.models import SocialApp, SocialToken
from django.contrib import admin
from django.contrib.auth.models import Group, Permission

from sso.models import IdpGroup, ScimToken
from sso.scim import auth
from tests.factories import make_user

pytestmark = pytest.mark.django_db
ROTATE = "/admin/sso/scimtoken/rotate/"


def staff_with(client, *codenames):
    user = make_user("staffer", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return user


def test_allauths_pages_with_secrets_are_not_in_the_admin():
    assert not admin.site.is_registered(SocialApp) and not admin.site.is_registered(SocialToken)


def test_an_operator_adds_an_idp_group_for_a_groups_claim(admin_client):
    response = admin_client.post(
        "/admin/sso/idpgroup/add/", {"idp": "local", "display_name": "Sales EMEA", "external_id": ""}
    )
    assert response.status_code == 302
    assert IdpGroup.objects.get().group == Group.objects.get(name="Sales EMEA (local)")


def test_an_idp_group_cannot_take_a_hand_made_groups_name(admin_client):
    Group.objects.create(name="Sales EMEA (local)")
    response = admin_client.post("/admin/sso/idpgroup/add/", {"idp": "local", "display_name": "Sales EMEA"})
    assert response.status_code == 200 and not IdpGroup.objects.exists()


def test_an_idp_group_page_lists_its_members_and_its_name_cannot_be_changed(admin_client, world):
    idp_group = IdpGroup.objects.get()
    page = admin_client.get(f"/admin/sso/idpgroup/{idp_group.pk}/change/").content.decode()
    assert "ida" in page and "Members (set by the IdP)" in page
    admin_client.post(f"/admin/sso/idpgroup/{idp_group.pk}/change/", {"display_name": "renamed", "idp": "okta"})
    idp_group.refresh_from_db()
    assert (idp_group.display_name, idp_group.idp) == ("sales", "local")


def test_the_token_list_shows_each_idps_last_request_and_no_token(admin_client, client, token_pair):
    token, _ = token_pair
    client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {token}")
    page = admin_client.get("/admin/sso/scimtoken/").content.decode()
    assert "GET /scim/v2/Users → 200" in page and "ivs-scim-" not in page
    assert ScimToken.objects.get().token_hash not in page


@pytest.fixture
def token_pair(db):
    token = auth.rotate("local")
    return token, ScimToken.objects.get()


def test_rotation_shows_the_new_token_once_and_the_old_one_stops(admin_client, client, token_pair):
    old, _ = token_pair
    response = admin_client.post(ROTATE, {"idp": "local"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    new = re.search(r'value="(ivs-scim-[^"]+)"', response.content.decode()).group(1)
    assert ScimToken.objects.get().token_hash == hashlib.sha256(new.encode()).hexdigest()
    assert client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {old}").status_code == 401
    assert client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {new}").status_code == 200
    assert new not in admin_client.get(ROTATE).content.decode()  # once
    assert new not in admin_client.get("/admin/sso/scimtoken/").content.decode()


def test_view_only_staff_may_not_rotate_and_see_no_link_to_it(client, token_pair):
    _, row = token_pair
    staff_with(client, "view_scimtoken")
    assert client.get(ROTATE).status_code == 403
    assert client.post(ROTATE, {"idp": "local"}).status_code == 403
    assert ScimToken.objects.get().token_hash == row.token_hash
    assert "Make or rotate" not in client.get("/admin/sso/scimtoken/").content.decode()


def test_staff_who_may_add_and_change_tokens_rotate(client, token_pair):
    _, row = token_pair
    staff_with(client, "view_scimtoken", "add_scimtoken", "change_scimtoken")
    assert "Make or rotate" in client.get("/admin/sso/scimtoken/").content.decode()
    assert client.post(ROTATE, {"idp": "local"}).status_code == 200
    assert ScimToken.objects.get().token_hash != row.token_hash


def test_rotation_refuses_an_idp_that_is_not_configured(admin_client):
    response = admin_client.post(ROTATE, {"idp": "nobody"})
    assert response.status_code == 200 and not ScimToken.objects.exists()
