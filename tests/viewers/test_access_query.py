"""decide()'s SQL (viewers/player/sql.py HELD, alone and inside the player page's PAGE_READ) returns exactly the
rows the ORM's definition does.

The ORM definition here is the rule in the project's queryset terms (EntitlementQuerySet.held_by and the current
rule): the channel's entitlements held by the user directly or through a group, each marked current at `now`.
It runs on whichever database the suite runs on (SQLite by default, PostgreSQL under `make test-postgres`), so
both backends are checked.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db.models import BooleanField, ExpressionWrapper

from tests.factories import HIDDEN_ARN, make_user, playback_url_for
from viewers.models import Channel, Entitlement, current_entitlement_q
from viewers.player import pageread

pytestmark = pytest.mark.django_db

FIELDS = ("is_current", "revoked_at", "starts_at", "ends_at", "max_resolution")


def orm_rows(user, channel, now):
    current = ExpressionWrapper(current_entitlement_q(now), output_field=BooleanField())
    rows = Entitlement.objects.filter(channel=channel).annotate(is_current=current).values(*FIELDS).held_by(user)
    return sorted((tuple(row[f] for f in FIELDS) for row in rows), key=repr)


def decision_rows(user, channel, now):
    return pageread.decision_rows(user.pk, channel.pk, now)


def player_page_rows(user, channel, now):
    page = pageread.read(channel.slug, user, now, page_limit=20)
    assert page.channel == channel
    return page.held


@pytest.fixture(params=[decision_rows, player_page_rows], ids=["decision", "channel-and-holdings"])
def statement(request):
    return request.param


@pytest.fixture
def sql_rows(statement):
    def rows(user, channel, now):
        return sorted((tuple(row[f] for f in FIELDS) for row in statement(user, channel, now)), key=repr)

    return rows


@pytest.fixture
def tangle(private_channel, now):
    """One viewer holding every kind of entitlement on the channel, and others' and other channels' around it."""
    other_channel = Channel.objects.create(
        name="Backstage", slug="backstage", arn=HIDDEN_ARN, playback_url=playback_url_for(HIDDEN_ARN)
    )
    viewer, stranger = make_user("viewer"), make_user("stranger")
    fans, vips, others = (Group.objects.create(name=n) for n in ("fans", "vips", "others"))
    viewer.groups.add(fans, vips)
    stranger.groups.add(others)
    hour = timedelta(hours=1)
    for holder in ({"user": viewer}, {"group": fans}, {"group": vips}):
        Entitlement.objects.create(channel=private_channel, **holder, max_resolution="SD")
        Entitlement.objects.create(channel=private_channel, **holder, starts_at=now + hour)
        Entitlement.objects.create(channel=private_channel, **holder, starts_at=now - 2 * hour, ends_at=now - hour)
        Entitlement.objects.create(channel=private_channel, **holder, revoked_at=now - hour, max_resolution="HD")
        Entitlement.objects.create(channel=other_channel, **holder)
    Entitlement.objects.create(channel=private_channel, user=stranger)
    Entitlement.objects.create(channel=private_channel, group=others)
    return viewer, stranger, other_channel


def test_it_returns_the_orm_definitions_rows_for_every_kind_of_entitlement(tangle, private_channel, now, sql_rows):
    viewer, _, _ = tangle
    expected = orm_rows(viewer, private_channel, now)
    assert len(expected) == 12  # 4 states × (direct, two groups): the others' and the other channel's left out
    assert sql_rows(viewer, private_channel, now) == expected


@pytest.mark.parametrize("shift", [timedelta(0), timedelta(hours=-1), timedelta(minutes=-90), timedelta(hours=2)])
def test_it_agrees_with_the_orm_at_every_moment_around_the_windows(tangle, private_channel, now, shift, sql_rows):
    viewer, _, _ = tangle
    assert sql_rows(viewer, private_channel, now + shift) == orm_rows(viewer, private_channel, now + shift)


def test_it_agrees_for_someone_else_and_for_another_channel(tangle, private_channel, now, sql_rows):
    viewer, stranger, other_channel = tangle
    assert sql_rows(stranger, private_channel, now) == orm_rows(stranger, private_channel, now)
    assert len(sql_rows(stranger, private_channel, now)) == 2
    assert sql_rows(viewer, other_channel, now) == orm_rows(viewer, other_channel, now)


def test_an_entitlement_ending_exactly_now_is_not_current(private_channel, now, sql_rows):
    user = make_user("edge")
    Entitlement.objects.create(channel=private_channel, user=user, starts_at=now - timedelta(hours=1), ends_at=now)
    Entitlement.objects.create(channel=private_channel, user=user, starts_at=now)
    rows = sql_rows(user, private_channel, now)
    assert rows == orm_rows(user, private_channel, now)
    assert sorted(row[0] for row in rows) == [False, True]


class TestTheChannelHalf:
    """pageread.read() reads the channel as the ORM does: every field, converted the same way."""

    def test_the_channel_equals_the_orms_field_by_field(self, private_channel, alice, now):
        private_channel.allowed_countries = ["NL", "BE"]
        private_channel.max_devices = 2
        private_channel.save()
        found = pageread.read(private_channel.slug, alice, now, page_limit=20).channel
        expected = Channel.objects.get(pk=private_channel.pk)
        for field in Channel._meta.concrete_fields:
            assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
        assert sorted(c.code for c in found.allowed_countries) == ["BE", "NL"]
        assert found.is_private is True and found.created_at.tzinfo is not None
        assert found._state.adding is False and found._state.db == expected._state.db

    def test_a_public_channel_and_a_stranger_get_the_channel_and_no_holdings(self, public_channel, now):
        from django.contrib.auth.models import AnonymousUser

        for someone in (AnonymousUser(), make_user("nobody")):
            page = pageread.read(public_channel.slug, someone, now, page_limit=20)
            assert (page.channel, page.held, page.page_free_at) == (public_channel, [], None)

    def test_no_channel_at_the_slug(self, alice, now):
        assert pageread.read("no-such-channel", alice, now, page_limit=20) == pageread.PageRead(None, [], None)

    def test_a_slug_is_a_value_never_sql(self, private_channel, alice, now):
        assert pageread.read("x' OR '1'='1", alice, now, page_limit=20).channel is None
