"""Playback keys in every region with channels: two regions, boto3 stubbed per region (Stubber) or emulated (moto)."""

from datetime import timedelta
from io import StringIO

import boto3
import pytest
import time_machine
from botocore.stub import Stubber
from django.core.management import call_command
from django.utils import timezone

from tests.factories import FINALS_ARN, ivs_messages, playback_url_for
from viewers.ivs import key_regions, key_rotation, tokens
from viewers.models import Channel, PlaybackKey, PlaybackKeyRegion

US, EU = "us-west-2", "eu-west-1"
FINALS_MESSAGE = "Tokens for 'Finals (eu-west-1)' will be refused: the signing key is not imported in eu-west-1."


def key_arn(region, key_id="AbCdEf123456"):
    return f"arn:aws:ivs:{region}:123456789012:playback-key/{key_id}"


@pytest.fixture
def stubbed(settings):
    """One stubbed IVS client per region; every queued call must have been made."""
    settings.AWS_REGION = US
    clients, stubbers = {}, {}
    for region in (US, EU):
        clients[region] = boto3.client("ivs", region_name=region, aws_access_key_id="x", aws_secret_access_key="y")
        stubbers[region] = Stubber(clients[region])
        stubbers[region].activate()
    yield clients, stubbers
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def holds(stubber, count):
    """ListPlaybackKeyPairs answers with `count` key pairs."""
    pairs = [{"arn": key_arn("us-west-2", f"k{i}"), "name": f"k{i}", "tags": {}} for i in range(count)]
    stubber.add_response("list_playback_key_pairs", {"keyPairs": pairs}, {})


def imports(stubber, key, region):
    stubber.add_response(
        "import_playback_key_pair",
        {"keyPair": {"arn": key_arn(region), "name": key.name, "fingerprint": f"fp-{region}", "tags": {}}},
        {"publicKeyMaterial": key.public_key_pem, "name": key.name},
    )


@pytest.mark.django_db
class TestWhichRegions:
    def test_by_default_the_regions_of_the_channels_and_aws_region(self, settings, private_channel, finals):
        settings.AWS_REGION, settings.IVS_REGIONS = "ap-south-1", []
        assert key_regions.ivs_regions() == ["ap-south-1", EU, US]

    def test_ivs_regions_is_the_list_read_and_keys_still_cover_private_channels(self, settings, finals):
        settings.IVS_REGIONS = [US]
        assert key_regions.ivs_regions() == [US]
        assert key_regions.key_regions() == [EU, US]

    def test_public_channels_need_no_key(self, settings, public_channel):
        settings.AWS_REGION, settings.IVS_REGIONS = "", []
        assert key_regions.key_regions() == [US]  # the sync reads it…
        assert key_regions.channels_without_signing_key() == {}  # …but no token is refused there


@pytest.mark.django_db
class TestImportIntoEveryRegion:
    def test_it_checks_both_regions_then_imports_into_each(self, stubbed, private_channel, finals):
        clients, stubbers = stubbed
        _, key = key_rotation.generate("site-2027")
        holds(stubbers[EU], 2)
        holds(stubbers[US], 0)
        imports(stubbers[EU], key, EU)
        imports(stubbers[US], key, US)
        assert key_rotation.import_into_ivs(key, clients=clients) == [EU, US]
        assert list(key.regions.values_list("region", "arn", "fingerprint")) == [
            (EU, key_arn(EU), f"fp-{EU}"),
            (US, key_arn(US), f"fp-{US}"),
        ]

    def test_a_full_region_stops_it_before_any_import(self, stubbed, private_channel, finals):
        clients, stubbers = stubbed
        _, key = key_rotation.generate("site-2027")
        holds(stubbers[EU], 3)
        holds(stubbers[US], 1)
        with pytest.raises(key_rotation.RotationError) as raised:
            key_rotation.import_into_ivs(key, clients=clients)
        assert str(raised.value) == (
            "Nothing imported: eu-west-1 already holds 3 key pairs, the most IVS allows in a region (3). "
            "Delete a key that no longer signs there first."
        )
        assert not key.regions.exists()

    def test_a_refusal_half_way_keeps_what_was_done_and_a_retry_finishes(self, stubbed, private_channel, finals):
        clients, stubbers = stubbed
        _, key = key_rotation.generate("site-2027")
        holds(stubbers[EU], 0)
        holds(stubbers[US], 0)
        imports(stubbers[EU], key, EU)
        stubbers[US].add_client_error("import_playback_key_pair", "AccessDeniedException", "not allowed")
        with pytest.raises(key_rotation.RotationError) as raised:
            key_rotation.import_into_ivs(key, clients=clients)
        assert str(raised.value) == (
            "IVS refused the import in us-west-2: AccessDeniedException: not allowed. "
            "It was imported into eu-west-1; importing again continues."
        )
        assert list(key.regions.values_list("region", flat=True)) == [EU]
        holds(stubbers[US], 0)
        imports(stubbers[US], key, US)
        assert key_rotation.import_into_ivs(key, clients=clients) == [US]
        with pytest.raises(key_rotation.RotationError, match="already imported in every region"):
            key_rotation.import_into_ivs(key, clients=clients)

    def test_an_unlistable_region_is_an_error_before_any_import(self, stubbed, private_channel, finals):
        clients, stubbers = stubbed
        _, key = key_rotation.generate("site-2027")
        stubbers[EU].add_client_error("list_playback_key_pairs", "AccessDeniedException", "no list")
        with pytest.raises(key_rotation.RotationError, match="Could not list the key pairs in eu-west-1"):
            key_rotation.import_into_ivs(key, clients=clients)
        assert not key.regions.exists()

    def test_without_aws_it_prints_one_command_per_region(self, settings, private_channel, finals):
        settings.AWS_REGION = ""
        _, key = key_rotation.generate("site-2027")
        assert key_rotation.import_command(key).splitlines() == [
            "aws ivs import-playback-key-pair --name site-2027 --public-key-material file://site-2027.pub.pem "
            f"--region {region}"
            for region in (EU, US)
        ]


@pytest.fixture
def old_key(registered_key, settings):
    """The cast's key, imported in both regions, after it stopped signing long enough ago."""
    private, new = key_rotation.generate("site-new")
    settings.IVS_PLAYBACK_PRIVATE_KEY = tokens.private_key_pem(private).decode()
    from viewers.ivs import signing_keys

    signing_keys.forget_cached_keys()
    key_rotation.make_signing(new)
    for region in (US, EU):
        PlaybackKeyRegion.objects.create(key=registered_key, arn=key_arn(region))
    yield PlaybackKey.objects.get(pk=registered_key.pk)
    signing_keys.forget_cached_keys()


@pytest.mark.django_db
class TestDeleteFromEveryRegion:
    def test_retiring_deletes_it_in_each_region(self, stubbed, old_key):
        clients, stubbers = stubbed
        stubbers[EU].add_response("delete_playback_key_pair", {}, {"arn": key_arn(EU)})
        stubbers[US].add_client_error("delete_playback_key_pair", "ResourceNotFoundException", "gone already")
        with time_machine.travel(timezone.now() + timedelta(hours=1)):
            note = key_rotation.retire(old_key, clients=clients)
        assert note == "Deleted test-key from IVS (eu-west-1, us-west-2) and from the site."
        assert not PlaybackKey.objects.filter(pk=old_key.pk).exists()

    def test_a_refusal_keeps_the_key_and_the_region_it_is_still_in(self, stubbed, old_key):
        clients, stubbers = stubbed
        stubbers[EU].add_response("delete_playback_key_pair", {}, {"arn": key_arn(EU)})
        stubbers[US].add_client_error("delete_playback_key_pair", "ThrottlingException", "slow down")
        later = timezone.now() + timedelta(hours=1)
        with time_machine.travel(later), pytest.raises(key_rotation.RotationError) as raised:
            key_rotation.retire(old_key, clients=clients)
        assert str(raised.value) == (
            "IVS refused the deletion in us-west-2: ThrottlingException: slow down. It was deleted from eu-west-1. "
            "test-key stays registered; try again."
        )
        assert list(old_key.regions.values_list("region", flat=True)) == [US]

    def test_without_aws_it_prints_one_command_per_region(self, settings, old_key):
        settings.AWS_REGION = ""
        with time_machine.travel(timezone.now() + timedelta(hours=1)):
            note = key_rotation.retire(old_key)
        assert note.splitlines()[1:] == [
            f"aws ivs delete-playback-key-pair --region {US} --arn {key_arn(US)}",
        ]
        assert f"--region {EU} --arn {key_arn(EU)}" in note.splitlines()[0]


@pytest.mark.django_db
class TestMissingRegionWarnings:
    def test_a_region_without_the_signing_key_is_named(self, registered_key, private_channel, finals):
        PlaybackKeyRegion.objects.create(key=registered_key, arn=key_arn(US))
        (warning,) = [m for m in ivs_messages() if m.id == "ivs.W021"]
        assert warning.msg == FINALS_MESSAGE

    def test_no_warning_once_it_is_imported_everywhere(self, registered_key, private_channel, finals):
        for region in (US, EU):
            PlaybackKeyRegion.objects.create(key=registered_key, arn=key_arn(region))
        assert not [m for m in ivs_messages() if m.id == "ivs.W021"]

    def test_many_channels_are_summed_up(self, registered_key):
        PlaybackKeyRegion.objects.create(key=registered_key, arn=key_arn(US))
        for i in range(5):
            arn = FINALS_ARN.replace("Finals01", f"Match{i}")
            Channel.objects.create(name=f"Match {i}", slug=f"m{i}", arn=arn, playback_url=playback_url_for(arn))
        assert key_regions.missing_key_messages() == [
            "Tokens for 'Match 0 (eu-west-1)', 'Match 1 (eu-west-1)', 'Match 2 (eu-west-1)' and 2 more channels "
            "will be refused: the signing key is not imported in eu-west-1."
        ]

    def test_the_channel_and_key_admin_pages_show_it(self, admin_client, registered_key, finals):
        PlaybackKeyRegion.objects.create(key=registered_key, arn=key_arn(US))
        escaped = FINALS_MESSAGE.replace("'", "&#x27;")
        for url in (
            "/admin/viewers/channel/",
            f"/admin/viewers/channel/{finals.pk}/change/",
            "/admin/viewers/playbackkey/",
            f"/admin/viewers/playbackkey/{registered_key.pk}/change/",
        ):
            assert escaped in admin_client.get(url).content.decode(), url

    def test_the_key_page_lists_its_regions_and_accepts_a_pasted_arn(self, admin_client, registered_key, finals):
        PlaybackKeyRegion.objects.create(key=registered_key, arn=key_arn(US))
        url = f"/admin/viewers/playbackkey/{registered_key.pk}/change/"
        record = registered_key.regions.get()
        form = {
            "name": "test-key",
            "public_key_pem": registered_key.public_key_pem,
            "is_signing": "on",
            "is_active": "on",
            "regions-TOTAL_FORMS": "2",
            "regions-INITIAL_FORMS": "1",
            "regions-0-id": str(record.pk),
            "regions-0-key": str(registered_key.pk),
            "regions-0-arn": key_arn(US),
            "regions-1-key": str(registered_key.pk),
            "regions-1-arn": key_arn(EU, "Pasted99"),
        }
        assert admin_client.post(url, form).status_code == 302
        assert dict(registered_key.regions.values_list("region", "arn")) == {
            US: key_arn(US),
            EU: key_arn(EU, "Pasted99"),
        }
        assert key_regions.missing_key_messages() == []
        form["regions-TOTAL_FORMS"], form["regions-1-arn"] = "2", "arn:aws:ivs:eu-west-1:123:channel/nope"
        assert "Enter an IVS playback key-pair ARN" in admin_client.post(url, form).content.decode()

    def test_the_demo_leaves_nothing_to_warn_about(self, settings, db):
        settings.DEBUG = True
        call_command("demo", stdout=StringIO())
        call_command("demo", stdout=StringIO())  # idempotent
        assert PlaybackKey.objects.get().regions.get().region == "us-west-2"
        assert key_regions.missing_key_messages() == []

    def test_a_bad_region_name_in_the_setting_stops_start_up(self, settings, db):
        settings.IVS_REGIONS = [US, "Europe"]
        (error,) = [m for m in ivs_messages() if m.id == "ivs.E032"]
        assert error.is_serious() and "'Europe'" in error.msg
