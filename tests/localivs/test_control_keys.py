"""The local origin's IVS control plane for playback key pairs and channels, in one region and in two, driven by a
real boto3 client over HTTP; every answer checked against botocore's model."""

from datetime import timedelta

import boto3
import pytest

from localivs.models import PlaybackKeyPair
from tests.factories import PRIVATE_ARN, PUBLIC_ARN, playback_url_for
from tests.localivs.answers import close_after_each_answer, error_of, public_pem
from viewers.ivs import aws, channel_sync, tokens
from viewers.models import Channel

OTHER_REGION_ARN = PRIVATE_ARN.replace("us-west-2", "eu-west-1")


UNKNOWN_ARN = PRIVATE_ARN.replace("MainEvent01", "Nope")


class TestPlaybackKeyPairs:
    def test_an_imported_key_pair_can_be_got_listed_and_deleted(self, ivs, checked, transactional_db):
        key = tokens.generate_private_key()
        pair = ivs.import_playback_key_pair(
            publicKeyMaterial=tokens.public_key_pem(key), name="site-2026", tags={"team": "vidéo ops"}
        )["keyPair"]
        assert pair["arn"].startswith("arn:aws:ivs:us-west-2:123456789012:playback-key/")
        assert pair["fingerprint"] == tokens.fingerprint(key)
        assert ivs.get_playback_key_pair(arn=pair["arn"])["keyPair"] == pair
        listed = ivs.list_playback_key_pairs()["keyPairs"]
        assert listed == [{"arn": pair["arn"], "name": "site-2026", "tags": {"team": "vidéo ops"}}]
        ivs.delete_playback_key_pair(arn=pair["arn"])
        assert error_of(lambda: ivs.get_playback_key_pair(arn=pair["arn"])) == ("ResourceNotFoundException", 404)
        assert error_of(lambda: ivs.delete_playback_key_pair(arn=pair["arn"])) == ("ResourceNotFoundException", 404)
        assert len(checked) == 6

    def test_three_per_region_then_quota_exceeded(self, ivs, ivs_in, transactional_db):
        for _ in range(3):
            ivs.import_playback_key_pair(publicKeyMaterial=public_pem())
        fourth = public_pem()
        assert error_of(lambda: ivs.import_playback_key_pair(publicKeyMaterial=fourth)) == (
            "ServiceQuotaExceededException",
            402,
        )
        elsewhere = ivs_in("eu-west-1")
        assert elsewhere.import_playback_key_pair(publicKeyMaterial=fourth)["keyPair"]["arn"].startswith(
            "arn:aws:ivs:eu-west-1:"
        )
        assert PlaybackKeyPair.objects.filter(region="us-west-2").count() == 3

    def test_the_same_key_twice_in_a_region_is_a_conflict(self, ivs, ivs_in, transactional_db):
        pem = public_pem()
        ivs.import_playback_key_pair(publicKeyMaterial=pem)
        assert error_of(lambda: ivs.import_playback_key_pair(publicKeyMaterial=pem)) == ("ConflictException", 409)
        ivs_in("eu-west-1").import_playback_key_pair(publicKeyMaterial=pem)

    def test_key_pairs_are_per_region(self, ivs, ivs_in, transactional_db):
        arn = ivs.import_playback_key_pair(publicKeyMaterial=public_pem())["keyPair"]["arn"]
        elsewhere = ivs_in("eu-west-1")
        assert elsewhere.list_playback_key_pairs()["keyPairs"] == []
        assert error_of(lambda: elsewhere.get_playback_key_pair(arn=arn)) == ("ResourceNotFoundException", 404)

    def test_a_key_that_is_not_p384_is_refused(self, ivs, transactional_db):
        from cryptography.hazmat.primitives.asymmetric import ec

        p256 = tokens.public_key_pem(ec.generate_private_key(ec.SECP256R1()))
        assert error_of(lambda: ivs.import_playback_key_pair(publicKeyMaterial=p256)) == ("ValidationException", 400)
        assert not PlaybackKeyPair.objects.exists()

    def test_the_list_pages_with_next_token(self, ivs, transactional_db):
        for _ in range(3):
            ivs.import_playback_key_pair(publicKeyMaterial=public_pem())
        pages = list(ivs.get_paginator("list_playback_key_pairs").paginate(PaginationConfig={"PageSize": 2}))
        assert [len(page["keyPairs"]) for page in pages] == [2, 1]
        assert len({pair["arn"] for page in pages for pair in page["keyPairs"]}) == 3


class TestChannels:
    @pytest.fixture
    def channels(self, channel, public_channel):
        Channel.objects.create(
            name="eu-show", slug="eu-show", arn=OTHER_REGION_ARN, playback_url=playback_url_for(OTHER_REGION_ARN)
        )

    def test_get_channel_describes_the_sites_channel(self, ivs, channels):
        got = ivs.get_channel(arn=PRIVATE_ARN)["channel"]
        assert (got["arn"], got["name"], got["authorized"]) == (PRIVATE_ARN, "Main-Event", True)  # "Main Event"
        assert got["playbackUrl"] == playback_url_for(PRIVATE_ARN)
        assert ivs.get_channel(arn=PUBLIC_ARN)["channel"]["authorized"] is False
        assert error_of(lambda: ivs.get_channel(arn=OTHER_REGION_ARN)) == ("ResourceNotFoundException", 404)

    def test_list_channels_lists_the_region_page_by_page(self, ivs, ivs_in, channels):
        pages = list(ivs.get_paginator("list_channels").paginate(PaginationConfig={"PageSize": 1}))
        assert [[c["arn"] for c in page["channels"]] for page in pages] == [[PRIVATE_ARN], [PUBLIC_ARN]]
        elsewhere = ivs_in("eu-west-1")
        assert [c["name"] for c in elsewhere.list_channels()["channels"]] == ["eu-show"]

    def test_filters_narrow_the_list_and_exclude_each_other(self, ivs, channels):
        assert [c["arn"] for c in ivs.list_channels(filterByName="Main-Event")["channels"]] == [PRIVATE_ARN]
        policy = "arn:aws:ivs:us-west-2:123456789012:playback-restriction-policy/abc"
        assert ivs.list_channels(filterByPlaybackRestrictionPolicyArn=policy)["channels"] == []
        both = lambda: ivs.list_channels(filterByName="x", filterByPlaybackRestrictionPolicyArn=policy)  # noqa: E731
        assert error_of(both) == ("ConflictException", 409)

    def test_names_are_answered_as_ivs_would_store_them(self, ivs, channels, checked):
        Channel.objects.filter(arn=PUBLIC_ARN).update(name="Café & Q&A – Live!")
        names = {c["arn"]: c["name"] for c in ivs.list_channels()["channels"]}
        assert names == {PRIVATE_ARN: "Main-Event", PUBLIC_ARN: "Cafe-Q-A-Live"}
        assert ivs.get_channel(arn=PUBLIC_ARN)["channel"]["name"] == "Cafe-Q-A-Live"
        assert checked == ["ListChannels", "GetChannel"]  # both answers passed botocore's model

    def test_syncing_the_site_from_it_proposes_no_rename(self, ivs, channels):
        """The admin's "Sync from IVS" in the demo: the site's own channels, read back through this origin."""
        Channel.objects.filter(arn=PUBLIC_ARN).update(name="Demo Lobby: café")
        report = channel_sync.sync_channels(clients=[ivs], apply=False)
        assert [(change.name, change.action, change.changes) for change in report] == [
            ("Main Event", "unchanged", {}),
            ("Demo Lobby: café", "unchanged", {}),
        ]

    def test_a_client_configured_by_environment_alone_reaches_it(self, live_server, channels, monkeypatch, tmp_path):
        monkeypatch.setenv("AWS_ENDPOINT_URL_IVS", live_server.url + "/ivs")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")  # botocore's own setting; it ignores AWS_REGION
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
        plain = boto3.client("ivs")
        plain.meta.events.register("request-created.ivs", close_after_each_answer)
        try:
            assert [c["arn"] for c in plain.list_channels()["channels"]] == [PRIVATE_ARN, PUBLIC_ARN]
        finally:
            plain.close()


class TestKeysInTwoRegions:
    """The site's own key rotation (viewers/ivs/key_rotation.py) across two regions, through boto3 and the local
    origin's IVS API, as a two-region demo runs it: imported where channels are, deleted from both on retire."""

    @pytest.fixture
    def site_points_at_it(self, live_server, settings, monkeypatch, tmp_path):
        settings.AWS_REGION = "us-west-2"
        settings.AWS_ENDPOINT_URL_IVS = live_server.url + "/ivs"
        for name, value in [("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")]:
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
        aws._client.cache_clear()
        yield
        for region in ("us-west-2", "eu-west-1"):
            aws.ivs_client(region).close()
        aws._client.cache_clear()

    def test_a_key_is_imported_into_both_regions_and_retired_from_both(
        self, site_points_at_it, channel, finals, ivs_in, settings
    ):
        from viewers.ivs import key_rotation
        from viewers.models import PlaybackKey

        key = PlaybackKey(name="rotation-two", public_key_pem=public_pem())
        key.full_clean()
        key.save()
        assert sorted(key_rotation.import_into_ivs(key)) == ["eu-west-1", "us-west-2"]
        recorded = dict(key.regions.values_list("region", "arn"))
        for region in ("us-west-2", "eu-west-1"):
            pairs = ivs_in(region).list_playback_key_pairs()["keyPairs"]
            assert [pair["arn"] for pair in pairs] == [recorded[region]]

        settings.IVS_TOKEN_TTL_SECONDS = 0
        note = key_rotation.retire(key, now=key.created_at + timedelta(hours=1))
        assert "eu-west-1" in note and "us-west-2" in note
        assert not PlaybackKeyPair.objects.exists()
