"""The background worker: django-tasks-db's `db_worker`, with the periodic reconciliation booked first.

Run one or more of these next to the web servers (README "Deployment"). Each worker claims task rows with
SELECT … FOR UPDATE SKIP LOCKED, so several on several machines never run the same task twice.
"""

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from viewers import reconcile


class Command(DbWorkerCommand):
    help = (
        "Run the background worker: delivers revocations to IVS and, every IVS_RECONCILE_SECONDS, ends the "
        "playback sessions of viewers who no longer have access. Takes db_worker's options."
    )

    def handle(self, *args, **options):
        # A worker that starts (or restarts after a crash) makes sure the periodic cycle exists, and runs it now.
        reconcile.schedule(delay=0)
        super().handle(*args, **options)
