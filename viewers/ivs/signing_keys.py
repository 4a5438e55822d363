"""Where playback keys come from. The signing key is read and parsed once per process."""

import functools
import time
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from viewers.ivs import tokens
from viewers.ivs.tokens import PlaybackKeyError

_KEY_SETTINGS = ("IVS_PLAYBACK_PRIVATE_KEY", "IVS_PLAYBACK_PRIVATE_KEY_FILE")


def is_configured() -> bool:
    return bool(settings.IVS_PLAYBACK_PRIVATE_KEY or settings.IVS_PLAYBACK_PRIVATE_KEY_FILE)


def _read_private_pem() -> bytes:
    if settings.IVS_PLAYBACK_PRIVATE_KEY and settings.IVS_PLAYBACK_PRIVATE_KEY_FILE:
        raise PlaybackKeyError("set IVS_PLAYBACK_PRIVATE_KEY or IVS_PLAYBACK_PRIVATE_KEY_FILE, not both")
    if settings.IVS_PLAYBACK_PRIVATE_KEY:
        # Environments often flatten newlines; accept a literal "\n" too.
        return settings.IVS_PLAYBACK_PRIVATE_KEY.replace("\\n", "\n").encode()
    if settings.IVS_PLAYBACK_PRIVATE_KEY_FILE:
        path = Path(settings.IVS_PLAYBACK_PRIVATE_KEY_FILE)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise PlaybackKeyError(f"IVS_PLAYBACK_PRIVATE_KEY_FILE {path} cannot be read: {exc.strerror}") from None
    raise PlaybackKeyError(
        "no playback key: set IVS_PLAYBACK_PRIVATE_KEY_FILE to a P-384 private key (make one with manage.py ivs_keygen)"
    )


@functools.cache
def signing_key():
    """The parsed private key. Raises PlaybackKeyError saying what to fix."""
    return tokens.load_private_key(_read_private_pem())


@functools.cache
def signing_fingerprint() -> str:
    """The signing key's fingerprint, which every audit row records (computed once: it is a hash of the key)."""
    return tokens.fingerprint(signing_key())


_verification_cache: dict = {"at": 0.0, "keys": ()}
VERIFICATION_KEYS_TTL = 5.0


def verification_keys() -> tuple:
    """(fingerprint, public key) for every active registered key: any of them may have signed."""
    from viewers.models import PlaybackKey

    now = time.monotonic()
    if now - _verification_cache["at"] > VERIFICATION_KEYS_TTL:
        keys = []
        for fp, pem in PlaybackKey.objects.filter(is_active=True).values_list("fingerprint", "public_key_pem"):
            try:
                keys.append((fp, tokens.load_public_key(pem)))
            except PlaybackKeyError:
                continue
        _verification_cache.update(at=now, keys=tuple(keys))
    return _verification_cache["keys"]


def forget_cached_keys() -> None:
    signing_key.cache_clear()
    signing_fingerprint.cache_clear()
    _verification_cache.update(at=0.0, keys=())


@receiver(setting_changed)
def _reload_on_setting_change(setting, **kwargs):
    if setting in _KEY_SETTINGS:
        forget_cached_keys()
