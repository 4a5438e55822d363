"""Generate an ECDSA P-384 playback key pair. Writes the private key to PATH (mode 0600, never overwritten) and the
public key to PATH.pub.pem, and prints the commands that import the public key into IVS, one per region the site
works in.
"""

import re
import shlex
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from viewers import validators
from viewers.ivs import key_files, key_regions, key_rotation, tokens
from viewers.models import PlaybackKey


class Command(BaseCommand):
    help = __doc__
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
        try:
            private_path, public_path = key_files.paths(path)
        except key_files.KeyFileError as exc:
            raise CommandError(str(exc)) from None
        name = name or _default_name(private_path)
        if not validators.KEY_NAME_RE.match(name):
            raise CommandError(f"--name {name!r}: {validators.KEY_NAME_RULE}")

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

        try:
            key_files.write_pair(private_path, public_path, tokens.private_key_pem(key), public_pem.encode())
        except key_files.KeyFileError as exc:
            raise CommandError(str(exc)) from None
        if record is not None:
            record.save()

        self.stdout.write(f"Private key written to {private_path} (mode 0600). Keep it secret; never commit it.")
        self.stdout.write(f"Public key written to {public_path}:\n")
        self.stdout.write(public_pem)
        self.stdout.write(f"Fingerprint: {tokens.fingerprint(key)}")
        if record is not None:
            signing_note = ", as the signing key" if signing else ""
            self.stdout.write(f"Registered as playback key {name!r}{signing_note}.")
        regions, why_not = _site_regions()
        if regions:
            self.stdout.write("\nImport the public key into IVS in each region the site works in:\n")
        else:
            self.stdout.write(
                f"\n{why_not}, so put each region that has (or will have) your channels in place of <your-region> "
                "and import the public key into IVS there:\n"
            )
        for line in key_rotation.cli_import(name, str(public_path), regions or ["<your-region>"]).splitlines():
            self.stdout.write(f"  {line}")
        self.stdout.write("")
        self.stdout.write("Then point the site at the private key:\n")
        self.stdout.write(f"  IVS_PLAYBACK_PRIVATE_KEY_FILE={shlex.quote(str(private_path))}")


def _site_regions() -> tuple[list[str], str]:
    """The regions a key belongs in, or none and the reason. A key is often made before the site has a database
    (a first deployment, `make run` on a fresh machine): then the reason says so, and the key is still made."""
    try:
        regions = key_regions.key_regions()
    except DatabaseError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [], f"The site's regions could not be read from the database ({reason})"
    if not regions:
        return [], "The site has no channels yet and neither IVS_REGIONS nor AWS_REGION is set"
    return regions, ""


def _default_name(path: Path) -> str:
    stem = path.name.removesuffix(".pem").removesuffix(".key")
    return re.sub(r"[^A-Za-z0-9_-]", "-", stem)[:128] or "ivs-playback-key"


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)
