"""Minting for the token tests: a fixed channel and clock, and decoding the way IVS does (ES384 with the public key)."""

import jwt

from viewers.ivs import tokens

ARN = "arn:aws:ivs:us-west-2:123456789012:channel/MainEvent01"
NOW = 1_800_000_000


def ivs_decode(token, public_key):
    """What IVS does: verify ES384 with the imported public key, then read the claims."""
    return jwt.decode(token, public_key, algorithms=["ES384"], options={"verify_exp": False, "verify_iat": False})


def mint(key, **overrides):
    kwargs = dict(channel_arn=ARN, now=NOW, ttl=300)
    kwargs.update(overrides)
    return tokens.mint(key, **kwargs)
