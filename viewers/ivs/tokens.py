"""IVS playback tokens: minting (the site's side) and verification (IVS's side).

Pure functions over key objects and plain values: no settings, no database (origins: viewers/ivs/origins.py).
Callers load keys once per process (viewers.ivs.signing_keys) and inject any state that
verification needs (spent single-use ids, revoked viewer sessions) as callables.
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from viewers import resolutions
from viewers.ivs import origins

ALGORITHM = "ES384"
CURVE = ec.SECP384R1
# IVS refuses tokens that live longer than this once they carry a viewer id or a single-use id.
MAX_TTL_WITH_SESSION_CLAIMS = 600
# With strict origin enforcement IVS accepts at most this many origins.
MAX_STRICT_ORIGINS = 5
MAX_VIEWER_ID_LENGTH = 40
RESOLUTIONS = resolutions.CLAIM_VALUES  # aws:maximum-resolution values

CLAIM_CHANNEL_ARN = "aws:channel-arn"
CLAIM_ALLOW_ORIGIN = "aws:access-control-allow-origin"
CLAIM_STRICT_ORIGIN = "aws:strict-origin-enforcement"
CLAIM_SINGLE_USE = "aws:single-use-uuid"
CLAIM_VIEWER_ID = "aws:viewer-id"
CLAIM_SESSION_VERSION = "aws:viewer-session-version"
CLAIM_MAX_RESOLUTION = "aws:maximum-resolution"


class PlaybackKeyError(ValueError):
    """A playback key that cannot be used; the message says what to fix."""


# --- Keys -------------------------------------------------------------------


def load_private_key(pem: bytes | str) -> ec.EllipticCurvePrivateKey:
    """Parse a PEM private key and insist on ECDSA P-384, as IVS requires."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise PlaybackKeyError("the private key is encrypted; provide it without a passphrase") from None
    except ValueError:
        raise PlaybackKeyError("the private key is not a valid PEM private key") from None
    _require_p384(key)
    return key


def load_public_key(pem: bytes | str) -> ec.EllipticCurvePublicKey:
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise PlaybackKeyError("the public key is not a valid PEM public key") from None
    _require_p384(key)
    return key


def _require_p384(key) -> None:
    if not isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        raise PlaybackKeyError("the key is not an elliptic-curve key; IVS needs ECDSA P-384 (secp384r1)")
    if not isinstance(key.curve, CURVE):
        raise PlaybackKeyError(f"the key is on curve {key.curve.name}; IVS needs P-384 (secp384r1)")


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(CURVE())


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def fingerprint(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> str:
    """16 colon-separated hex bytes (MD5 of the DER public key), the shape IVS shows."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        key = key.public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.md5(der, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


# --- Claims and minting -------------------------------------------------------


@dataclass(frozen=True)
class MintedToken:
    token: str
    claims: dict
    expires_at: int


def mint(
    key: ec.EllipticCurvePrivateKey,
    *,
    channel_arn: str,
    now: int,
    ttl: int,
    viewer_id: str | None = None,
    session_version: int | None = None,
    single_use_uuid: str | None = None,
    allowed_origins: Sequence[str] = (),
    strict_origin: bool = False,
    max_resolution: str | None = None,
) -> MintedToken:
    """Sign a playback token for exactly one channel ARN.

    The key must already be parsed: parsing a PEM costs more than signing.
    """
    if not channel_arn:
        raise ValueError("a token needs the channel ARN")
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    if (viewer_id or single_use_uuid) and ttl > MAX_TTL_WITH_SESSION_CLAIMS:
        raise ValueError("IVS refuses tokens over 10 minutes with a viewer id or single-use id")
    claims: dict = {CLAIM_CHANNEL_ARN: channel_arn, "iat": now, "exp": now + ttl}
    if allowed_origins:
        if strict_origin and len(allowed_origins) > MAX_STRICT_ORIGINS:
            raise ValueError("strict origin enforcement allows at most 5 origins")
        claims[CLAIM_ALLOW_ORIGIN] = ",".join(allowed_origins)
    if strict_origin:
        claims[CLAIM_STRICT_ORIGIN] = True
    if single_use_uuid:
        claims[CLAIM_SINGLE_USE] = single_use_uuid
    if viewer_id:
        if len(viewer_id) > MAX_VIEWER_ID_LENGTH:
            raise ValueError("aws:viewer-id is limited to 40 characters")
        claims[CLAIM_VIEWER_ID] = viewer_id
        claims[CLAIM_SESSION_VERSION] = int(session_version or 0)
    if max_resolution:
        if max_resolution not in RESOLUTIONS:
            raise ValueError(f"unknown maximum resolution {max_resolution!r}")
        claims[CLAIM_MAX_RESOLUTION] = max_resolution
    # Header {"alg":"ES384","typ":"JWT"}; with the parsed key object this costs little more than the signature.
    token = jwt.encode(claims, key, algorithm=ALGORITHM)
    return MintedToken(token=token, claims=claims, expires_at=claims["exp"])


def with_token(playback_url: str, token: str) -> str:
    """The playback URL IVS expects: the token as the `token` query parameter."""
    separator = "&" if urlsplit(playback_url).query else "?"
    return f"{playback_url}{separator}token={token}"


# --- Verification, as IVS does it ----------------------------------------------

# Each rejection has a stable code (for logs, tests and the IVS-like error body) and a sentence.
REJECTIONS = {
    "malformed": "the token is not a well-formed JWT",
    "algorithm": "the token is not signed with ES384",
    "signature": "the signature does not verify with any registered playback key",
    "exp_missing": "the token has no integer exp claim",
    "expired": "the token has expired",
    "exp_too_far": "exp is more than 10 minutes ahead on a token with a viewer id or single-use id",
    "channel_mismatch": "aws:channel-arn does not match the channel requested",
    "origin": "the request's Origin is not allowed by aws:access-control-allow-origin",
    "revoked": "this viewer's session has been revoked",
    "single_use_reused": "this single-use token has already been used",
}


class TokenRejected(Exception):
    def __init__(self, code: str, detail: str = ""):
        self.code = code
        self.reason = REJECTIONS[code] + (f" ({detail})" if detail else "")
        super().__init__(self.reason)


@dataclass(frozen=True)
class VerifiedToken:
    claims: dict
    key_id: str

    @property
    def channel_arn(self) -> str:
        return self.claims[CLAIM_CHANNEL_ARN]

    @property
    def viewer_id(self) -> str | None:
        return self.claims.get(CLAIM_VIEWER_ID)

    @property
    def session_version(self) -> int:
        return int(self.claims.get(CLAIM_SESSION_VERSION, 0))

    @property
    def max_resolution(self) -> str | None:
        return self.claims.get(CLAIM_MAX_RESOLUTION)

    @property
    def strict_origin(self) -> bool:
        return self.claims.get(CLAIM_STRICT_ORIGIN) is True

    @property
    def allowed_origins(self) -> str | None:
        return self.claims.get(CLAIM_ALLOW_ORIGIN)


def decode_unverified(token: str) -> tuple[dict, dict]:
    """Header and claims without checking anything: for diagnostics only."""
    try:
        header, claims = jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})
    except Exception:  # as in _decode(): RecursionError and the like are malformed tokens too
        raise TokenRejected("malformed") from None
    return header, claims


def verify(
    token: str,
    *,
    keys: Iterable[tuple[str, ec.EllipticCurvePublicKey]],
    channel_arn: str | None,
    now: float,
    origin: str | None = None,
    revoked_through: Callable[[str, str], int | None] = lambda arn, viewer_id: None,
    claim_single_use: Callable[[str, int], bool] = lambda uuid, exp: True,
) -> VerifiedToken:
    """Check a token the way IVS checks it on the multivariant playlist request.

    `keys`: (id, public key) pairs; any of them may have signed, as there is no kid.
    `channel_arn`: the channel requested, or None to skip that check (diagnostics).
    `revoked_through(arn, viewer_id)`: the highest revoked session version, or None.
    `claim_single_use(uuid, exp)`: atomically records a single-use id; False if it was
    already used. It is called last, so a token rejected for another reason stays unspent.
    Raises TokenRejected with a distinct code for each failure.
    """
    claims, key_id = _decode(token, keys)

    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise TokenRejected("exp_missing")
    if exp <= now:
        raise TokenRejected("expired", f"{int(now - exp)} s ago")
    single_use = claims.get(CLAIM_SINGLE_USE)
    viewer_id = claims.get(CLAIM_VIEWER_ID)
    if (single_use or viewer_id) and exp - now > MAX_TTL_WITH_SESSION_CLAIMS:
        raise TokenRejected("exp_too_far")
    if channel_arn is not None and claims.get(CLAIM_CHANNEL_ARN) != channel_arn:
        raise TokenRejected("channel_mismatch")
    check_origin(claims.get(CLAIM_ALLOW_ORIGIN), origin)
    if viewer_id:
        revoked = revoked_through(claims.get(CLAIM_CHANNEL_ARN), viewer_id)
        if revoked is not None and int(claims.get(CLAIM_SESSION_VERSION, 0)) <= revoked:
            raise TokenRejected("revoked")
    if single_use and not claim_single_use(str(single_use), exp):
        raise TokenRejected("single_use_reused")
    return VerifiedToken(claims=claims, key_id=key_id)


# IVS checks the signature and its own list of claims (below); PyJWT's registered-claim checks would add rules
# IVS does not have (iat in the future, nbf, sub, jti types) and read the real clock instead of `now`.
_CLAIM_CHECKS = ("verify_exp", "verify_nbf", "verify_iat", "verify_aud", "verify_iss", "verify_sub", "verify_jti")
_SIGNATURE_ONLY = {"verify_signature": True, **dict.fromkeys(_CLAIM_CHECKS, False), "require": []}


def _decode(token, keys) -> tuple[dict, str]:
    """The claims and the id of the key that signed them, through PyJWT.

    Anything else a token can do on the way (bad base64, JSON nested thousands deep, a header that is a list,
    a payload that is not an object) is a rejection with a reason, never another exception."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise TokenRejected("algorithm", f"alg is {str(header.get('alg'))[:20]!r}")
        for key_id, key in keys:  # no kid in IVS tokens: any registered key may have signed
            try:
                return jwt.decode(token, key, algorithms=[ALGORITHM], options=_SIGNATURE_ONLY), key_id
            except jwt.InvalidSignatureError:
                continue
    except TokenRejected:
        raise
    except jwt.InvalidAlgorithmError:
        raise TokenRejected("algorithm") from None
    except Exception:  # DecodeError, RecursionError, TypeError...: whatever the bytes were, they are not a token
        raise TokenRejected("malformed") from None
    raise TokenRejected("signature")


def check_origin(allow_claim, origin: str | None) -> None:
    if allow_claim is not None and not isinstance(allow_claim, str):
        raise TokenRejected("malformed", "aws:access-control-allow-origin is not a string")
    if not origins.origin_allowed(allow_claim, origin):
        raise TokenRejected("origin", f"Origin {origin}")
