"""Property tests (Hypothesis): any JSON body POSTed, PUT or PATCHed to SCIM's Users and Groups ends in a SCIM
answer below 500, and a refused one (4xx) changes no user, group or membership."""

import json

import pytest
from django.contrib.auth.models import Group
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sso.models import IdpGroup, IdpIdentity
from tests.sso.scim.conftest import PATCH_OP, okta_user
from tests.viewers.test_fuzz import json_values
from viewers.models import User

ops = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "replace", "remove", "Replace", "Remove", "nope"]) | json_values},
    optional={
        "path": st.sampled_from(["active", "userName", "members", 'members[value eq "x"]', "displayName", "emails"])
        | json_values,
        "value": json_values | st.fixed_dictionaries({}, optional={"active": json_values, "userName": json_values}),
    },
)
bodies = json_values | st.fixed_dictionaries(
    {"schemas": st.just([PATCH_OP]) | json_values},
    optional={
        "Operations": st.lists(ops, max_size=3) | json_values,
        "userName": json_values,
        "displayName": json_values,
        "members": json_values,
        "active": json_values,
        "emails": json_values,
        "name": json_values,
    },
)


def state():
    return (
        sorted(User.objects.values_list("pk", "username", "email", "first_name", "last_name", "is_active")),
        sorted(IdpIdentity.objects.values_list("pk", "user_name", "external_id")),
        sorted(IdpGroup.objects.values_list("pk", "display_name", "external_id")),
        sorted(Group.objects.values_list("pk", "name")),
        sorted(User.groups.through.objects.values_list("user_id", "group_id")),
    )


@pytest.mark.django_db
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, method=st.sampled_from(["POST", "PUT", "PATCH"]), kind=st.sampled_from(["Users", "Groups"]))
def test_any_body_gets_a_scim_answer_and_a_refusal_writes_nothing(scim, body, method, kind):
    if not IdpIdentity.objects.exists():
        user = scim("POST", "Users", okta_user()).json_body["id"]
        scim("POST", "Groups", {"displayName": "sales", "members": [{"value": user}]})
    target = (
        kind if method == "POST" else f"{kind}/{(IdpIdentity if kind == 'Users' else IdpGroup).objects.first().scim_id}"
    )
    before = state()
    response = scim(method, target, raw=json.dumps(body))
    assert response.status_code < 500, response.json_body
    assert response["Content-Type"] == "application/scim+json"
    if response.status_code >= 400:
        assert state() == before, response.json_body
