"""Deliver pending viewer-session revocations to IVS (StartViewerSessionRevocation, batched), retrying throttled and
failed calls with backoff. Safe to run from cron: a revocation is idempotent at IVS, and rows are only marked done
once IVS accepted them.
"""

from django.core.management.base import BaseCommand

from viewers import revocation
from viewers.models import Revocation, RevocationStatus
from viewers.wording import counted


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what is due without calling IVS.")
        parser.add_argument("--limit", type=int, default=1000, help="At most this many revocations per run.")

    def handle(self, *args, dry_run, limit, **options):
        pending = Revocation.objects.pending()
        if dry_run:
            for item in pending.order_by("pk")[:limit]:
                self.stdout.write(
                    f"{item.pk}: {item.channel_arn} viewer {item.viewer_id} through {item.max_version} "
                    f"(attempts {item.attempts}, next {item.next_attempt_at:%Y-%m-%d %H:%M:%S})"
                )
            self.stdout.write(f"{pending.count()} pending.")
            return
        report = revocation.deliver_pending(limit=limit)
        self.stdout.write(f"Delivered {report.delivered}, waiting to retry {report.pending}, failed {report.failed}.")
        for error in sorted(set(report.errors)):
            self.stderr.write(f"  {error}")
        failed_total = Revocation.objects.filter(status=RevocationStatus.FAILED).count()
        if failed_total:
            self.stderr.write(
                self.style.WARNING(
                    f"{counted(failed_total, 'revocation')} failed for good; see Revocations in the admin."
                )
            )
