"""The admin's lists cost a constant number of queries, however many rows they page through."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import audit_row, playback_url_for
from viewers.models import Channel, Entitlement, TokenAudit, User

ENTITLEMENTS = "/admin/viewers/entitlement/"


AUDITS = "/admin/viewers/tokenaudit/"


def make_entitlements(count):
    """`count` entitlements spread over users, groups and channels, so lazy loading would show."""
    channels = [
        Channel.objects.create(
            name=f"Channel {i}",
            slug=f"c{i}",
            arn=f"arn:aws:ivs:us-west-2:123456789012:channel/Chan{i:03d}",
            playback_url=playback_url_for(f"arn:aws:ivs:us-west-2:123456789012:channel/Chan{i:03d}"),
        )
        for i in range(Channel.objects.count(), Channel.objects.count() + 3)
    ]
    start = Entitlement.objects.count()
    for i in range(start, start + count):
        channel = channels[i % len(channels)]
        if i % 2:
            group = Group.objects.create(name=f"group-{i}")
            Entitlement.objects.create(group=group, channel=channel, ends_at=timezone.now() + timedelta(days=1))
        else:
            user = User.objects.create_user(f"user-{i}")
            Entitlement.objects.create(user=user, channel=channel, revoked_at=timezone.now() if i % 4 == 0 else None)


def make_audits(count, now):
    user = User.objects.create_user(f"watcher-{TokenAudit.objects.count()}")
    for i in range(count):
        arn = f"arn:aws:ivs:us-west-2:123456789012:channel/Aud{TokenAudit.objects.count():04d}"
        channel = Channel.objects.create(
            name=arn, slug=arn.rsplit("/", 1)[1].lower(), arn=arn, playback_url=playback_url_for(arn)
        )
        audit_row(user if i % 2 else None, channel, issued_at=now)


def queries_for(client, url):
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


@pytest.mark.django_db
class TestQueryCounts:
    def test_the_entitlement_list_does_not_grow_with_its_rows(self, admin_client, django_assert_max_num_queries):
        make_entitlements(5)
        with_five = queries_for(admin_client, ENTITLEMENTS)
        make_entitlements(45)
        with django_assert_max_num_queries(with_five):
            response = admin_client.get(ENTITLEMENTS)
        assert len(response.context["cl"].result_list) == 50

    def test_the_audit_list_does_not_grow_with_its_rows(self, admin_client, now, django_assert_max_num_queries):
        make_audits(5, now)
        with_five = queries_for(admin_client, AUDITS)
        make_audits(45, now)
        with django_assert_max_num_queries(with_five):
            response = admin_client.get(AUDITS)
        assert len(response.context["cl"].result_list) == 50
