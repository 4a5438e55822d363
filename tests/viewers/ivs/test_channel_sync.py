"""IVS channel sync against moto's IVS backend."""

from io import StringIO

import boto3
import pytest
from django.core.management import CommandError, call_command
from moto import mock_aws

from localivs import shapes
from tests.factories import PRIVATE_ARN
from viewers.ivs import channel_names, channel_sync
from viewers.models import Channel, Entitlement

REGION = "us-west-2"
SYNC = "/admin/viewers/channel/ivs-sync/"


@pytest.fixture
def aws(settings, monkeypatch):
    for name, value in [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")]:
        monkeypatch.setenv(name, value)
    settings.AWS_REGION = REGION
    with mock_aws():
        yield boto3.client("ivs", region_name=REGION)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.django_db
class TestSync:
    def test_it_creates_updates_and_leaves_alone(self, aws, alice, private_channel):
        new = aws.create_channel(name="Finals", authorized=True)["channel"]
        public = aws.create_channel(name="", authorized=False)["channel"]
        same = aws.create_channel(name="Same", authorized=True)["channel"]
        Channel.objects.create(name="Same", slug="same", arn=same["arn"], playback_url=same["playbackUrl"])
        moved = aws.create_channel(name="Renamed", authorized=False)["channel"]
        Channel.objects.create(name="Old name", slug="old", arn=moved["arn"], playback_url=moved["playbackUrl"])
        entitlements = list(Entitlement.objects.values())

        report = {change.arn: change for change in channel_sync.sync_channels()}

        assert report[new["arn"]].action == "created"
        created = Channel.objects.get(arn=new["arn"])
        assert (created.name, created.slug, created.is_private, created.is_listed) == ("Finals", "finals", True, False)
        assert created.playback_url == new["playbackUrl"]
        unnamed = Channel.objects.get(arn=public["arn"])
        assert unnamed.name == public["arn"].rsplit("/", 1)[1] and not unnamed.is_private
        assert report[same["arn"]].action == "unchanged"
        assert report[moved["arn"]].action == "updated"
        assert report[moved["arn"]].changes == {"name": ("Old name", "Renamed"), "is_private": (True, False)}
        assert Channel.objects.get(arn=moved["arn"]).slug == "old"
        assert report[PRIVATE_ARN].action == "local-only"
        assert Channel.objects.filter(arn=PRIVATE_ARN).exists()
        assert list(Entitlement.objects.values()) == entitlements

    def test_syncing_twice_changes_nothing(self, aws):
        aws.create_channel(name="Finals", authorized=True)
        channel_sync.sync_channels()
        assert [change.action for change in channel_sync.sync_channels()] == ["unchanged"]

    def test_it_follows_pagination(self, aws):
        for i in range(7):
            aws.create_channel(name=f"ch-{i}", authorized=True)

        class SmallPages:
            meta = aws.meta

            def get_paginator(self, name):
                class Paginator:
                    def paginate(_self):
                        return aws.get_paginator(name).paginate(PaginationConfig={"PageSize": 2})

                return Paginator()

            def get_channel(self, **kwargs):
                return aws.get_channel(**kwargs)

        assert len(channel_sync.sync_channels(clients=[SmallPages()])) == 7
        assert Channel.objects.count() == 7

    def test_dry_run_writes_nothing(self, aws):
        aws.create_channel(name="Finals", authorized=True)
        report = channel_sync.sync_channels(apply=False)
        assert [change.action for change in report] == ["created"]
        assert not Channel.objects.exists()

    def test_without_aws_it_says_what_to_set(self, settings, db):
        settings.AWS_REGION = ""
        with pytest.raises(channel_sync.SyncError, match="IVS_AWS_REGION"):
            channel_sync.sync_channels()

    def test_an_aws_failure_is_a_clear_error(self, aws):
        class Broken:
            def get_paginator(self, name):
                raise RuntimeError("network down")

        with pytest.raises(channel_sync.SyncError, match="Could not list the IVS channels"):
            channel_sync.sync_channels(clients=[Broken()])


class TestIvsNamingRule:
    """One rule (viewers/ivs/channel_names.py) for what IVS stores as a channel's name: the local origin answers
    with it, the sync compares with it."""

    NAMES = ["Demo Event", "Café  Live", "Q&A - Live", " -Demo- ", "日本語", "", "a" * 300, "x" + " y" * 100]

    @pytest.mark.parametrize(
        "name, stored",
        [
            ("Demo Event", "Demo-Event"),
            ("Demo-Event", "Demo-Event"),
            ("Demo--Event_2", "Demo--Event_2"),  # IVS accepts it: kept as it is
            ("Q&A - Live", "Q-A-Live"),
            ("  Café Live! ", "Cafe-Live"),
            ("日本語", ""),
            ("a" * 200, "a" * 128),
        ],
    )
    def test_what_ivs_would_store(self, name, stored):
        assert channel_names.ivs_name(name) == stored

    @pytest.mark.parametrize("name", NAMES)
    def test_every_answer_passes_botocores_model_and_is_its_own_answer(self, name):
        stored = channel_names.ivs_name(name)
        assert shapes.problems(stored, shapes.service_model().shape_for("ChannelName")) == []
        assert channel_names.ivs_name(stored) == stored

    def test_the_same_name_under_the_rule(self):
        assert channel_names.same_name("Demo Event", "Demo-Event")
        assert not channel_names.same_name("Demo Event", "Demo-Finals")


@pytest.mark.django_db
class TestRenames:
    def test_a_name_that_only_follows_ivss_rule_is_no_rename(self, aws):
        remote = aws.create_channel(name="Demo-Event", authorized=True)["channel"]
        Channel.objects.create(name="Demo Event", slug="demo", arn=remote["arn"], playback_url=remote["playbackUrl"])
        (change,) = channel_sync.sync_channels()
        assert (change.action, change.changes) == ("unchanged", {})
        assert Channel.objects.get().name == "Demo Event"

    def test_a_rename_at_ivs_is_proposed_with_the_other_changes(self, aws):
        remote = aws.create_channel(name="Grand-Final", authorized=False)["channel"]
        Channel.objects.create(name="Demo Event", slug="demo", arn=remote["arn"], playback_url=remote["playbackUrl"])
        (change,) = channel_sync.sync_channels()
        assert change.action == "updated"
        assert change.changes == {"name": ("Demo Event", "Grand-Final"), "is_private": (True, False)}
        assert Channel.objects.get().name == "Grand-Final"

    def test_a_created_channel_keeps_the_operators_spelling_until_ivs_renames_it(self, aws):
        remote = aws.create_channel(name="Demo-Event", authorized=True)["channel"]
        (created,) = channel_sync.sync_channels()
        assert created.action == "created" and Channel.objects.get().name == "Demo-Event"
        Channel.objects.update(name="Demo Event")  # the operator's spelling, in the admin

        assert [change.action for change in channel_sync.sync_channels()] == ["unchanged"]
        assert Channel.objects.get().name == "Demo Event"

        aws.update_channel(arn=remote["arn"], name="Demo-Finals")
        (renamed,) = channel_sync.sync_channels()
        assert renamed.changes == {"name": ("Demo Event", "Demo-Finals")}
        assert Channel.objects.get().name == "Demo-Finals"

    def test_only_the_changed_fields_are_written(self, aws):
        remote = aws.create_channel(name="Demo-Event", authorized=False)["channel"]
        Channel.objects.create(name="Demo Event", slug="demo", arn=remote["arn"], playback_url=remote["playbackUrl"])
        (change,) = channel_sync.sync_channels()
        assert change.changes == {"is_private": (True, False)}
        channel = Channel.objects.get()
        assert (channel.name, channel.is_private) == ("Demo Event", False)


@pytest.mark.django_db
class TestTheCommand:
    def test_it_reports_what_changed(self, aws):
        aws.create_channel(name="Finals", authorized=True)
        out = StringIO()
        call_command("ivs_sync_channels", stdout=out)
        assert "created    Finals" in out.getvalue()
        assert "1 created, 0 updated, 0 unchanged, 0 error, 0 local-only." in out.getvalue()

    def test_dry_run(self, aws):
        aws.create_channel(name="Finals", authorized=True)
        out = StringIO()
        call_command("ivs_sync_channels", "--dry-run", stdout=out)
        assert "Dry run, nothing written" in out.getvalue()
        assert not Channel.objects.exists()

    def test_without_aws_it_fails_clearly(self, settings, db):
        settings.AWS_REGION = ""
        with pytest.raises(CommandError, match="IVS_AWS_REGION"):
            call_command("ivs_sync_channels")


@pytest.mark.django_db
class TestTheAdminPage:
    def test_it_previews_then_applies(self, aws, admin_client):
        aws.create_channel(name="Finals", authorized=True)
        page = admin_client.get(SYNC)
        assert page.status_code == 200 and "1 created" in page.content.decode()
        assert not Channel.objects.exists()
        response = admin_client.post(SYNC, {"apply": "1"})
        assert response.status_code == 302
        assert Channel.objects.get().name == "Finals"

    def test_without_aws_it_explains(self, admin_client, settings):
        settings.AWS_REGION = ""
        assert "IVS_AWS_REGION" in admin_client.get(SYNC).content.decode()

    def test_the_channel_list_offers_it(self, admin_client):
        assert f'href="{SYNC}"' in admin_client.get("/admin/viewers/channel/").content.decode()

    def test_staff_without_permission_cannot_sync(self, client, sam):
        client.force_login(sam)
        assert client.get(SYNC).status_code == 403
