"""The local origin's IVS control plane meets bad input: whatever the body, a clean 4xx in IVS's error shape, never a
500, and nothing written. Through Django's test client; the answers are checked as in tests/localivs/answers.py."""

import json

import pytest
from django.test import Client

from localivs import control, shapes
from localivs.models import PlaybackKeyPair, ViewerRevocation
from tests.factories import PRIVATE_ARN
from tests.localivs.answers import check_answer, public_pem

SIGV4 = (
    "AWS4-HMAC-SHA256 Credential=local/20260101/us-west-2/ivs/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)


def post(client, operation, body, authorization=SIGV4):
    data = body if isinstance(body, bytes) else json.dumps(body)
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    return client.generic("POST", f"/ivs/{operation}", data, content_type="application/json", **extra)


def rejected(response, operation, code="ValidationException"):
    assert response["x-amzn-ErrorType"] == code
    return check_answer(operation, response.status_code, response, response.content)["message"]


GOOD = {"channelArn": PRIVATE_ARN, "viewerId": "viewer-1"}


@pytest.mark.django_db
class TestBadInput:
    @pytest.mark.parametrize(
        "body",
        [
            b"not json",
            b"\xff\xfe{}",
            pytest.param(b"[" * 100_000, id="deeply-nested"),
            b"[]",
            b'"text"',
            b"null",
            {"viewerId": "viewer-1"},
            {**GOOD, "channelArn": 1},
            {**GOOD, "channelArn": "arn:aws:ivs:us-west-2:123456789012:stream-key/abc"},
            {**GOOD, "viewerId": ""},
            {**GOOD, "viewerId": "v" * 41},
            {**GOOD, "viewerId": "nul\x00"},
            {**GOOD, "viewerId": "\ud800"},
            {**GOOD, "viewerSessionVersionsLessThanOrEqualTo": "3"},
            {**GOOD, "viewerSessionVersionsLessThanOrEqualTo": True},
            {**GOOD, "viewerSessionVersionsLessThanOrEqualTo": 1.5},
            {**GOOD, "viewerSessionVersionsLessThanOrEqualTo": -1},
            {**GOOD, "viewerSessionVersionsLessThanOrEqualTo": 2**31},
            {**GOOD, "viewerSessionVersionsLessThanOrEqualTo": 10**40},
            {**GOOD, "unexpected": "member"},
        ],
    )
    def test_a_malformed_revocation_is_a_validation_error_and_revokes_nothing(self, client, private_channel, body):
        response = post(client, "StartViewerSessionRevocation", body)
        assert response.status_code == 400
        assert rejected(response, "StartViewerSessionRevocation")
        assert not ViewerRevocation.objects.exists()

    @pytest.mark.parametrize("sessions", [[], [GOOD] * 21, [GOOD, "x"], [GOOD, {"channelArn": PRIVATE_ARN}], {"a": 1}])
    def test_a_malformed_batch_revokes_nothing(self, client, private_channel, sessions):
        response = post(client, "BatchStartViewerSessionRevocation", {"viewerSessions": sessions})
        assert response.status_code == 400 and rejected(response, "BatchStartViewerSessionRevocation")
        assert not ViewerRevocation.objects.exists()

    @pytest.mark.parametrize(
        "body",
        [
            {"publicKeyMaterial": "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n"},
            {"publicKeyMaterial": public_pem(), "name": "has space"},
            {"publicKeyMaterial": public_pem(), "name": "n" * 129},
            {"publicKeyMaterial": public_pem(), "tags": []},
            {"publicKeyMaterial": public_pem(), "tags": {"k": 1}},
            {"publicKeyMaterial": public_pem(), "tags": {"": "v"}},
            {"publicKeyMaterial": public_pem(), "tags": {f"k{i}": "v" for i in range(51)}},
            {"publicKeyMaterial": public_pem(), "tags": {"k": "<script>"}},
        ],
    )
    def test_a_malformed_import_stores_nothing(self, client, body):
        response = post(client, "ImportPlaybackKeyPair", body)
        assert response.status_code == 400 and rejected(response, "ImportPlaybackKeyPair")
        assert not PlaybackKeyPair.objects.exists()

    @pytest.mark.parametrize(
        "body", [{"maxResults": 0}, {"maxResults": 101}, {"nextToken": "!!"}, {"nextToken": "A"}, {"nextToken": "_w=="}]
    )
    def test_bad_paging_is_a_validation_error(self, client, body):
        for operation in ("ListChannels", "ListPlaybackKeyPairs"):
            assert post(client, operation, body).status_code == 400

    def test_a_body_too_large_is_a_validation_error(self, client):
        response = post(client, "ImportPlaybackKeyPair", {"publicKeyMaterial": "x" * 3_000_000})
        assert response.status_code == 400 and rejected(response, "ImportPlaybackKeyPair")

    def test_an_empty_body_is_an_empty_object(self, client, private_channel):
        assert post(client, "ListChannels", b"").status_code == 200
        assert rejected(post(client, "GetChannel", b""), "GetChannel").startswith("Missing required parameter")

    @pytest.mark.parametrize("hostile", [None, True, 1.5, -1, 2**63, "", "x" * 5000, [], {}, "\ud800", "\x00"])
    def test_no_member_of_any_operation_can_cause_a_500(self, client, private_channel, hostile):
        for operation in sorted(control.OPERATIONS):  # the streams too
            for member in shapes.input_shape(operation).members:
                response = post(client, operation, {member: hostile})
                assert response.status_code < 500
                check_answer(operation, response.status_code, response, response.content)

    def test_it_needs_a_sigv4_shaped_authorization_header(self, client, private_channel):
        assert post(client, "ListChannels", {}, authorization=None).status_code == 403
        for header in ("Bearer abc", SIGV4.replace("/ivs/", "/s3/"), SIGV4.replace("us-west-2", "Nowhere")):
            response = post(client, "ListChannels", {}, authorization=header)
            assert response.status_code == 400 and rejected(response, "ListChannels", "IncompleteSignatureException")

    def test_it_is_csrf_exempt_and_post_only(self, private_channel):
        strict = Client(enforce_csrf_checks=True)
        assert post(strict, "GetChannel", {"arn": PRIVATE_ARN}).status_code == 200
        assert strict.get("/ivs/GetChannel").status_code == 405

    def test_an_unknown_operation_is_named_in_a_json_error(self, client):
        response = post(client, "CreateChannel", {})
        assert response.status_code == 404
        assert "CreateChannel" in rejected(response, "GetChannel", "UnknownOperationException")
