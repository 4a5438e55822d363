"""How the local origin's tests call it and read its answers: control-plane answers checked against botocore's
model, playback tokens, playlists and refusals."""

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from localivs import shapes
from tests.factories import PRIVATE_ARN
from viewers.ivs import tokens


def check_answer(operation, status, headers, body: bytes, service="ivs"):
    """The answer of `operation` conforms to botocore's model of `service`; returns its JSON body."""
    assert headers["Content-Type"] == "application/json"
    if status == 204:  # the model's responseCode for a few deletions: nothing to say
        assert shapes.response_code(operation, service) == 204 and body == b""
        return None
    data = json.loads(body)
    if status < 300:
        assert status == shapes.response_code(operation, service)
        shape = shapes.output_shape(operation, service)
        assert shapes.problems(data, shape) == []
        _assert_required_present(data, shape)
        return data
    code = headers["x-amzn-ErrorType"]
    assert isinstance(data["message"], str) and data["message"]
    modeled = {error.name: error for error in shapes.service_model(service).operation_model(operation).error_shapes}
    if code in modeled:
        assert status == modeled[code].metadata["error"]["httpStatusCode"]
        if service == "ivschat":  # its error shapes require members of their own (resourceId, reason…)
            error = {name: value for name, value in data.items() if name in modeled[code].members}
            assert shapes.problems(error, modeled[code]) == []
            _assert_required_present(data, modeled[code])
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


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def public_pem():
    return tokens.public_key_pem(tokens.generate_private_key())


MULTIVARIANT = "/ivs/api/video/v1/us-west-2.123456789012.channel.MainEvent01.m3u8"


def token(signing_key, **overrides):
    kwargs = dict(
        channel_arn=PRIVATE_ARN,
        now=int(time.time()),
        ttl=300,
        viewer_id="viewer-1",
        session_version=5,
        single_use_uuid=str(uuid.uuid4()),
    )
    kwargs.update(overrides)
    return tokens.mint(signing_key, **kwargs).token


def refusal(response):
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    (body,) = response.json()
    assert body["type"] == "error"
    return body


def uris(playlist):
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


def open_session(client, signing_key, **overrides):
    response = client.get(MULTIVARIANT, {"token": token(signing_key, **overrides)})
    assert response.status_code == 200, response.content
    return response


def close_after_each_answer(request, **kwargs):
    # Keep-alive would leave the live server's request threads open past the test, holding its shared
    # in-memory database connection while the fixture tears it down.
    request.headers["Connection"] = "close"
