"""The local IdP's RSA signing key: one row, made on first use, shared by every process of the demo."""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import IntegrityError, transaction
from joserfc.jwk import RSAKey

from localidp.models import SigningKey

NAME = "id-token"


def _pem() -> str:
    row = SigningKey.objects.filter(name=NAME).first()
    if row is not None:
        return row.private_pem
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    try:
        with transaction.atomic():
            SigningKey.objects.create(name=NAME, private_pem=pem)
    except IntegrityError:  # another process made it first
        return SigningKey.objects.get(name=NAME).private_pem
    return pem


def private_key() -> RSAKey:
    key = RSAKey.import_key(_pem())
    key.ensure_kid()
    return key


def jwks() -> dict:
    public = private_key().as_dict(private=False)
    return {"keys": [{**public, "use": "sig", "alg": "RS256"}]}
