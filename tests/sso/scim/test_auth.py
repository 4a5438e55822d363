"""SCIM needs the IdP's bearer token: without one, with a wrong one or another IdP's old one, every endpoint answers
401 with a SCIM error body and writes nothing. The token is stored as its hash only."""

import hashlib

import pytest

from sso.models import ScimToken
from sso.scim import auth
from tests.sso.scim.conftest import Scim, okta_user
from viewers.models import User

pytestmark = pytest.mark.django_db
ENDPOINTS = [("GET", "Users"), ("POST", "Users"), ("PATCH", "Users/x"), ("DELETE", "Groups/x"), ("GET", "Groups")]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("presented", ["", "ivs-scim-wrong", "Basic dXNlcjpwYXNz", "ivs-scim-" + "x" * 300])
def test_without_the_right_token_it_is_a_401_with_a_scim_body_and_nothing_written(
    client, token, method, path, presented
):
    users = User.objects.count()
    headers = {"HTTP_AUTHORIZATION": presented if presented.startswith("Basic") else f"Bearer {presented}"}
    response = client.generic(method, f"/scim/v2/{path}", '{"userName": "x"}', **(headers if presented else {}))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/scim+json"
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert User.objects.count() == users and ScimToken.objects.get().last_used_at is None


def test_the_right_token_is_let_in(scim):
    assert scim("GET", "Users").status_code == 200


def test_only_the_hash_is_stored(token):
    row = ScimToken.objects.get()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in str(row.__dict__)


def test_rotating_stops_the_old_token_at_once(client, token):
    new = auth.rotate("local")
    assert Scim(client, token)("GET", "Users").status_code == 401
    assert Scim(client, new)("GET", "Users").status_code == 200


def test_a_token_of_an_idp_no_longer_configured_is_refused(client, settings, token):
    settings.SSO_PROVIDER_IDS = []
    assert Scim(client, token)("GET", "Users").status_code == 401


def test_each_request_is_recorded_for_the_admin_without_its_query(scim):
    scim("GET", 'Users?filter=userName eq "ann@corp.example"')
    row = ScimToken.objects.get()
    assert (row.last_method, row.last_path, row.last_status) == ("GET", "/scim/v2/Users", 200)
    assert scim("POST", "Users", {"userName": 5}).status_code == 400
    row.refresh_from_db()
    assert row.last_status == 400 and "userName" in row.last_detail


def test_an_unknown_endpoint_is_a_scim_404(scim):
    response = scim("GET", "Bulk")
    assert response.status_code == 404 and response.json_body["status"] == "404"


def test_a_method_the_endpoint_lacks_is_a_scim_405(scim):
    assert scim("DELETE", "Users").status_code == 405


def test_the_service_provider_config_says_patch_and_filter(scim):
    body = scim("GET", "ServiceProviderConfig").json_body
    assert body["patch"]["supported"] and body["filter"]["supported"] and not body["bulk"]["supported"]


def test_the_new_user_of_a_bad_request_does_not_exist(scim):
    assert scim("POST", "Users", okta_user(active="maybe")).status_code == 400
    assert not User.objects.filter(username__startswith="local.").exists()
