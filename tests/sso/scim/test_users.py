"""SCIM Users as Okta and Entra ID send them: look up by userName, create, read, replace, PATCH and delete. Switching
a user off (`active: false`, DELETE) goes through viewers.services: an early reconciliation is booked and the
reconciler ends the stream they were watching. Bad requests get SCIM errors and write nothing."""

import pytest
from allauth.socialaccount.models import SocialAccount
from django_tasks_db.models import DBTaskResult

from sso.models import IdpIdentity
from tests.factories import playing
from tests.sso.idp import idp_user, log_in
from tests.sso.scim.conftest import okta_user, patch
from viewers import reconcile
from viewers.models import Entitlement, SessionEnd, TokenAudit, User

pytestmark = pytest.mark.django_db


def early_runs_booked() -> int:
    return DBTaskResult.objects.ready().filter(task_path=reconcile.reconcile_periodically.module_path).count()


@pytest.fixture
def ann(scim):
    response = scim("POST", "Users", okta_user())
    assert response.status_code == 201, response.json_body
    return response.json_body


def test_okta_looks_up_then_creates_a_user(scim):
    empty = scim("GET", 'Users?filter=userName eq "ann@corp.example"&startIndex=1&count=100').json_body
    assert empty["totalResults"] == 0 and empty["Resources"] == []
    created = scim("POST", "Users", okta_user()).json_body
    user = User.objects.get(idp_identities__scim_id=created["id"])
    assert (user.username, user.email, user.first_name, user.is_active) == (
        "local.ann@corp.example",
        "ann@corp.example",
        "Ann",
        True,
    )
    assert not user.has_usable_password()
    found = scim("GET", 'Users?filter=userName eq "ann@corp.example"').json_body
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == created["id"]
    assert created["meta"]["location"].endswith(f"/scim/v2/Users/{created['id']}")


def test_a_user_name_taken_at_the_same_idp_is_a_409(scim, ann):
    response = scim("POST", "Users", okta_user())
    assert response.status_code == 409 and response.json_body["scimType"] == "uniqueness"
    assert IdpIdentity.objects.count() == 1


def test_okta_deactivates_with_a_patch_and_the_running_stream_stops(scim, ann, private_channel):
    user = User.objects.get(idp_identities__scim_id=ann["id"])
    Entitlement.objects.create(user=user, channel=private_channel)
    session = playing(user, private_channel)
    DBTaskResult.objects.all().delete()
    response = scim("PATCH", f"Users/{ann['id']}", patch({"op": "replace", "value": {"active": False}}))
    assert response.status_code == 200 and response.json_body["active"] is False
    user.refresh_from_db()
    assert not user.is_active and early_runs_booked() == 1
    reconcile.reconcile()
    assert TokenAudit.objects.get(pk=session.pk).end_reason == SessionEnd.REVOKED


def test_entra_deactivates_with_a_path_and_a_string(scim, ann):
    response = scim("PATCH", f"Users/{ann['id']}", patch({"op": "Replace", "path": "active", "value": "False"}))
    assert response.status_code == 200 and not User.objects.get(idp_identities__scim_id=ann["id"]).is_active


def test_reactivating_books_no_run(scim, ann):
    scim("PATCH", f"Users/{ann['id']}", patch({"op": "replace", "value": {"active": False}}))
    DBTaskResult.objects.all().delete()
    scim("PATCH", f"Users/{ann['id']}", patch({"op": "replace", "path": "active", "value": True}))
    assert User.objects.get(idp_identities__scim_id=ann["id"]).is_active and early_runs_booked() == 0


def test_okta_replaces_the_profile_with_put(scim, ann):
    body = okta_user("ann.lee@corp.example", name={"givenName": "Annie", "familyName": "Lee"})
    response = scim("PUT", f"Users/{ann['id']}", body)
    assert response.status_code == 200 and response.json_body["userName"] == "ann.lee@corp.example"
    assert User.objects.get(idp_identities__scim_id=ann["id"]).first_name == "Annie"


def test_entra_patches_attributes_and_unknown_ones_are_ignored(scim, ann):
    response = scim(
        "PATCH",
        f"Users/{ann['id']}",
        patch(
            {"op": "Replace", "path": "name.familyName", "value": "Lee-Smith"},
            {"op": "Add", "path": 'emails[type eq "work"].value', "value": "ann.ls@corp.example"},
            {"op": "Add", "path": "title", "value": "Engineer"},
            {"op": "Replace", "path": "externalId", "value": "ann-object-id"},
        ),
    )
    assert response.status_code == 200
    user = User.objects.get(idp_identities__scim_id=ann["id"])
    assert (user.last_name, user.email) == ("Lee-Smith", "ann.ls@corp.example")
    assert scim("GET", 'Users?filter=externalId eq "ann-object-id"').json_body["totalResults"] == 1


def test_delete_switches_the_account_off_and_scim_forgets_it(scim, ann):
    assert scim("DELETE", f"Users/{ann['id']}").status_code == 204
    assert not User.objects.get(username="local.ann@corp.example").is_active
    assert scim("GET", f"Users/{ann['id']}").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"schemas": [], "Operations": [{"op": "replace", "value": {"active": False}}]},
        patch(),
        patch({"op": "explode", "value": {"active": False}}),
        patch({"op": "replace", "value": "not an object"}),
        patch({"op": "replace", "path": "active", "value": "perhaps"}),
        patch({"op": "replace", "value": {"active": False}}, {"op": "replace", "path": "userName", "value": 7}),
        patch({"op": "remove", "path": "active"}),
        patch({"op": "replace"}),
    ],
)
def test_a_bad_patch_is_a_400_and_writes_nothing(scim, ann, body):
    response = scim("PATCH", f"Users/{ann['id']}", body)
    assert response.status_code == 400 and response.json_body["schemas"][0].endswith(":Error")
    assert User.objects.get(idp_identities__scim_id=ann["id"]).is_active


@pytest.mark.parametrize(
    "raw",
    ["not json", "[1, 2]", '{"userName": ""}', '{"userName": ["x"]}', '{"emails": 5, "userName": "a"}', "\xff"],
)
def test_a_bad_body_is_a_400_and_writes_nothing(scim, raw):
    response = scim("POST", "Users", raw=raw)
    assert response.status_code == 400 and response.json_body["status"] == "400"
    assert not IdpIdentity.objects.exists() and not User.objects.exists()


@pytest.mark.parametrize(
    "query",
    ['filter=userName co "a"', 'filter=password eq "x"', 'filter=userName eq "\\x"', "startIndex=x", "count=-"],
)
def test_a_filter_or_page_it_cannot_read_is_a_400(scim, query):
    assert scim("GET", f"Users?{query}").status_code == 400


def test_an_unknown_or_malformed_id_is_a_404(scim):
    assert scim("GET", "Users/not-a-uuid").status_code == 404
    assert scim("PATCH", "Users/2b1e0d6e-0000-4000-8000-000000000000", patch()).status_code == 404


def test_another_idps_users_are_not_seen(scim, ann):
    IdpIdentity.objects.update(idp="okta")
    assert scim("GET", f"Users/{ann['id']}").status_code == 404
    assert scim("GET", "Users").json_body["totalResults"] == 0


def test_a_user_who_logged_in_first_is_found_by_user_name(scim, client, idp_http):
    from django.test import Client

    idp_user("ann@corp.example")
    log_in(Client(), username="ann@corp.example")
    found = scim("GET", 'Users?filter=userName eq "ann@corp.example"').json_body
    assert found["totalResults"] == 1 and found["Resources"][0]["active"] is True


def test_a_user_scim_made_first_is_the_one_their_first_login_finds(scim, ann, client, idp_http):
    alice = idp_user("ann@corp.example")
    log_in(client, username="ann@corp.example")
    user = User.objects.get(idp_identities__scim_id=ann["id"])
    assert client.session["_auth_user_id"] == str(user.pk)
    assert SocialAccount.objects.get(provider="local", uid=alice.subject).user == user


def test_a_user_scim_switched_off_cannot_log_in(scim, ann, client, idp_http):
    scim("PATCH", f"Users/{ann['id']}", patch({"op": "replace", "value": {"active": False}}))
    idp_user("ann@corp.example")
    assert log_in(client, username="ann@corp.example").status_code == 403
    assert "_auth_user_id" not in client.session
