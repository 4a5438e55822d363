"""Make a new playback key pair: the private half to a 0600 file, the public half to import into IVS."""

import os
import re
import shlex
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from viewers import keyregions, tokens
from viewers.models import PlaybackKey

# ImportPlaybackKeyPair's rule for names.
IVS_KEY_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class Command(BaseCommand):
    help = (
        "Generate an ECDSA P-384 playback key pair. Writes the private key to PATH (mode 0600, never overwritten) "
        "and the public key to PATH.pub.pem, and prints the commands that import the public key into IVS, one per "
        "region the site works in."
    )
    # The playback-key checks fail until a key exists; making that key must not be blocked by them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("path", help="Where to write the private key; the file must not exist yet.")
        parser.add_argument("--name", help="Key pair name in IVS and in the admin (default: the file's name).")
        parser.add_argument(
            "--register", action="store_true", help="Also record the public key in the PlaybackKey table."
        )
        parser.add_argument(
            "--signing", action="store_true", help="With --register: mark it as the key the site signs with."
        )

    def handle(self, *args, path, name, register, signing, **options):
        if signing and not register:
            raise CommandError("--signing only makes sense with --register.")
        private_path = Path(path).expanduser().absolute()
        public_path = private_path.with_name(private_path.name + ".pub.pem")
        name = name or _default_name(private_path)
        if not IVS_KEY_NAME_RE.match(name):
            raise CommandError(f"--name {name!r}: IVS allows 1-128 letters, digits, '-' and '_'.")
        _check_target(private_path)
        _check_target(public_path)

        key = tokens.generate_private_key()
        public_pem = tokens.public_key_pem(key)
        record = None
        if register:
            # Validate before any file exists, so a refused registration leaves nothing behind.
            record = PlaybackKey(name=name, public_key_pem=public_pem, is_signing=signing)
            try:
                record.full_clean()
            except ValidationError as exc:
                raise CommandError(f"Cannot register the key: {_messages(exc)}") from None

        _write_new(private_path, tokens.private_key_pem(key), 0o600)
        try:
            _write_new(public_path, public_pem.encode(), 0o644)
        except CommandError:
            private_path.unlink()
            raise
        if record is not None:
            record.save()

        self.stdout.write(f"Private key written to {private_path} (mode 0600). Keep it secret; never commit it.")
        self.stdout.write(f"Public key written to {public_path}:\n")
        self.stdout.write(public_pem)
        self.stdout.write(f"Fingerprint: {tokens.fingerprint(key)}")
        if record is not None:
            signing_note = ", as the signing key" if signing else ""
            self.stdout.write(f"Registered as playback key {name!r}{signing_note}.")
        command = (
            f"aws ivs import-playback-key-pair --name {shlex.quote(name)} "
            f"--public-key-material {shlex.quote('file://' + str(public_path))}"
        )
        regions, why_not = _site_regions()
        if regions:
            self.stdout.write("\nImport the public key into IVS in each region the site works in:\n")
        else:
            self.stdout.write(
                f"\n{why_not}, so put each region that has (or will have) your channels in place of <your-region> "
                "and import the public key into IVS there:\n"
            )
        for region in regions or ["<your-region>"]:
            self.stdout.write(f"  {command} --region {region}")
        self.stdout.write("")
        self.stdout.write("Then point the site at the private key:\n")
        self.stdout.write(f"  IVS_PLAYBACK_PRIVATE_KEY_FILE={shlex.quote(str(private_path))}")


def _site_regions() -> tuple[list[str], str]:
    """The regions a key belongs in, or none and the reason. A key is often made before the site has a database
    (a first deployment, `make run` on a fresh machine): then the reason says so, and the key is still made."""
    try:
        regions = keyregions.key_regions()
    except DatabaseError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [], f"The site's regions could not be read from the database ({reason})"
    if not regions:
        return [], "The site has no channels yet and neither IVS_REGIONS nor AWS_REGION is set"
    return regions, ""


def _default_name(path: Path) -> str:
    stem = path.name.removesuffix(".pem").removesuffix(".key")
    return re.sub(r"[^A-Za-z0-9_-]", "-", stem)[:128] or "ivs-playback-key"


def _check_target(path: Path) -> None:
    if path.is_dir():
        raise CommandError(f"{path} is a directory; give the path of a new file in it.")
    if path.exists() or path.is_symlink():
        raise CommandError(f"{path} already exists; refusing to overwrite a key. Choose another path.")
    if not path.parent.is_dir():
        raise CommandError(f"The directory {path.parent} does not exist.")


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create the file exclusively with its final mode, so the key is never readable by others, even briefly."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    except FileExistsError:
        raise CommandError(f"{path} already exists; refusing to overwrite a key. Choose another path.") from None
    except OSError as exc:
        raise CommandError(f"Cannot create {path}: {exc.strerror}.") from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)  # exactly this mode, whatever the umask
            f.write(data)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise CommandError(f"Cannot write {path}: {exc.strerror}.") from None


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)
