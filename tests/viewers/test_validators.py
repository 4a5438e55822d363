"""What operators may type in as a channel's ARN and playback URL."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import PRIVATE_ARN, playback_url_for
from viewers.models import Channel
from viewers.validators import (
    is_loopback_host,
    validate_channel_arn,
    validate_playback_url_matches_arn,
    validate_playback_url_shape,
)

GOOD_URL = playback_url_for(PRIVATE_ARN)


def error_code(validator, *args):
    """The code of the one error the validator raises, whether on its own or keyed by a field."""
    with pytest.raises(ValidationError) as excinfo:
        validator(*args)
    error = excinfo.value
    errors = (
        [e for field_errors in error.error_dict.values() for e in field_errors]
        if hasattr(error, "error_dict")
        else error.error_list
    )
    assert len(errors) == 1
    return errors[0].code


class TestChannelArn:
    @pytest.mark.parametrize(
        "arn",
        [
            PRIVATE_ARN,
            "arn:aws:ivs:eu-central-1:000000000000:channel/a",
            "arn:aws:ivs:ap-northeast-2:123456789012:channel/AbCd-1234-efgh",
            "arn:aws:ivs:us-gov-west-1:123456789012:channel/x1",
            "arn:aws:ivs:us-west-2:123456789012:channel/" + "a" * (128 - 43),
        ],
    )
    def test_it_accepts_channel_arns(self, arn):
        validate_channel_arn(arn)

    @pytest.mark.parametrize(
        "arn",
        [
            "",
            "arn:aws:s3:us-west-2:123456789012:channel/MainEvent01",  # another service
            "arn:aws:ivs:us-west-2:123456789012:stream-key/MainEvent01",  # another resource
            "arn:aws:ivs:us-west-2:123456789012:playback-key/MainEvent01",
            "arn:aws:ivs:us-west-2:12345678901:channel/MainEvent01",  # 11-digit account
            "arn:aws:ivs:us-west-2:1234567890123:channel/MainEvent01",  # 13-digit account
            "arn:aws:ivs:us-west-2:12345678901a:channel/MainEvent01",
            "arn:aws:ivs::123456789012:channel/MainEvent01",  # no region
            "arn:aws:ivs:US-WEST-2:123456789012:channel/MainEvent01",
            "arn:aws:ivs:us-west-2:123456789012:channel/",  # no id
            "arn:aws:ivs:us-west-2:123456789012:channel/Main_Event",  # underscore
            "arn:aws:ivs:us-west-2:123456789012:channel/Main Event",
            "arn:aws:ivs:us-west-2:123456789012:channel/Main/Event",
            "arn:aws:ivs:us-west-2:123456789012:channel/*",  # no wildcards: sign the exact ARN
            "arn:aws:ivs:us-west-2:123456789012:channel/" + "a" * (129 - 43),  # 129 characters
            " arn:aws:ivs:us-west-2:123456789012:channel/MainEvent01",
            "arn:aws:ivs:us-west-2:123456789012:channel/MainEvent01 ",
            "arn:aws:ivs:us-west-2:123456789012:channel/MainEvent01\n",  # $ would let this through
        ],
    )
    def test_it_rejects_anything_else(self, arn):
        assert error_code(validate_channel_arn, arn) == "invalid_arn"

    def test_the_length_limit_is_128(self):
        arn = "arn:aws:ivs:us-west-2:123456789012:channel/" + "a" * (128 - 43)
        assert len(arn) == 128
        validate_channel_arn(arn)
        with pytest.raises(ValidationError):
            validate_channel_arn(arn + "a")

    def test_the_message_shows_an_example(self):
        with pytest.raises(ValidationError, match=r"arn:aws:ivs:us-west-2:123456789012:channel/"):
            validate_channel_arn("nope")


class TestLoopbackHost:
    @pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.1.2.3", "::1"])
    def test_loopback_hosts(self, host):
        assert is_loopback_host(host)

    UNSPECIFIED = "0.0.0.0"  # noqa: S104  (a value under test, not a bind address)

    @pytest.mark.parametrize("host", [None, "", "example.com", "10.0.0.1", UNSPECIFIED, "localhost.example.com", "::"])
    def test_other_hosts(self, host):
        assert not is_loopback_host(host)


class TestPlaybackUrlShape:
    @pytest.mark.parametrize(
        "url",
        [
            GOOD_URL,
            "https://cdn.example.com/live/stream.m3u8",  # not IVS: any path ending in .m3u8
            "http://127.0.0.1:8000/ivs/api/video/v1/us-west-2.123456789012.channel.MainEvent01.m3u8",
            "http://localhost:8000/live.m3u8",
            "http://[::1]:8000/live.m3u8",
        ],
    )
    def test_it_accepts_playback_urls(self, url):
        validate_playback_url_shape(url)

    @pytest.mark.parametrize(
        "url",
        [
            GOOD_URL.replace("https://", "http://"),
            "http://example.com/live.m3u8",
            "http://10.0.0.5/live.m3u8",
            "http://localhost.example.com/live.m3u8",
            "ftp://127.0.0.1/live.m3u8",
        ],
    )
    def test_it_wants_https_except_on_loopback(self, url):
        assert error_code(validate_playback_url_shape, url) == "insecure_playback_url"

    @pytest.mark.parametrize(
        "url",
        ["https://cdn.example.com/live/stream.mp4", "https://cdn.example.com/", GOOD_URL.removesuffix(".m3u8")],
    )
    def test_it_wants_an_m3u8_playlist(self, url):
        assert error_code(validate_playback_url_shape, url) == "not_m3u8"

    @pytest.mark.parametrize("suffix", ["?token=abc", "?a=1", "#top", "?", "#"])
    def test_it_refuses_a_query_string_because_the_site_adds_the_token(self, suffix):
        assert error_code(validate_playback_url_shape, GOOD_URL + suffix) == "playback_url_query"

    @pytest.mark.parametrize(
        "url",
        [
            "https://a1b2c3d4e5f6.us-west-2.playback.live-video.net/live.m3u8",
            "https://a1b2c3d4e5f6.us-west-2.playback.live-video.net/api/video/v1/MainEvent01.m3u8",
            "https://a1b2c3d4e5f6.us-west-2.playback.live-video.net/api/video/v1/us-west-2.12345.channel.Main.m3u8",
            "https://a1b2c3d4e5f6.us-west-2.playback.live-video.net/api/video/v2/us-west-2.123456789012.channel.M.m3u8",
        ],
    )
    def test_an_ivs_host_needs_the_ivs_path(self, url):
        assert error_code(validate_playback_url_shape, url) == "not_ivs_playback_path"


class TestPlaybackUrlMatchesArn:
    def test_the_same_channel_passes(self):
        validate_playback_url_matches_arn(GOOD_URL, PRIVATE_ARN)

    @pytest.mark.parametrize(
        "arn",
        [
            "arn:aws:ivs:us-west-2:123456789012:channel/OtherChan01",
            "arn:aws:ivs:us-west-2:999999999999:channel/MainEvent01",
            "arn:aws:ivs:eu-west-1:123456789012:channel/MainEvent01",
        ],
    )
    def test_a_different_channel_account_or_region_fails(self, arn):
        assert error_code(validate_playback_url_matches_arn, GOOD_URL, arn) == "playback_url_arn_mismatch"

    def test_a_host_in_another_region_fails(self):
        url = GOOD_URL.replace(".us-west-2.playback", ".eu-west-1.playback")
        assert error_code(validate_playback_url_matches_arn, url, PRIVATE_ARN) == "playback_url_region_mismatch"

    def test_a_url_that_is_not_ivs_shaped_is_not_compared(self):
        validate_playback_url_matches_arn("https://cdn.example.com/live.m3u8", PRIVATE_ARN)


@pytest.mark.django_db
class TestChannelFullClean:
    def channel(self, **fields):
        values = {"name": "Main Event", "slug": "main-event", "arn": PRIVATE_ARN, "playback_url": GOOD_URL}
        return Channel(**(values | fields))

    def test_a_matching_channel_is_clean(self):
        self.channel().full_clean()

    @pytest.mark.parametrize(
        "arn",
        [
            "arn:aws:ivs:us-west-2:123456789012:channel/OtherChan01",
            "arn:aws:ivs:us-west-2:999999999999:channel/MainEvent01",
            "arn:aws:ivs:eu-west-1:123456789012:channel/MainEvent01",
        ],
    )
    def test_it_rejects_a_playback_url_of_another_channel(self, arn):
        with pytest.raises(ValidationError) as excinfo:
            self.channel(arn=arn).full_clean()
        assert excinfo.value.message_dict == {
            "playback_url": ["This playback URL belongs to a different channel than the ARN."]
        }

    def test_it_rejects_a_bad_arn_on_the_arn_field(self):
        with pytest.raises(ValidationError) as excinfo:
            self.channel(arn="arn:aws:ivs:us-west-2:123:channel/MainEvent01").full_clean()
        assert list(excinfo.value.message_dict) == ["arn"]

    def test_it_rejects_an_insecure_url_on_the_url_field(self):
        with pytest.raises(ValidationError) as excinfo:
            self.channel(playback_url=GOOD_URL.replace("https:", "http:")).full_clean()
        assert excinfo.value.message_dict["playback_url"] == ["The playback URL must use https."]

    def test_a_local_stand_in_url_is_clean(self):
        self.channel(playback_url="http://127.0.0.1:8000/ivs/live/main.m3u8").full_clean()
