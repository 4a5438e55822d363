"""IdP groups → Django groups at each login: the groups claim of the verified ID token sets the user's memberships in
that IdP's IdP-managed groups, and only those. Taken out of a group at the IdP, the next login takes them out here,
books an early reconciliation, and the reconciler ends the stream the group's entitlement allowed."""

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import Group
from django_tasks_db.models import DBTaskResult

from sso import groups
from sso.models import IdpGroup
from tests.factories import playing
from tests.sso.idp import idp_user, log_in
from viewers import reconcile
from viewers.models import SessionEnd, TokenAudit

pytestmark = pytest.mark.django_db


def site_user(local_user):
    return SocialAccount.objects.get(provider="local", uid=local_user.subject).user


def early_runs_booked() -> int:
    return DBTaskResult.objects.ready().filter(task_path=reconcile.reconcile_periodically.module_path).count()


def test_a_user_in_the_idp_group_may_watch_what_the_group_is_entitled_to(client, idp_http, sales):
    idp_user("idp-alice", groups=["sales", "kitchen"])
    log_in(client)
    assert client.get("/channels/main-event/").status_code == 200
    assert [g.name for g in site_user_of_session(client).groups.all()] == ["sales (local)"]  # kitchen: no IdP group


def site_user_of_session(client):
    from viewers.models import User

    return User.objects.get(pk=client.session["_auth_user_id"])


def test_outside_the_idp_group_the_channel_is_refused(client, idp_http, sales):
    idp_user("idp-alice", groups=["kitchen"])
    log_in(client)
    assert client.get("/channels/main-event/").status_code == 403


def test_taken_out_of_the_group_at_the_idp_the_next_login_withdraws_access_and_stops_the_stream(
    client, idp_http, sales, private_channel
):
    alice = idp_user("idp-alice", groups=["sales"])
    log_in(client)
    user = site_user(alice)
    session = playing(user, private_channel)
    alice.groups.clear()  # at the IdP
    client.post("/accounts/logout/")
    DBTaskResult.objects.all().delete()
    log_in(client)
    assert not user.groups.exists() and early_runs_booked() == 1
    assert client.get("/channels/main-event/").status_code == 403
    reconcile.reconcile()
    assert TokenAudit.objects.get(pk=session.pk).end_reason == SessionEnd.REVOKED


def test_hand_made_groups_are_left_alone(client, idp_http, sales, subscribers):
    alice = idp_user("idp-alice", groups=["sales", "subscribers"])  # a claim value naming a hand-made group
    log_in(client)
    user = site_user(alice)
    user.groups.add(subscribers)  # an operator adds them by hand
    alice.groups.clear()
    client.post("/accounts/logout/")
    log_in(client)
    assert list(user.groups.all()) == [subscribers]


def test_another_idps_groups_are_left_alone(client, idp_http, sales):
    okta = IdpGroup.objects.create(group=Group.objects.create(name="sales (okta)"), idp="okta", display_name="sales")
    alice = idp_user("idp-alice", groups=[])
    log_in(client)
    user = site_user(alice)
    user.groups.add(okta.group)
    client.post("/accounts/logout/")
    log_in(client)
    assert list(user.groups.all()) == [okta.group]


def test_a_group_is_found_by_the_idps_id_too(client, idp_http, sales):
    sales.external_id = "3f2c9a60-0000-4000-8000-000000000001"  # Entra ID's groups claim carries object ids
    sales.save()
    idp_user("idp-alice", groups=["3f2c9a60-0000-4000-8000-000000000001"])
    log_in(client)
    assert client.get("/channels/main-event/").status_code == 200


class TestTheClaim:
    def test_no_claim_keeps_the_memberships(self, sales, carol):
        carol.groups.add(sales.group)
        assert groups.sync_from_claims(carol, "local", {"sub": "x"}, "groups") == (0, 0)
        assert carol.groups.filter(pk=sales.group_id).exists()

    def test_an_overage_keeps_the_memberships(self, sales, carol, caplog):
        carol.groups.add(sales.group)
        claims = {"sub": "x", "_claim_names": {"groups": "src1"}, "_claim_sources": {"src1": {"endpoint": "…"}}}
        assert groups.sync_from_claims(carol, "local", claims, "groups") == (0, 0)
        assert "left out" in caplog.text

    def test_an_empty_list_removes_them(self, sales, carol):
        carol.groups.add(sales.group)
        assert groups.sync_from_claims(carol, "local", {"groups": []}, "groups") == (0, 1)

    def test_a_malformed_claim_keeps_the_memberships(self, sales, carol):
        carol.groups.add(sales.group)
        assert groups.sync_from_claims(carol, "local", {"groups": {"a": 1}}, "groups") == (0, 0)

    def test_a_configured_claim_name_is_read(self, sales, carol):
        assert groups.sync_from_claims(carol, "local", {"roles": ["sales"], "groups": []}, "roles") == (1, 0)
