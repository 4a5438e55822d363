"""A new key pair's two files, for both key commands (ivs_keygen, ivs_rotate_key generate): the private half at the
path given, created exclusively with mode 0600 (never over an existing file, never readable by others even for a
moment), and the public half beside it as PATH.pub.pem."""

import os
from pathlib import Path


class KeyFileError(Exception):
    """The files cannot be written there; the message says why."""


def paths(path: str) -> tuple[Path, Path]:
    """(private, public) for the path the operator gave, checked to be new files in an existing directory."""
    private = Path(path).expanduser().absolute()
    public = private.with_name(private.name + ".pub.pem")
    for target in (private, public):
        if target.is_dir():
            raise KeyFileError(f"{target} is a directory; give the path of a new file in it.")
        if target.exists() or target.is_symlink():
            raise KeyFileError(f"{target} already exists; refusing to overwrite a key. Choose another path.")
        if not target.parent.is_dir():
            raise KeyFileError(f"The directory {target.parent} does not exist.")
    return private, public


def write_pair(private: Path, public: Path, private_pem: bytes, public_pem: bytes) -> None:
    """Both files, or neither: the private one is removed again when the public one cannot be written."""
    _write_new(private, private_pem, 0o600)
    try:
        _write_new(public, public_pem, 0o644)
    except KeyFileError:
        private.unlink(missing_ok=True)
        raise


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    except FileExistsError:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a key. Choose another path.") from None
    except OSError as exc:
        raise KeyFileError(f"Cannot create {path}: {exc.strerror}.") from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)  # exactly this mode, whatever the umask
            f.write(data)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise KeyFileError(f"Cannot write {path}: {exc.strerror}.") from None
