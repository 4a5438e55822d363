"""Playback key rotation in three steps. `generate PATH`: new key pair, private half to PATH (0600), public half
registered and imported into IVS, in every region with channels, when AWS is configured. Deploy it
(IVS_PLAYBACK_PRIVATE_KEY_FILE) and restart, then `activate`: record the configured key as the signing key.
`delete NAME`: remove an old key from IVS (every region) and the site, allowed one token TTL after it stopped
signing. `status` lists the keys.
"""

import shlex

from django.core.management.base import BaseCommand, CommandError

from viewers.ivs import aws, key_files, key_regions, key_rotation, tokens
from viewers.models import PlaybackKey


class Command(BaseCommand):
    help = __doc__
    requires_system_checks = []  # rotating is how one fixes what the key checks complain about

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="step", required=True)
        generate = sub.add_parser("generate", help="Make a new key pair.")
        generate.add_argument("path", help="Where to write the private key; the file must not exist yet.")
        generate.add_argument("--name", help="Key pair name in IVS and here (default: site-<date>-<time>).")
        generate.add_argument("--no-import", action="store_true", help="Do not import into IVS even if configured.")
        sub.add_parser("activate", help="Make the configured private key's public half the signing key.")
        delete = sub.add_parser("delete", help="Delete an old key pair from IVS and the site.")
        delete.add_argument("name")
        sub.add_parser("status", help="List the registered keys and when old ones may be deleted.")

    def handle(self, *args, step, **options):
        try:
            getattr(self, f"_{step}")(**options)
        except key_rotation.RotationError as exc:
            raise CommandError(str(exc)) from None

    def _generate(self, path, name, no_import, **options):
        try:
            private_path, public_path = key_files.paths(path)
        except key_files.KeyFileError as exc:
            raise CommandError(str(exc)) from None
        private, key = key_rotation.generate(name or key_rotation.default_name())
        try:
            key_files.write_pair(
                private_path, public_path, tokens.private_key_pem(private), key.public_key_pem.encode()
            )
        except key_files.KeyFileError as exc:
            key.delete()
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Registered {key.name} ({key.fingerprint}); private key written to {private_path} (0600).")
        if aws.aws_configured() and not no_import:
            key_rotation.import_into_ivs(key)
            for record in key.regions.all():
                self.stdout.write(f"Imported into IVS in {record.region}: {record.arn} ({record.fingerprint}).")
        else:
            commands = key_rotation.import_command(key, str(public_path)).replace("\n", "\n  ")
            self.stdout.write("Import the public key into IVS:\n  " + commands)
            self.stdout.write("then add each returned ARN on the key's admin page.")
        self.stdout.write(
            "Next: set IVS_PLAYBACK_PRIVATE_KEY_FILE=" + shlex.quote(str(private_path)) + ", restart the site, and "
            "run `manage.py ivs_rotate_key activate`."
        )
        self._warn_about_limit()

    def _activate(self, **options):
        fingerprint = key_rotation.configured_fingerprint()
        key = PlaybackKey.objects.filter(fingerprint=fingerprint).first() if fingerprint else None
        if key is None:
            raise CommandError("The configured private key matches no registered key; register its public half first.")
        previous = list(PlaybackKey.objects.filter(is_signing=True).exclude(pk=key.pk))
        key_rotation.make_signing(key)
        self.stdout.write(f"{key.name} is now the signing key.")
        for old in previous:
            old.refresh_from_db()
            self.stdout.write(f"{old.name} stopped signing; {key_rotation.retirement(old).describe()}.")

    def _delete(self, name, **options):
        key = PlaybackKey.objects.filter(name=name).first()
        if key is None:
            raise CommandError(f"No playback key named {name!r}.")
        self.stdout.write(key_rotation.retire(key))

    def _status(self, **options):
        for key in PlaybackKey.objects.prefetch_related("regions"):
            state = key_rotation.retirement(key).describe()
            active = "active" if key.is_active else "inactive"
            regions = ", ".join(record.region for record in key.regions.all()) or "not imported"
            self.stdout.write(f"{key.name:<28} {key.fingerprint}  {active:<8} {state}  {regions}")
        self._warn_about_limit()

    def _warn_about_limit(self):
        active = PlaybackKey.objects.filter(is_active=True).count()
        if active > key_rotation.IVS_KEY_LIMIT:
            self.stdout.write(self.style.WARNING(f"{active} active keys: IVS holds at most 3 per region."))
        for message in key_regions.missing_key_messages():
            self.stdout.write(self.style.WARNING(message))
