"""SCIM requests as Okta and Entra ID send them, with the local IdP's bearer token."""

import json

import pytest

from sso.scim import auth

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


class Scim:
    def __init__(self, client, token):
        self.client, self.token = client, token

    def __call__(self, method, path, body=None, token=None, raw=None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token or self.token}"} if (token or self.token) else {}
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        response = self.client.generic(
            method, f"/scim/v2/{path}", data, content_type="application/scim+json", **headers
        )
        response.json_body = json.loads(response.content) if response.content else None
        return response


@pytest.fixture
def token(db):
    return auth.rotate("local")


@pytest.fixture
def scim(client, token):
    return Scim(client, token)


def okta_user(user_name="ann@corp.example", **extra):
    return {
        "schemas": [USER],
        "userName": user_name,
        "name": {"givenName": "Ann", "familyName": "Lee"},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "displayName": "Ann Lee",
        "active": True,
        **extra,
    }


def patch(*operations):
    return {"schemas": [PATCH_OP], "Operations": list(operations)}
