"""The local stand-in for IVS's playback origin: it must refuse exactly what IVS refuses."""

import time

import jwt
import pytest

from localivs import state
from localivs.models import PlaybackSession
from tests.factories import PRIVATE_ARN, playback_url_for
from tests.localivs.answers import MULTIVARIANT, open_session, refusal, token, uris
from viewers.ivs import tokens
from viewers.models import Channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(db, registered_key):
    return Channel.objects.create(
        name="Main Event", slug="main-event", arn=PRIVATE_ARN, playback_url=playback_url_for(PRIVATE_ARN)
    )


def test_a_good_token_gets_a_multivariant_playlist_with_sd_and_hd(client, channel, signing_key):
    response = open_session(client, signing_key)
    assert response["Content-Type"] == "application/vnd.apple.mpegurl"
    text = response.content.decode()
    assert "RESOLUTION=640x360" in text and "RESOLUTION=1280x720" in text and 'CODECS="avc1.' in text
    session = PlaybackSession.objects.get()
    assert (session.viewer_id, session.session_version) == ("viewer-1", 5)


def test_the_maximum_resolution_claim_filters_renditions(client, channel, signing_key):
    text = open_session(client, signing_key, max_resolution="SD").content.decode()
    assert "640x360" in text and "1280x720" not in text


def test_a_sd_session_cannot_fetch_the_hd_rendition_by_guessing_its_uri(client, channel, signing_key):
    (sd_uri,) = uris(open_session(client, signing_key, max_resolution="SD").content.decode())
    assert client.get(sd_uri).status_code == 200
    assert refusal(client.get(sd_uri.replace("/sd.m3u8", "/hd.m3u8")))["error_code"] == "resolution_not_allowed"


def test_the_variant_playlist_is_a_live_sliding_window(client, channel, signing_key):
    variant = uris(open_session(client, signing_key).content.decode())[0]
    text = client.get(variant).content.decode()
    assert "#EXT-X-ENDLIST" not in text and "#EXT-X-MEDIA-SEQUENCE:" in text
    segment = uris(text)[-1]
    response = client.get(segment)
    assert response.status_code == 200 and response["Content-Type"] == "video/mp2t"
    assert b"".join(response.streaming_content)[:1] == b"\x47"  # MPEG-TS sync byte


@pytest.mark.parametrize(
    "make_token, code",
    [
        (lambda key: "", "required"),
        (lambda key: "not-a-jwt", "not a well-formed JWT"),
        (lambda key: token(tokens.generate_private_key()), "does not verify"),
        (lambda key: token(key, now=int(time.time()) - 400), "expired"),
        (lambda key: token(key, channel_arn=PRIVATE_ARN.replace("MainEvent01", "Other")), "does not match"),
        (
            lambda key: jwt.encode({"aws:channel-arn": PRIVATE_ARN, "exp": int(time.time()) + 60}, "s" * 32),
            "ES384",
        ),
    ],
)
def test_it_refuses_bad_tokens_with_an_ivs_like_body(client, channel, signing_key, make_token, code):
    body = refusal(client.get(MULTIVARIANT, {"token": make_token(signing_key)}))
    assert body["error_code"] == "invalid_playback_auth_token"
    assert code in body["error"]
    assert not PlaybackSession.objects.exists()


def test_a_single_use_token_opens_one_session_only(client, channel, signing_key):
    single = token(signing_key)
    assert client.get(MULTIVARIANT, {"token": single}).status_code == 200
    assert "already been used" in refusal(client.get(MULTIVARIANT, {"token": single}))["error"]


def test_the_origin_claim_is_checked_on_the_multivariant_playlist(client, channel, signing_key):
    restricted = token(signing_key, allowed_origins=["https://watch.example.com"])
    assert (
        "Origin"
        in refusal(client.get(MULTIVARIANT, {"token": restricted}, HTTP_ORIGIN="https://evil.example"))["error"]
    )
    allowed = token(signing_key, allowed_origins=["https://watch.example.com"])
    assert client.get(MULTIVARIANT, {"token": allowed}, HTTP_ORIGIN="https://watch.example.com").status_code == 200


def test_strict_origin_enforcement_checks_every_request(client, channel, signing_key):
    response = client.get(
        MULTIVARIANT,
        {"token": token(signing_key, allowed_origins=["https://watch.example.com"], strict_origin=True)},
        HTTP_ORIGIN="https://watch.example.com",
    )
    variant = uris(response.content.decode())[0]
    assert client.get(variant, HTTP_ORIGIN="https://watch.example.com").status_code == 200
    assert refusal(client.get(variant, HTTP_ORIGIN="https://evil.example"))["error_code"] == "origin_not_allowed"


def test_a_revocation_stops_the_running_session_and_new_tokens_at_or_below_it(client, channel, signing_key):
    variant = uris(open_session(client, signing_key, session_version=5).content.decode())[0]
    state.start_viewer_session_revocation(PRIVATE_ARN, "viewer-1", 5)
    assert refusal(client.get(variant))["error_code"] == "viewer_session_revoked"
    assert "revoked" in refusal(client.get(MULTIVARIANT, {"token": token(signing_key, session_version=4)}))["error"]
    assert client.get(MULTIVARIANT, {"token": token(signing_key, session_version=6)}).status_code == 200


def test_revocation_versions_only_rise(channel):
    state.start_viewer_session_revocation(PRIVATE_ARN, "viewer-1", 9)
    state.start_viewer_session_revocation(PRIVATE_ARN, "viewer-1", 3)
    assert state.revoked_through(PRIVATE_ARN, "viewer-1") == 9


def test_an_unknown_channel_is_404_like_an_offline_one(client, channel, signing_key):
    response = client.get(MULTIVARIANT.replace("MainEvent01", "Nope"), {"token": token(signing_key)})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/ivs/s/nosuchsession/sd.m3u8", "/ivs/s/nosuchsession/sd/1.ts", "/ivs/s/x/../../etc/passwd", "/ivs/s/x/sd/-1.ts"],
)
def test_unknown_sessions_and_odd_paths_are_refused_cleanly(client, channel, path):
    assert client.get(path).status_code == 404


def test_a_public_channel_needs_no_token(client, public_channel):
    response = client.get("/ivs/api/video/v1/us-west-2.123456789012.channel.OpenLobby01.m3u8")
    assert response.status_code == 200


def test_it_refuses_posts(client, channel):
    assert client.post(MULTIVARIANT).status_code == 405


def test_spent_ids_are_forgotten_after_their_token_expires(channel, signing_key):
    assert state.claim_single_use("u-1", int(time.time()) - 10)
    assert state.forget_spent_tokens() == 1


def test_a_deeply_nested_token_is_refused_never_a_500(client, channel):
    """A payload nested 5,000 deep made json.loads raise RecursionError, and the origin answered 500."""
    import base64

    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    nested = b64(b'{"alg":"ES384","typ":"JWT"}') + "." + b64(b"[" * 5000 + b"]" * 5000) + "." + b64(b"x" * 96)
    response = client.get(MULTIVARIANT, {"token": nested})
    assert response.status_code == 403
    assert refusal(response)["error_code"] == "invalid_playback_auth_token"
