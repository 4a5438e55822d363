"""The local origin's IVS control-plane API, driven by a real boto3 client over HTTP.

Every answer (success or error) is checked against botocore's service model: botocore parses it, and
check_answer() insists on the required members, no unknown ones, the model's constraints, and for
errors the modeled status, the x-amzn-ErrorType header and a message.
"""

import json
from datetime import timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localivs import shapes
from localivs.models import PlaybackKeyPair, ViewerRevocation
from tests.conftest import PRIVATE_ARN, PUBLIC_ARN, playback_url_for
from tests.factories import revocation_row
from tests.test_localivs import open_session, refusal, uris
from viewers import revocation
from viewers.ivs import aws, tokens
from viewers.models import Channel, SessionEnd

OTHER_REGION_ARN = PRIVATE_ARN.replace("us-west-2", "eu-west-1")
UNKNOWN_ARN = PRIVATE_ARN.replace("MainEvent01", "Nope")


def check_answer(operation, status, headers, body: bytes):
    """The answer of `operation` conforms to botocore's model; returns its JSON body."""
    data = json.loads(body)
    assert headers["Content-Type"] == "application/json"
    if status < 300:
        shape = shapes.output_shape(operation)
        assert shapes.problems(data, shape) == []
        _assert_required_present(data, shape)
        return data
    code = headers["x-amzn-ErrorType"]
    assert isinstance(data["message"], str) and data["message"]
    modeled = {error.name: error for error in shapes.service_model().operation_model(operation).error_shapes}
    if code in modeled:
        assert status == modeled[code].metadata["error"]["httpStatusCode"]
    return data


def _assert_required_present(value, shape):
    """botocore's parser silently fills gaps: check the raw body has every required member, at every depth."""
    if shape.type_name == "structure":
        assert set(shape.required_members) <= set(value), (shape.name, value)
        for name, member in shape.members.items():
            if name in value:
                _assert_required_present(value[name], member)
    elif shape.type_name == "list":
        for item in value:
            _assert_required_present(item, shape.member)


@pytest.fixture
def checked():
    """Names of the operations whose answers check_answer() saw, so a test proves the hook ran."""
    return []


def _close_after_each_answer(request, **kwargs):
    # Keep-alive would leave the live server's request threads open past the test, holding its shared
    # in-memory database connection while the fixture tears it down.
    request.headers["Connection"] = "close"


@pytest.fixture
def ivs_in(live_server, checked):
    """ivs_in(region): a boto3 IVS client for the local origin, signing for that region."""
    clients = []

    def make(region):
        client = boto3.client(
            "ivs",
            endpoint_url=live_server.url + "/ivs",
            region_name=region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 1}),
        )

        def on_answer(http_response, model, **kwargs):
            check_answer(model.name, http_response.status_code, http_response.headers, http_response.content)
            checked.append(model.name)

        client.meta.events.register("after-call.ivs", on_answer)
        client.meta.events.register("request-created.ivs", _close_after_each_answer)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def ivs(ivs_in):
    return ivs_in("us-west-2")


@pytest.fixture
def channel(transactional_db, registered_key):
    return Channel.objects.create(
        name="Main Event", slug="main-event", arn=PRIVATE_ARN, playback_url=playback_url_for(PRIVATE_ARN)
    )


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def public_pem():
    return tokens.public_key_pem(tokens.generate_private_key())


class TestRevocation:
    def test_a_revocation_stops_the_running_session_in_the_local_origin(
        self, ivs, checked, client, channel, signing_key
    ):
        variant = uris(open_session(client, signing_key, session_version=5).content.decode())[0]
        assert client.get(variant).status_code == 200
        ivs.start_viewer_session_revocation(
            channelArn=PRIVATE_ARN, viewerId="viewer-1", viewerSessionVersionsLessThanOrEqualTo=5
        )
        assert refusal(client.get(variant))["error_code"] == "viewer_session_revoked"
        assert checked == ["StartViewerSessionRevocation"]

    @pytest.mark.parametrize("version", [None, 0, 4])
    def test_newer_session_versions_play_on(self, ivs, client, channel, signing_key, version):
        variant = uris(open_session(client, signing_key, session_version=5).content.decode())[0]
        extra = {} if version is None else {"viewerSessionVersionsLessThanOrEqualTo": version}
        ivs.start_viewer_session_revocation(channelArn=PRIVATE_ARN, viewerId="viewer-1", **extra)
        assert client.get(variant).status_code == 200
        assert ViewerRevocation.objects.get().max_version == (version or 0)

    @pytest.mark.parametrize("change", ["deleted", "re-pointed"])
    def test_a_channel_the_site_forgot_is_still_ivs_s_and_its_sessions_can_be_revoked(
        self, ivs, client, channel, signing_key, change
    ):
        """IVS keeps a channel and its running sessions when the site deletes its row or points it elsewhere."""
        variant = uris(open_session(client, signing_key, session_version=5).content.decode())[0]
        if change == "deleted":
            channel.delete()
        else:
            Channel.objects.filter(pk=channel.pk).update(arn=UNKNOWN_ARN.replace("Nope", "Elsewhere01"))
        assert client.get(variant).status_code == 200  # still playing, as at IVS
        ivs.start_viewer_session_revocation(
            channelArn=PRIVATE_ARN, viewerId="viewer-1", viewerSessionVersionsLessThanOrEqualTo=5
        )
        assert refusal(client.get(variant))["error_code"] == "viewer_session_revoked"

    def test_an_unknown_channel_or_one_in_another_region_is_not_found(self, ivs, channel):
        for arn in (UNKNOWN_ARN, OTHER_REGION_ARN):
            assert error_of(lambda a=arn: ivs.start_viewer_session_revocation(channelArn=a, viewerId="v")) == (
                "ResourceNotFoundException",
                404,
            )
        assert not ViewerRevocation.objects.exists()

    def test_a_batch_revokes_every_viewer_and_reports_bad_entries_one_by_one(self, ivs, client, channel, signing_key):
        first = uris(open_session(client, signing_key, viewer_id="viewer-1", session_version=5).content.decode())[0]
        second = uris(open_session(client, signing_key, viewer_id="viewer-2", session_version=6).content.decode())[0]
        response = ivs.batch_start_viewer_session_revocation(
            viewerSessions=[
                {"channelArn": PRIVATE_ARN, "viewerId": "viewer-1", "viewerSessionVersionsLessThanOrEqualTo": 5},
                {"channelArn": UNKNOWN_ARN, "viewerId": "viewer-3"},
                {"channelArn": PRIVATE_ARN, "viewerId": "viewer-2", "viewerSessionVersionsLessThanOrEqualTo": 6},
                {"channelArn": OTHER_REGION_ARN, "viewerId": "viewer-4"},
            ]
        )
        assert [(e["channelArn"], e["viewerId"], e["code"]) for e in response["errors"]] == [
            (UNKNOWN_ARN, "viewer-3", "ResourceNotFoundException"),
            (OTHER_REGION_ARN, "viewer-4", "ResourceNotFoundException"),
        ]
        assert refusal(client.get(first))["error_code"] == "viewer_session_revoked"
        assert refusal(client.get(second))["error_code"] == "viewer_session_revoked"

    def test_a_clean_batch_answers_an_empty_error_list(self, ivs, channel):
        response = ivs.batch_start_viewer_session_revocation(
            viewerSessions=[{"channelArn": PRIVATE_ARN, "viewerId": "v"}]
        )
        assert response["errors"] == []

    def test_limits_botocore_leaves_to_the_server_are_enforced(self, ivs, channel):
        too_long = lambda: ivs.start_viewer_session_revocation(channelArn=PRIVATE_ARN, viewerId="v" * 41)  # noqa: E731
        too_big = lambda: ivs.start_viewer_session_revocation(  # noqa: E731
            channelArn=PRIVATE_ARN, viewerId="v", viewerSessionVersionsLessThanOrEqualTo=2**31
        )
        assert error_of(too_long) == ("ValidationException", 400)
        assert error_of(too_big) == ("ValidationException", 400)
        assert not ViewerRevocation.objects.exists()


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
        assert (got["arn"], got["name"], got["authorized"]) == (PRIVATE_ARN, "main-event", True)
        assert got["playbackUrl"] == playback_url_for(PRIVATE_ARN)
        assert ivs.get_channel(arn=PUBLIC_ARN)["channel"]["authorized"] is False
        assert error_of(lambda: ivs.get_channel(arn=OTHER_REGION_ARN)) == ("ResourceNotFoundException", 404)

    def test_list_channels_lists_the_region_page_by_page(self, ivs, ivs_in, channels):
        pages = list(ivs.get_paginator("list_channels").paginate(PaginationConfig={"PageSize": 1}))
        assert [[c["arn"] for c in page["channels"]] for page in pages] == [[PRIVATE_ARN], [PUBLIC_ARN]]
        elsewhere = ivs_in("eu-west-1")
        assert [c["name"] for c in elsewhere.list_channels()["channels"]] == ["eu-show"]

    def test_filters_narrow_the_list_and_exclude_each_other(self, ivs, channels):
        assert [c["arn"] for c in ivs.list_channels(filterByName="main-event")["channels"]] == [PRIVATE_ARN]
        policy = "arn:aws:ivs:us-west-2:123456789012:playback-restriction-policy/abc"
        assert ivs.list_channels(filterByPlaybackRestrictionPolicyArn=policy)["channels"] == []
        both = lambda: ivs.list_channels(filterByName="x", filterByPlaybackRestrictionPolicyArn=policy)  # noqa: E731
        assert error_of(both) == ("ConflictException", 409)

    def test_a_client_configured_by_environment_alone_reaches_it(self, live_server, channels, monkeypatch, tmp_path):
        monkeypatch.setenv("AWS_ENDPOINT_URL_IVS", live_server.url + "/ivs")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")  # botocore's own setting; it ignores AWS_REGION
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
        plain = boto3.client("ivs")
        plain.meta.events.register("request-created.ivs", _close_after_each_answer)
        try:
            assert [c["arn"] for c in plain.list_channels()["channels"]] == [PRIVATE_ARN, PUBLIC_ARN]
        finally:
            plain.close()


class TestTheSitesDelivery:
    """viewers/revocation.py's own boto3 delivery, pointed at the local origin as `make run` points it."""

    @pytest.fixture
    def site_points_at_it(self, live_server, settings, monkeypatch, tmp_path):
        settings.AWS_REGION = "us-west-2"
        settings.AWS_ENDPOINT_URL_IVS = live_server.url + "/ivs"
        settings.AWS_READ_TIMEOUT_SECONDS = 1  # a call blocked by a held database lock fails the test quickly
        for name, value in [("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")]:
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
        aws._client.cache_clear()  # the site keeps one client per region and endpoint
        yield
        aws.ivs_client("us-west-2").close()
        aws._client.cache_clear()

    @pytest.mark.parametrize("viewers", [1, 2], ids=["single call", "batch call"])
    def test_queued_revocations_stop_the_sessions(self, site_points_at_it, client, channel, signing_key, viewers):
        variants = []
        for n in range(1, viewers + 1):
            opened = open_session(client, signing_key, viewer_id=f"viewer-{n}", session_version=n)
            variants.append(uris(opened.content.decode())[0])
            revocation_row(channel=channel, viewer_id=f"viewer-{n}", max_version=n, reason=SessionEnd.REVOKED)
        report = revocation.deliver_pending(sleep=lambda seconds: None)
        assert (report.delivered, report.pending, report.failed) == (viewers, 0, 0)
        for variant in variants:
            assert refusal(client.get(variant))["error_code"] == "viewer_session_revoked"


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
