"""Verification the way IVS verifies a playback token: the signature with a registered public key, the claims IVS
checks, and a reason for every rejection; no database."""

import base64
import uuid

import jwt
import pytest

from tests.viewers.ivs.minting import ARN, NOW, mint
from viewers.ivs import tokens
from viewers.ivs.tokens import TokenRejected


def verify(token, key, **overrides):
    kwargs = dict(keys=[("k1", key.public_key())], channel_arn=ARN, now=NOW + 1)
    kwargs.update(overrides)
    return tokens.verify(token, **kwargs)


def rejection(token, key, **overrides):
    with pytest.raises(TokenRejected) as caught:
        verify(token, key, **overrides)
    return caught.value.code


def test_a_good_token_verifies_and_names_its_key(key, other_key):
    minted = mint(key, viewer_id="abc", session_version=2, max_resolution="SD")
    verified = tokens.verify(
        minted.token,
        keys=[("other", other_key.public_key()), ("mine", key.public_key())],
        channel_arn=ARN,
        now=NOW + 1,
    )
    assert verified.key_id == "mine"
    assert (verified.viewer_id, verified.session_version, verified.max_resolution) == ("abc", 2, "SD")


def test_it_rejects_another_algorithm(key):
    hs = jwt.encode({"aws:channel-arn": ARN, "exp": NOW + 60}, "secret-secret-secret-secret-secret", algorithm="HS256")
    assert rejection(hs, key) == "algorithm"


def test_it_rejects_alg_none(key):
    unsigned = jwt.encode({"aws:channel-arn": ARN, "exp": NOW + 60}, None, algorithm="none")
    assert rejection(unsigned, key) == "algorithm"


def test_it_rejects_a_token_from_an_unregistered_key(key, other_key):
    assert rejection(mint(other_key).token, key) == "signature"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def test_it_rejects_a_tampered_payload(key):
    header, payload, signature = mint(key).token.split(".")
    forged = unb64(payload).replace(b"MainEvent01", b"OtherChan01")
    assert rejection(f"{header}.{b64(forged)}.{signature}", key) == "signature"


def test_it_rejects_a_truncated_signature(key):
    header, payload, signature = mint(key).token.split(".")
    assert rejection(f"{header}.{payload}.{b64(unb64(signature)[:90])}", key) == "signature"


NESTED = b"[" * 5000 + b"]" * 5000


@pytest.mark.parametrize(
    "header, payload",
    [
        (b'{"alg":"ES384","typ":"JWT"}', NESTED),  # RecursionError inside json.loads
        (b'{"alg":"ES384","typ":"JWT"}', b'{"a":' * 5000 + b"1" + b"}" * 5000),
        (NESTED, b"{}"),
        (b'{"alg":"ES384","typ":"JWT"}', b'["not", "an", "object"]'),
        (b'{"alg":"ES384","typ":"JWT"}', b"\xff\xfe not utf-8"),
        (b'["ES384"]', b"{}"),
        (b'{"alg":["ES384"]}', b"{}"),
    ],
    ids=[
        "nested-list-payload",
        "nested-object-payload",
        "nested-header",
        "list-payload",
        "not-utf8",
        "list-header",
        "list-alg",
    ],
)
def test_any_bad_token_is_a_rejection_with_a_reason_never_another_exception(key, header, payload):
    token = f"{b64(header)}.{b64(payload)}.{b64(b'x' * 96)}"
    with pytest.raises(TokenRejected) as caught:
        verify(token, key)
    assert caught.value.code in tokens.REJECTIONS and caught.value.reason


@pytest.mark.parametrize(
    "garbage",
    ["\u00e9t\u00e9.\u00e9.\u00e9", "a" * 100_000, "e30.e30.e30", "e30.bnVsbA.AA", None, 12],
    ids=["non-ascii", "long", "empty-objects", "null-payload", "none", "int"],
)
def test_odd_inputs_are_rejected_with_a_reason(key, garbage):
    assert rejection(garbage, key) in {"malformed", "algorithm", "signature"}


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "a.b.c", "....", "eyJhbGciOiJFUzM4NCJ9.!!!.xx"])
def test_it_rejects_malformed_tokens(key, garbage):
    assert rejection(garbage, key) in {"malformed", "algorithm", "signature"}


def test_it_rejects_an_allow_origin_claim_that_is_not_a_string(key):
    # Found by tests/viewers/test_fuzz.py: `true` there used to raise AttributeError instead of a rejection.
    token = jwt.encode({"aws:channel-arn": ARN, "exp": NOW + 60, "aws:access-control-allow-origin": True}, key, "ES384")
    assert rejection(token, key, origin="https://example.com") == "malformed"


def test_it_rejects_a_token_without_exp(key):
    token = jwt.encode({"aws:channel-arn": ARN}, key, algorithm="ES384")
    assert rejection(token, key) == "exp_missing"


def test_it_rejects_a_token_with_exp_in_milliseconds_as_too_far(key):
    # AWS's Node example uses milliseconds; IVS then sees a token valid for ~50,000 years.
    token = jwt.encode({"aws:channel-arn": ARN, "exp": NOW * 1000, "aws:viewer-id": "a"}, key, algorithm="ES384")
    assert rejection(token, key) == "exp_too_far"


def test_it_rejects_an_expired_token(key):
    assert rejection(mint(key, ttl=60).token, key, now=NOW + 60) == "expired"
    assert verify(mint(key, ttl=60).token, key, now=NOW + 59)


def test_it_rejects_exp_beyond_ten_minutes_with_session_claims(key):
    token = jwt.encode({"aws:channel-arn": ARN, "exp": NOW + 601, "aws:single-use-uuid": "u"}, key, algorithm="ES384")
    assert rejection(token, key, now=NOW) == "exp_too_far"


def test_it_rejects_another_channel(key):
    assert rejection(mint(key).token, key, channel_arn=ARN.replace("MainEvent01", "Other")) == "channel_mismatch"


def test_it_checks_the_origin(key):
    token = mint(key, allowed_origins=["https://watch.example.com", "https://*.example.org"]).token
    assert verify(token, key, origin="https://watch.example.com")
    assert verify(token, key, origin="https://eu.example.org")
    assert verify(token, key, origin=None)  # not a browser: IVS's origin rule does not apply
    assert rejection(token, key, origin="https://evil.example.net") == "origin"
    assert rejection(token, key, origin="https://example.org") == "origin"
    assert rejection(token, key, origin="http://watch.example.com") == "origin"


def test_without_an_origin_claim_any_origin_plays(key):
    assert verify(mint(key).token, key, origin="https://anything.example")


def test_it_rejects_a_revoked_session(key):
    token = mint(key, viewer_id="abc", session_version=2).token
    assert rejection(token, key, revoked_through=lambda arn, viewer: 2) == "revoked"
    assert rejection(token, key, revoked_through=lambda arn, viewer: 5) == "revoked"
    assert verify(token, key, revoked_through=lambda arn, viewer: 1)


def test_it_rejects_a_reused_single_use_token(key):
    token = mint(key, single_use_uuid=str(uuid.uuid4())).token
    spent = set()

    def claim(single_use, exp):
        if single_use in spent:
            return False
        spent.add(single_use)
        return True

    assert verify(token, key, claim_single_use=claim)
    assert rejection(token, key, claim_single_use=claim) == "single_use_reused"


def test_a_rejected_token_does_not_spend_its_single_use_id(key):
    token = mint(key, single_use_uuid=str(uuid.uuid4())).token
    spent = []
    rejection(
        token,
        key,
        channel_arn="arn:aws:ivs:us-west-2:123456789012:channel/Other",
        claim_single_use=lambda u, e: spent.append(u),
    )
    assert spent == []


def test_each_rejection_states_a_distinct_reason():
    assert len(set(tokens.REJECTIONS.values())) == len(tokens.REJECTIONS)


def test_the_diagnostic_decoder_rejects_a_deeply_nested_token_too():
    """The decoder behind `manage.py ivs_verify`: PyJWT already turns this into a DecodeError; kept as a guard."""
    token = f"{b64(b'{}')}.{b64(NESTED)}.{b64(b'x' * 96)}"
    with pytest.raises(TokenRejected) as caught:
        tokens.decode_unverified(token)
    assert caught.value.code == "malformed"
