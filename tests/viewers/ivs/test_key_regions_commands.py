"""Several regions in the commands: channel sync across two regions (moto), ivs_verify's region, migration 0002."""

import time
from io import StringIO

import boto3
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from moto import mock_aws

from tests.factories import FINALS_ARN, PRIVATE_ARN
from tests.viewers.ivs.test_key_regions import EU, US, key_arn
from viewers.ivs import channel_sync, tokens
from viewers.models import Channel, PlaybackKeyRegion


@pytest.fixture
def moto_regions(settings, monkeypatch):
    for name, value in [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")]:
        monkeypatch.setenv(name, value)
    settings.AWS_REGION = US
    with mock_aws():
        yield {region: boto3.client("ivs", region_name=region) for region in (US, EU)}


@pytest.mark.django_db
class TestSyncAcrossRegions:
    def test_it_reads_every_configured_region(self, settings, moto_regions):
        settings.IVS_REGIONS = [US, EU]
        us = moto_regions[US].create_channel(name="Lobby", authorized=False)["channel"]
        eu = moto_regions[EU].create_channel(name="Finals", authorized=True)["channel"]
        report = {change.arn: change.action for change in channel_sync.sync_channels()}
        assert report == {us["arn"]: "created", eu["arn"]: "created"}
        assert Channel.objects.get(arn=eu["arn"]).region == EU

    def test_by_default_it_reads_the_regions_of_existing_channels(self, settings, moto_regions, finals):
        settings.IVS_REGIONS = []
        eu = moto_regions[EU].create_channel(name="Semis", authorized=True)["channel"]
        out = StringIO()
        call_command("ivs_sync_channels", "--dry-run", stdout=out)
        assert "Regions read: eu-west-1, us-west-2." in out.getvalue()
        assert f"created    Semis  {eu['arn']}" in out.getvalue()
        assert f"local-only Finals  {FINALS_ARN}" in out.getvalue()

    def test_a_failing_region_writes_nothing_and_is_named(self, settings, moto_regions, monkeypatch):
        settings.IVS_REGIONS = [US, "eu-central-9"]
        moto_regions[US].create_channel(name="Lobby", authorized=False)
        with pytest.raises(CommandError, match="Could not list the IVS channels in eu-central-9"):
            call_command("ivs_sync_channels", stdout=StringIO())
        assert not Channel.objects.exists()


def token_for(signing_key, arn):
    return tokens.mint(signing_key, channel_arn=arn, now=int(time.time()), ttl=300).token


@pytest.mark.django_db
class TestVerifySaysWhichRegion:
    def test_a_key_missing_from_the_channels_region_is_the_reason(self, registered_key, signing_key, finals, capsys):
        PlaybackKeyRegion.objects.create(key=registered_key, arn=key_arn(US))
        with pytest.raises(CommandError) as raised:
            call_command("ivs_verify", token_for(signing_key, FINALS_ARN), "--channel", "finals")
        assert "Keys checked: those imported in eu-west-1, the channel's region (none)." in capsys.readouterr().out
        assert "(signature)" in str(raised.value)
        assert "signed by test-key, which is not imported in eu-west-1" in str(raised.value)

    def test_it_verifies_with_the_keys_of_the_channels_region(self, registered_key, signing_key, finals, capsys):
        PlaybackKeyRegion.objects.create(key=registered_key, arn=key_arn(EU))
        call_command("ivs_verify", tokens.with_token(finals.playback_url, token_for(signing_key, FINALS_ARN)))
        out = capsys.readouterr().out
        assert "Keys checked: those imported in eu-west-1, the channel's region (test-key)." in out
        assert "Verdict: VALID" in out

    def test_with_no_recorded_regions_it_checks_every_key_and_says_so(
        self, registered_key, signing_key, private_channel, capsys
    ):
        call_command("ivs_verify", token_for(signing_key, PRIVATE_ARN), "--channel", "main-event")
        out = capsys.readouterr().out
        assert "Keys checked: every registered key (none has recorded regions to narrow us-west-2 by)." in out


@pytest.mark.django_db(transaction=True)
class TestTheMigration:
    def test_a_recorded_arn_becomes_an_import_in_its_region_and_back(self):
        executor = MigrationExecutor(connection)
        executor.migrate([("viewers", "0001_initial")])
        old_apps = executor.loader.project_state([("viewers", "0001_initial")]).apps
        OldKey = old_apps.get_model("viewers", "PlaybackKey")
        OldKey.objects.create(
            name="a", public_key_pem="pem", fingerprint="f1", ivs_arn=key_arn(EU), ivs_fingerprint="x"
        )
        OldKey.objects.create(name="b", public_key_pem="pem", fingerprint="f2")
        executor = MigrationExecutor(connection)
        executor.migrate([("viewers", "0002_country_rules_and_key_regions")])
        assert list(PlaybackKeyRegion.objects.values_list("key__name", "region", "arn", "fingerprint")) == [
            ("a", EU, key_arn(EU), "x")
        ]
        executor = MigrationExecutor(connection)
        executor.migrate([("viewers", "0001_initial")])
        old_apps = executor.loader.project_state([("viewers", "0001_initial")]).apps
        OldKey = old_apps.get_model("viewers", "PlaybackKey")
        assert dict(OldKey.objects.values_list("name", "ivs_arn")) == {"a": key_arn(EU), "b": ""}
        MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
