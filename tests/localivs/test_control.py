"""The local origin's IVS control-plane API, driven by a real boto3 client over HTTP.

Every answer (success or error) is checked against botocore's service model: botocore parses it, and
check_answer() insists on the required members, no unknown ones, the model's constraints, and for
errors the modeled status, the x-amzn-ErrorType header and a message.
"""

import pytest

from localivs.models import ViewerRevocation
from tests.factories import PRIVATE_ARN, revocation_row
from tests.localivs.answers import error_of, open_session, refusal, uris
from viewers import revocation
from viewers.ivs import aws
from viewers.models import Channel, SessionEnd

OTHER_REGION_ARN = PRIVATE_ARN.replace("us-west-2", "eu-west-1")
UNKNOWN_ARN = PRIVATE_ARN.replace("MainEvent01", "Nope")


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
