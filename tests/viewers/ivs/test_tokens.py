"""Minting and verification, with no database. Tokens are checked the way IVS checks them."""

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.viewers.ivs.minting import ARN, NOW, ivs_decode, mint
from viewers.ivs import tokens


def test_it_signs_es384_with_a_jwt_header(key):
    minted = mint(key)
    assert jwt.get_unverified_header(minted.token) == {"alg": "ES384", "typ": "JWT"}
    assert ivs_decode(minted.token, key.public_key())[tokens.CLAIM_CHANNEL_ARN] == ARN


def test_it_puts_exp_in_seconds(key):
    claims = ivs_decode(mint(key, ttl=300).token, key.public_key())
    assert claims["exp"] == NOW + 300
    assert claims["iat"] == NOW


def test_it_carries_every_optional_claim(key):
    single_use = str(uuid.uuid4())
    minted = mint(
        key,
        viewer_id="v" * 32,
        session_version=3,
        single_use_uuid=single_use,
        allowed_origins=["https://watch.example.com", "https://*.example.org"],
        strict_origin=True,
        max_resolution="HD",
    )
    assert ivs_decode(minted.token, key.public_key()) == {
        "aws:channel-arn": ARN,
        "iat": NOW,
        "exp": NOW + 300,
        "aws:viewer-id": "v" * 32,
        "aws:viewer-session-version": 3,
        "aws:single-use-uuid": single_use,
        "aws:access-control-allow-origin": "https://watch.example.com,https://*.example.org",
        "aws:strict-origin-enforcement": True,
        "aws:maximum-resolution": "HD",
    }


def test_it_leaves_out_claims_that_are_not_asked_for(key):
    claims = ivs_decode(mint(key).token, key.public_key())
    assert set(claims) == {"aws:channel-arn", "iat", "exp"}


def test_it_does_not_verify_with_another_key(key, other_key):
    with pytest.raises(jwt.InvalidSignatureError):
        ivs_decode(mint(key).token, other_key.public_key())


@pytest.mark.parametrize(
    "overrides",
    [
        {"ttl": 601, "viewer_id": "abc"},
        {"ttl": 601, "single_use_uuid": str(uuid.uuid4())},
        {"viewer_id": "x" * 41},
        {"max_resolution": "4K"},
        {"ttl": 0},
        {"channel_arn": ""},
        {"allowed_origins": [f"https://{i}.example.com" for i in range(6)], "strict_origin": True},
    ],
)
def test_it_refuses_claims_ivs_would_reject(key, overrides):
    with pytest.raises(ValueError):
        mint(key, **overrides)


def test_a_long_ttl_is_fine_without_session_claims(key):
    assert mint(key, ttl=3600).expires_at == NOW + 3600


def test_with_token_appends_the_query_parameter():
    assert tokens.with_token("https://h/x.m3u8", "T") == "https://h/x.m3u8?token=T"
    assert tokens.with_token("https://h/x.m3u8?a=1", "T") == "https://h/x.m3u8?a=1&token=T"


# --- keys


def test_it_loads_a_p384_key(key):
    loaded = tokens.load_private_key(tokens.private_key_pem(key))
    assert loaded.private_numbers() == key.private_numbers()


def test_it_refuses_a_key_on_another_curve():
    p256 = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(tokens.PlaybackKeyError, match="secp256r1.*P-384"):
        tokens.load_private_key(tokens.private_key_pem(p256))


@pytest.mark.parametrize("pem", [b"", b"not a key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
def test_it_refuses_garbage_as_a_key(pem):
    with pytest.raises(tokens.PlaybackKeyError, match="not a valid PEM"):
        tokens.load_private_key(pem)


def test_it_refuses_an_rsa_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(tokens.PlaybackKeyError, match="not an elliptic-curve key"):
        tokens.load_private_key(tokens.private_key_pem(rsa_key))


def test_fingerprint_looks_like_ivs(key):
    fp = tokens.fingerprint(key)
    assert len(fp.split(":")) == 16
    assert fp == tokens.fingerprint(key.public_key())


# --- verification, as IVS does it


def test_minting_uses_the_parsed_key_without_reparsing(key, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("minting must not parse PEM")

    monkeypatch.setattr(tokens.serialization, "load_pem_private_key", boom)
    assert mint(key, now=int(time.time())).token
