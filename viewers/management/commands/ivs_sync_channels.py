"""Create or update local channels from the IVS channels in every configured region (IVS_REGIONS, or the regions of
the site's channels and IVS_AWS_REGION): name, ARN, playback URL and authorization (as private). Entitlements are never
touched; new channels arrive unlisted.
"""

from django.core.management.base import BaseCommand, CommandError

from viewers.ivs import channel_sync, key_regions


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; write nothing.")

    def handle(self, *args, dry_run, **options):
        try:
            report = channel_sync.sync_channels(apply=not dry_run)
        except channel_sync.SyncError as exc:
            raise CommandError(str(exc)) from None
        for change in report:
            line = f"{change.action:<10} {change.name}  {change.arn}"
            if change.action == "updated":
                line += "  (" + "; ".join(f"{k}: {old!r} → {new!r}" for k, (old, new) in change.changes.items()) + ")"
            if change.error:
                line += f"  {change.error}"
            self.stdout.write(line)
        self.stdout.write(f"Regions read: {', '.join(key_regions.ivs_regions())}.")
        prefix = "Dry run, nothing written: " if dry_run else ""
        self.stdout.write(prefix + channel_sync.summary(report) + ".")
        if any(change.action == "error" for change in report):
            raise CommandError("Some channels could not be synced; see the lines marked error.")
