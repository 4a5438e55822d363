"""SCIM Groups as Okta and Entra ID send them: a group pushed becomes an IdP-managed Django group; members added
and removed by PATCH go through viewers.services, so a member taken out loses the group's entitlements and their
stream stops. Unknown members, taken names and bad paths are refused whole, nothing written."""

import pytest
from django.contrib.auth.models import Group
from django_tasks_db.models import DBTaskResult

from sso.models import IdpGroup
from tests.factories import playing
from tests.sso.scim.conftest import GROUP, okta_user, patch
from viewers import reconcile
from viewers.models import Entitlement, SessionEnd, TokenAudit, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(scim):
    return scim("POST", "Users", okta_user()).json_body


@pytest.fixture
def bea(scim):
    return scim("POST", "Users", okta_user("bea@corp.example")).json_body


@pytest.fixture
def sales(scim):
    response = scim("POST", "Groups", {"schemas": [GROUP], "displayName": "Sales EMEA", "members": []})
    assert response.status_code == 201, response.json_body
    return response.json_body


def members(group_body) -> set[str]:
    return set(IdpGroup.objects.get(scim_id=group_body["id"]).group.user_set.values_list("username", flat=True))


def test_a_pushed_group_is_an_idp_managed_django_group(sales):
    idp_group = IdpGroup.objects.get(scim_id=sales["id"])
    assert (idp_group.idp, idp_group.display_name, idp_group.group.name) == (
        "local",
        "Sales EMEA",
        "Sales EMEA (local)",
    )


def test_a_taken_name_is_a_409(scim, sales):
    assert scim("POST", "Groups", {"displayName": "Sales EMEA"}).status_code == 409
    Group.objects.create(name="Kitchen (local)")  # hand-made, with the name the IdP group would get
    assert scim("POST", "Groups", {"displayName": "Kitchen"}).status_code == 409
    assert IdpGroup.objects.count() == 1


def test_okta_adds_and_removes_members(scim, sales, ann, bea):
    add = patch({"op": "add", "path": "members", "value": [{"value": ann["id"]}, {"value": bea["id"]}]})
    assert scim("PATCH", f"Groups/{sales['id']}", add).status_code == 200
    assert members(sales) == {"local.ann@corp.example", "local.bea@corp.example"}
    remove = patch({"op": "remove", "path": f'members[value eq "{ann["id"]}"]'})
    assert scim("PATCH", f"Groups/{sales['id']}", remove).status_code == 200
    assert members(sales) == {"local.bea@corp.example"}


def test_entra_removes_members_with_a_value_list(scim, sales, ann):
    scim("PATCH", f"Groups/{sales['id']}", patch({"op": "Add", "path": "members", "value": [{"value": ann["id"]}]}))
    scim("PATCH", f"Groups/{sales['id']}", patch({"op": "Remove", "path": "members", "value": [{"value": ann["id"]}]}))
    assert members(sales) == set()


def test_taken_out_of_the_group_the_stream_stops(scim, sales, ann, private_channel):
    group = IdpGroup.objects.get(scim_id=sales["id"]).group
    Entitlement.objects.create(group=group, channel=private_channel)
    scim("PATCH", f"Groups/{sales['id']}", patch({"op": "add", "path": "members", "value": [{"value": ann["id"]}]}))
    user = User.objects.get(idp_identities__scim_id=ann["id"])
    session = playing(user, private_channel)
    DBTaskResult.objects.all().delete()
    scim("PATCH", f"Groups/{sales['id']}", patch({"op": "remove", "path": f'members[value eq "{ann["id"]}"]'}))
    assert DBTaskResult.objects.ready().filter(task_path=reconcile.reconcile_periodically.module_path).count() == 1
    reconcile.reconcile()
    assert TokenAudit.objects.get(pk=session.pk).end_reason == SessionEnd.REVOKED


def test_okta_renames_with_a_value_object(scim, sales):
    body = patch({"op": "replace", "value": {"id": sales["id"], "displayName": "Sales Europe"}})
    assert scim("PATCH", f"Groups/{sales['id']}", body).json_body["displayName"] == "Sales Europe"
    assert Group.objects.filter(name="Sales Europe (local)").exists()


def test_put_replaces_the_members(scim, sales, ann, bea):
    scim("PATCH", f"Groups/{sales['id']}", patch({"op": "add", "path": "members", "value": [{"value": ann["id"]}]}))
    body = {"schemas": [GROUP], "displayName": "Sales EMEA", "members": [{"value": bea["id"]}]}
    assert scim("PUT", f"Groups/{sales['id']}", body).status_code == 200
    assert members(sales) == {"local.bea@corp.example"}


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "add", "path": "members", "value": [{"value": "2b1e0d6e-0000-4000-8000-000000000000"}]},
        {"op": "add", "path": "members", "value": [{"value": "not-a-uuid"}]},
        {"op": "add", "path": "members", "value": [{"nope": 1}]},
        {"op": "replace", "path": "owner", "value": "x"},
        {"op": "replace", "path": "displayName", "value": ""},
    ],
)
def test_a_bad_patch_changes_nothing_not_even_its_good_operations(scim, sales, ann, operation):
    good = {"op": "add", "path": "members", "value": [{"value": ann["id"]}]}
    response = scim("PATCH", f"Groups/{sales['id']}", patch(good, operation))
    assert response.status_code == 400 and members(sales) == set()


def test_another_idps_users_cannot_be_members(scim, sales, ann):
    from sso.models import IdpIdentity

    IdpIdentity.objects.update(idp="okta")
    body = patch({"op": "add", "path": "members", "value": [{"value": ann["id"]}]})
    assert scim("PATCH", f"Groups/{sales['id']}", body).status_code == 400


def test_listing_without_members_as_okta_and_entra_ask(scim, sales, ann):
    scim("PATCH", f"Groups/{sales['id']}", patch({"op": "add", "path": "members", "value": [{"value": ann["id"]}]}))
    listed = scim("GET", 'Groups?filter=displayName eq "Sales EMEA"&excludedAttributes=members').json_body
    assert listed["totalResults"] == 1 and "members" not in listed["Resources"][0]
    full = scim("GET", f"Groups/{sales['id']}").json_body
    assert full["members"] == [{"value": ann["id"], "display": "ann@corp.example"}]


def test_delete_empties_the_group_and_lets_go_of_it(scim, sales, ann, private_channel):
    group = IdpGroup.objects.get(scim_id=sales["id"]).group
    Entitlement.objects.create(group=group, channel=private_channel)
    scim("PATCH", f"Groups/{sales['id']}", patch({"op": "add", "path": "members", "value": [{"value": ann["id"]}]}))
    assert scim("DELETE", f"Groups/{sales['id']}").status_code == 204
    group.refresh_from_db()
    assert not group.user_set.exists() and not IdpGroup.objects.exists()
    assert Entitlement.objects.filter(group=group).exists()  # the operator's grant stays, for the record
    assert scim("POST", "Groups", {"displayName": "Sales EMEA"}).status_code == 201  # the name is free again
