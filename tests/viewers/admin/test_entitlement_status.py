"""The entitlement list's status filter: each choice selects exactly the rows the status column labels so, with
the QuerySet rules of viewers/models/entitlements.py, at a constant number of queries."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from viewers import access
from viewers.models import ENTITLEMENT_STATES, Entitlement, User

ENTITLEMENTS = "/admin/viewers/entitlement/"
# The cast (tests/conftest.py) by state: alice direct and bob through "subscribers" (active), erin (upcoming),
# dave (ended), frank (revoked).
CAST_BY_STATE = {
    "active": {"alice", "subscribers"},
    "upcoming": {"erin"},
    "ended": {"dave"},
    "revoked": {"frank"},
}


@pytest.fixture
def cast(alice, bob, dave, erin, frank):
    return None


def listed(client, **query):
    response = client.get(ENTITLEMENTS, query)
    assert response.status_code == 200
    return response


def holders(response) -> set[str]:
    return {str(row.holder) for row in response.context["cl"].result_list}


def status_column(entitlement) -> str:
    return str(admin.site.get_model_admin(Entitlement).status(entitlement))


@pytest.mark.django_db
@pytest.mark.parametrize(("state", "expected"), CAST_BY_STATE.items())
def test_each_status_choice_lists_exactly_the_entitlements_in_that_state(admin_client, cast, state, expected):
    response = listed(admin_client, status=state)
    assert holders(response) == expected
    assert all(state in status_column(row) for row in response.context["cl"].result_list)


@pytest.mark.django_db
def test_the_filter_offers_the_four_states_and_all(admin_client, cast):
    body = listed(admin_client).content.decode()
    assert "By status" in body
    for state in ENTITLEMENT_STATES:
        assert f"?status={state}" in body


@pytest.mark.django_db
def test_an_unknown_status_lists_everything_rather_than_failing(admin_client, cast):
    assert len(holders(listed(admin_client, status="bogus"))) == 5


@pytest.mark.django_db
@pytest.mark.parametrize("state", ENTITLEMENT_STATES)
def test_in_state_agrees_with_entitlement_state_at_every_boundary(private_channel, now, state):
    """The queryset rule and the status column's rule, on windows that start or end exactly now."""
    user = User.objects.create_user("edge")
    hour = timedelta(hours=1)
    windows = [
        (None, None),
        (now, None),
        (None, now),
        (now - hour, now),
        (now, now + hour),
        (now + hour, None),
        (now - hour, now + hour),
    ]
    for starts, ends in windows:
        for revoked_at in (None, now):
            Entitlement.objects.create(
                user=user, channel=private_channel, starts_at=starts, ends_at=ends, revoked_at=revoked_at
            )
    by_rule = {
        row.pk
        for row in Entitlement.objects.all()
        if access.entitlement_state(row.revoked_at, row.starts_at, row.ends_at, now) == state
    }
    assert by_rule  # every state occurs
    assert set(Entitlement.objects.in_state(state, now).values_list("pk", flat=True)) == by_rule


def grow(n, channel, now):
    """n entitlements in each state, held by users and groups, so lazy loading would show."""
    day = timedelta(days=1)
    windows = {"active": {}, "upcoming": {"starts_at": now + day}, "ended": {"ends_at": now - day}}
    base = Entitlement.objects.count()
    for i in range(base, base + n):
        holder = {"user": User.objects.create_user(f"u{i}")} if i % 2 else {"group": Group.objects.create(name=f"g{i}")}
        for fields in windows.values():
            Entitlement.objects.create(channel=channel, **holder, **fields)
        Entitlement.objects.create(channel=channel, **holder, revoked_at=now)


@pytest.mark.django_db
@pytest.mark.parametrize("state", ENTITLEMENT_STATES)
def test_a_filtered_list_costs_the_same_queries_with_more_rows(
    admin_client, private_channel, now, state, django_assert_max_num_queries
):
    grow(3, private_channel, now)
    with CaptureQueriesContext(connection) as few:
        listed(admin_client, status=state)
    grow(30, private_channel, now)
    with django_assert_max_num_queries(len(few)):
        response = listed(admin_client, status=state)
    assert len(response.context["cl"].result_list) == 33


@pytest.mark.django_db
def test_show_counts_counts_each_state(admin_client, cast):
    body = listed(admin_client, _facets="True").content.decode()
    for label, count in [("Active", 2), ("Upcoming", 1), ("Ended", 1), ("Revoked", 1)]:
        assert f"{label} ({count})" in body
