"""The local origin's ListStreams and GetStream, through boto3, each answer checked against botocore's model (the
`ivs` fixture's hook): a channel whose playback URL points here is live, any other is not broadcasting."""

from datetime import UTC, datetime

import pytest

from tests.factories import PRIVATE_ARN
from tests.localivs.answers import MULTIVARIANT, error_of, open_session
from viewers.models import Channel

OTHER_REGION_ARN = PRIVATE_ARN.replace("us-west-2", "eu-west-1")


@pytest.fixture
def live_channel(channel):
    """The channel fixture, pointed at this origin: the looping stream plays there."""
    Channel.objects.filter(pk=channel.pk).update(playback_url="http://testserver" + MULTIVARIANT)
    return channel


def played_here(n):
    return Channel.objects.create(
        name=f"Here {n}",
        slug=f"here-{n}",
        arn=f"arn:aws:ivs:us-west-2:123456789012:channel/Here{n}",
        playback_url=f"http://127.0.0.1:8000/ivs/api/video/v1/us-west-2.123456789012.channel.Here{n}.m3u8",
    )


def midnight_utc():
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


class TestListStreams:
    def test_a_channel_played_here_is_live_and_healthy_since_midnight_utc(self, ivs, checked, live_channel):
        (stream,) = ivs.list_streams()["streams"]
        assert stream["channelArn"] == PRIVATE_ARN
        assert (stream["state"], stream["health"]) == ("LIVE", "HEALTHY")
        assert stream["startTime"] == midnight_utc()
        assert stream["streamId"].startswith("st-") and len(stream["streamId"]) == 26
        assert checked == ["ListStreams"]

    def test_its_viewer_count_is_the_sessions_playing_now(self, ivs, client, live_channel, signing_key):
        assert ivs.list_streams()["streams"][0]["viewerCount"] == 0
        open_session(client, signing_key, viewer_id="viewer-1")
        open_session(client, signing_key, viewer_id="viewer-2")
        assert ivs.list_streams()["streams"][0]["viewerCount"] == 2

    def test_a_channel_played_elsewhere_and_other_regions_are_not_listed(self, ivs, ivs_in, channel):
        played_here(1)
        assert [s["channelArn"] for s in ivs.list_streams()["streams"]] == [
            "arn:aws:ivs:us-west-2:123456789012:channel/Here1"
        ]
        assert ivs_in("eu-west-1").list_streams()["streams"] == []

    def test_it_pages_like_ivs(self, ivs, transactional_db):
        for n in range(5):
            played_here(n)
        pages = list(ivs.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 2}))
        assert [len(page["streams"]) for page in pages] == [2, 2, 1]
        assert len({s["channelArn"] for page in pages for s in page["streams"]}) == 5

    def test_a_health_filter_other_than_healthy_finds_nothing(self, ivs, live_channel):
        assert ivs.list_streams(filterBy={"health": "STARVING"})["streams"] == []
        assert len(ivs.list_streams(filterBy={"health": "HEALTHY"})["streams"]) == 1


class TestGetStream:
    def test_a_live_channel_s_stream(self, ivs, checked, live_channel):
        stream = ivs.get_stream(channelArn=PRIVATE_ARN)["stream"]
        assert (stream["state"], stream["playbackUrl"]) == ("LIVE", "http://testserver" + MULTIVARIANT)
        assert checked == ["GetStream"]

    def test_a_channel_not_played_here_is_not_broadcasting(self, ivs, checked, channel):
        assert error_of(lambda: ivs.get_stream(channelArn=PRIVATE_ARN)) == ("ChannelNotBroadcasting", 404)
        assert checked == ["GetStream"]  # the error's answer was checked against the model too

    def test_an_unknown_channel_or_one_in_another_region_is_not_found(self, ivs, live_channel):
        for arn in (PRIVATE_ARN.replace("MainEvent01", "Nope"), OTHER_REGION_ARN):
            assert error_of(lambda a=arn: ivs.get_stream(channelArn=a)) == ("ResourceNotFoundException", 404)
