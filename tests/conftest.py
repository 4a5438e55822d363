"""The cast: named people and channels shared by every test module.

alice: entitled directly. bob: entitled through the "subscribers" group. carol: no
entitlement. dave: entitlement ended. erin: entitlement not started yet. frank:
entitlement revoked. ivan: entitled but inactive. sam: staff with no entitlement.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from sales.models import TicketType
from tests.factories import (
    FINALS_ARN,
    HIDDEN_ARN,
    PRIVATE_ARN,
    PUBLIC_ARN,
    make_user,
    playback_url_for,
    revocation_row,
    run_worker,
)
from tests.sales.stripe_events import PAYMENT_LINK, SECRET, checkout_session, deliver, event
from viewers import reconcile
from viewers.ivs import signing_keys, tokens
from viewers.models import Channel, Entitlement, EntitlementImport, PlaybackKey, TokenAudit, User, Viewing
from viewers.operators import csv_import

CSV_HEADER = "email,channel,starts_at,ends_at,max_resolution,note\n"


def pytest_runtest_setup(item):
    """Tests marked `postgres` race real concurrent transactions, which only PostgreSQL runs; `make test-postgres`
    runs them."""
    if item.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://…): SQLite runs one write transaction at a time")


@pytest.fixture
def private_channel(db):
    return Channel.objects.create(
        name="Main Event", slug="main-event", arn=PRIVATE_ARN, playback_url=playback_url_for(PRIVATE_ARN)
    )


@pytest.fixture
def public_channel(db):
    return Channel.objects.create(
        name="Open Lobby", slug="lobby", arn=PUBLIC_ARN, playback_url=playback_url_for(PUBLIC_ARN), is_private=False
    )


@pytest.fixture
def hidden_channel(db):
    return Channel.objects.create(
        name="Backstage", slug="backstage", arn=HIDDEN_ARN, playback_url=playback_url_for(HIDDEN_ARN), is_listed=False
    )


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def alice(private_channel):
    user = make_user("alice")
    Entitlement.objects.create(user=user, channel=private_channel)
    return user


@pytest.fixture
def subscribers(private_channel):
    group = Group.objects.create(name="subscribers")
    Entitlement.objects.create(group=group, channel=private_channel, max_resolution="HD")
    return group


@pytest.fixture
def bob(subscribers):
    user = make_user("bob")
    user.groups.add(subscribers)
    return user


@pytest.fixture
def carol(db):
    return make_user("carol")


@pytest.fixture
def dave(private_channel, now):
    user = make_user("dave")
    Entitlement.objects.create(
        user=user, channel=private_channel, starts_at=now - timedelta(days=30), ends_at=now - timedelta(days=1)
    )
    return user


@pytest.fixture
def erin(private_channel, now):
    user = make_user("erin")
    Entitlement.objects.create(user=user, channel=private_channel, starts_at=now + timedelta(days=2))
    return user


@pytest.fixture
def frank(private_channel, now):
    user = make_user("frank")
    Entitlement.objects.create(user=user, channel=private_channel, revoked_at=now - timedelta(hours=1))
    return user


@pytest.fixture
def ivan(private_channel):
    user = make_user("ivan", is_active=False)
    Entitlement.objects.create(user=user, channel=private_channel)
    return user


@pytest.fixture
def sam(db):
    return make_user("sam", is_staff=True)


@pytest.fixture
def adminmake_user(db):
    return User.objects.create_superuser("admin", "admin@example.com", "password")


@pytest.fixture
def signing_key():
    return signing_keys.signing_key()


@pytest.fixture
def public_key(signing_key):
    return signing_key.public_key()


@pytest.fixture
def registered_key(db, public_key):
    """The test signing key's public half, registered as IVS would have it imported."""
    signing_keys.forget_cached_keys()
    key = PlaybackKey(name="test-key", public_key_pem=tokens.public_key_pem(public_key), is_signing=True)
    key.full_clean()
    key.save()
    yield key
    signing_keys.forget_cached_keys()


@pytest.fixture
def manage_py(monkeypatch):
    """Run a command as manage.py does, system checks first (call_command skips them). Without django.setup()
    again: it would point the log handler at this test's captured stderr, which is closed once the test ends."""
    import django
    from django.core.management import ManagementUtility

    monkeypatch.setattr(django, "setup", lambda *args, **kwargs: None)
    return lambda *argv: ManagementUtility(["manage.py", *map(str, argv)]).execute()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and cached sessions live in the cache: each test starts with an empty one."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def worker():
    return run_worker


# --- Country rules and several regions (tests/viewers/player/test_geo.py, tests/viewers/ivs/test_key_regions*.py) ---


@pytest.fixture
def allow_fr(private_channel):
    private_channel.allowed_countries = ["FR"]
    private_channel.save()
    return private_channel


@pytest.fixture
def block_de(private_channel):
    private_channel.blocked_countries = ["DE"]
    private_channel.save()
    return private_channel


@pytest.fixture
def country_db(tmp_path, settings):
    """A MaxMind-format country database holding a few networks, as GeoLite2-Country has them."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    from viewers.player import geo

    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country", languages=["en"])
    for network, code in [("2.16.0.0/13", "FR"), ("5.1.0.0/16", "DE"), ("2a01:e00::/26", "FR")]:
        writer.insert_network(IPSet([network]), {"country": {"iso_code": code, "names": {"en": code}}})
    # Registered in Germany but used in Austria: the country is where it is used.
    writer.insert_network(
        IPSet(["81.0.0.0/16"]), {"country": {"iso_code": "AT"}, "registered_country": {"iso_code": "DE"}}
    )
    writer.insert_network(IPSet(["198.51.100.0/24"]), {"continent": {"code": "EU"}})  # no country at all
    path = tmp_path / "country.mmdb"
    writer.to_db_file(str(path))
    settings.IVS_COUNTRY_DATABASE = str(path)
    yield path
    geo.country_database.cache_clear()


@pytest.fixture
def finals(db):
    """A private channel in a second region (the cast's channels are in us-west-2)."""
    return Channel.objects.create(
        name="Finals", slug="finals", arn=FINALS_ARN, playback_url=playback_url_for(FINALS_ARN)
    )


@pytest.fixture
def world(settings, alice, bob, carol, private_channel, public_channel, registered_key, admin_user):
    """One of everything the site shows and the admin manages, for the page-text test and the admin walk:
    channels, people, a token audit and its heartbeats, an import, an invitation, keys, a revocation, a task, a
    ticket type with a payment and its Stripe event."""
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.SITE_URL = "https://watch.example.com"
    viewer = Client()
    viewer.force_login(alice)
    assert viewer.get("/channels/main-event/").status_code == 200  # a token audit row
    session = TokenAudit.objects.latest("pk")
    Viewing.objects.create(  # what its heartbeats said: it is watching now
        session=session, channel=private_channel, user=alice, first_seen_at=timezone.now(), last_seen_at=timezone.now()
    )
    csv_import.import_entitlements(CSV_HEADER + "new@example.com,main-event,,,,\n", create_users=True)  # an invitation
    EntitlementImport.objects.create(
        filename="staged.csv", content=CSV_HEADER + "later@example.com,main-event,,,,\n", create_users=True
    )
    old = PlaybackKey(name="old-key", public_key_pem=tokens.public_key_pem(tokens.generate_private_key()))
    old.full_clean()
    old.save()
    PlaybackKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    revocation_row(channel=private_channel, viewer_id=alice.viewer_id, max_version=1, reason="revoked", status="failed")
    reconcile.reconcile_soon()  # a task row
    ticket = TicketType.objects.create(name="Main Event ticket", payment_link_id=PAYMENT_LINK)
    ticket.channels.add(private_channel)
    assert deliver(Client(), event("checkout.session.completed", checkout_session())).status_code == 200
    sso_world(make_user("ida"), private_channel)
    chat_world(alice, carol, private_channel, admin_user)
    return {"alice": alice, "carol": carol, "admin": admin_user, "channel": private_channel, "old_key": old}


def chat_world(viewer, banned, channel, moderator):
    """Chat's rows: the channel's ready room, a viewer's chat session, a ban with its reason, and a lifted one."""
    from viewers.models import ChatBan, ChatRoom, ChatSession

    room = ChatRoom.objects.create(
        channel=channel, arn="arn:aws:ivschat:us-west-2:123456789012:room/WorldRoom001", status="ready"
    )
    ChatSession.objects.create(
        user=viewer,
        channel=channel,
        room_arn=room.arn,
        chat_user_id=viewer.viewer_id,
        session_expires_at=timezone.now() + timedelta(hours=1),
    )
    ChatBan.objects.create(channel=channel, user=banned, reason="spam links", banned_by=moderator)
    ChatBan.objects.create(channel=channel, user=viewer, reason="old", lifted_at=timezone.now())


def sso_world(user, channel):
    """Single sign-on's rows: an IdP group entitled to the channel with `user` in it, as its SCIM made them, the
    IdP's SCIM token (hashed), a used one, and the subject `user` logs in with."""
    from allauth.socialaccount.models import SocialAccount

    from localidp.models import LocalGroup, LocalUser
    from sso.models import IdpGroup, IdpIdentity
    from sso.scim import auth

    group = Group.objects.create(name=IdpGroup.django_name("local", "sales"))
    IdpGroup.objects.create(group=group, idp="local", display_name="sales", external_id="sales-id")
    Entitlement.objects.create(group=group, channel=channel)
    user.groups.add(group)
    idp_user = LocalUser.objects.create(username="ida-at-idp", password="!", email="ida@corp.example")
    idp_user.groups.add(LocalGroup.objects.create(name="sales"))
    IdpIdentity.objects.create(idp="local", user=user, user_name=f"{user.username}@corp.example")
    SocialAccount.objects.create(user=user, provider="local", uid="subject-of-" + user.username)
    auth.rotate("local")


# --- IVS Chat's local stand-in (localivs/chat_server.py) ------------------------------------------------------------


@pytest.fixture
def chat_server(transactional_db):
    """The local IVS Chat messaging server, as `make run` starts it (`manage.py localivs_chat`), in a thread of this
    process on a free port, against the test database; yields its WebSocket URL, what IVS_CHAT_MESSAGING_URL names
    (`settings.IVS_CHAT_MESSAGING_URL = chat_server`). The tokens it accepts come from the local control plane,
    `live_server.url + "/ivschat"` for boto3 (AWS_ENDPOINT_URL_IVSCHAT), or localivs.chat's functions in-process.
    Transactional: it reads rows from its own connection, so they must be committed. It reads the control plane's
    commands every 50 ms (250 ms in the demo)."""
    from localivs.chat_server import Running

    running = Running(poll_seconds=0.05)
    yield running.url
    running.stop()
