"""The cast: named people and channels shared by every test module.

alice: entitled directly. bob: entitled through the "subscribers" group. carol: no
entitlement. dave: entitlement ended. erin: entitlement not started yet. frank:
entitlement revoked. ivan: entitled but inactive. sam: staff with no entitlement.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from viewers.ivs import signing_keys, tokens
from viewers.models import Channel, Entitlement, PlaybackKey, User

PRIVATE_ARN = "arn:aws:ivs:us-west-2:123456789012:channel/MainEvent01"
PUBLIC_ARN = "arn:aws:ivs:us-west-2:123456789012:channel/OpenLobby01"
HIDDEN_ARN = "arn:aws:ivs:us-west-2:123456789012:channel/Backstage01"


def playback_url_for(arn: str, base="https://a1b2c3d4e5f6.us-west-2.playback.live-video.net") -> str:
    region, account, channel_id = arn.split(":")[3], arn.split(":")[4], arn.rsplit("/", 1)[1]
    return f"{base}/api/video/v1/{region}.{account}.channel.{channel_id}.m3u8"


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


def _user(username, **extra):
    return User.objects.create_user(username, f"{username}@example.com", "password", **extra)


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def alice(private_channel):
    user = _user("alice")
    Entitlement.objects.create(user=user, channel=private_channel)
    return user


@pytest.fixture
def subscribers(private_channel):
    group = Group.objects.create(name="subscribers")
    Entitlement.objects.create(group=group, channel=private_channel, max_resolution="HD")
    return group


@pytest.fixture
def bob(subscribers):
    user = _user("bob")
    user.groups.add(subscribers)
    return user


@pytest.fixture
def carol(db):
    return _user("carol")


@pytest.fixture
def dave(private_channel, now):
    user = _user("dave")
    Entitlement.objects.create(
        user=user, channel=private_channel, starts_at=now - timedelta(days=30), ends_at=now - timedelta(days=1)
    )
    return user


@pytest.fixture
def erin(private_channel, now):
    user = _user("erin")
    Entitlement.objects.create(user=user, channel=private_channel, starts_at=now + timedelta(days=2))
    return user


@pytest.fixture
def frank(private_channel, now):
    user = _user("frank")
    Entitlement.objects.create(user=user, channel=private_channel, revoked_at=now - timedelta(hours=1))
    return user


@pytest.fixture
def ivan(private_channel):
    user = _user("ivan", is_active=False)
    Entitlement.objects.create(user=user, channel=private_channel)
    return user


@pytest.fixture
def sam(db):
    return _user("sam", is_staff=True)


@pytest.fixture
def admin_user(db):
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


def run_worker(max_tasks=100) -> int:
    """Run the task rows that are due, in order, as `manage.py ivs_worker` would, but in this thread and
    raising what a task raises. Returns how many ran."""
    from django_tasks_db.models import DBTaskResult

    ran = 0
    while ran < max_tasks:
        due = DBTaskResult.objects.ready().order_by("run_after", "enqueued_at").first()
        if due is None:
            return ran
        due.claim("tests")
        result = due.task_result
        due.set_successful(due.task.call(*result.args, **result.kwargs))
        ran += 1
    raise AssertionError(f"the worker still had tasks after {max_tasks}: a task keeps re-queueing itself")


@pytest.fixture
def worker():
    return run_worker


# --- Country rules and several regions (tests/test_geo*.py, tests/test_keyregions*.py) ---------------------

FINALS_ARN = "arn:aws:ivs:eu-west-1:123456789012:channel/Finals01"


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


def run_at_once(count, action, timeout=60) -> list:
    """Run `action` in `count` threads released together (real concurrency, each with its own database
    connection). Returns the exceptions they raised."""
    import threading

    from django.db import connection as thread_connection

    barrier = threading.Barrier(count)
    errors = []

    def run():
        try:
            barrier.wait()
            action()
        except Exception as exc:  # returned to the test
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return errors
