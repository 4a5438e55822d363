"""The background worker: django-tasks-db's `db_worker`, with the periodic tasks (the reconciliation, the heartbeats'
fold, and the channels' live state when AWS is configured) booked first, and kept alive through database outages.

Run one or more of these next to the web servers (docs/DEPLOYMENT.md, "The worker in production"). Each worker
claims task rows with SELECT … FOR UPDATE SKIP LOCKED, so several on several machines never run the same task twice.
"""

import logging
import os
import time

from django.db import DatabaseError, connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from viewers import reconcile, stream_state
from viewers.attendance import fold

logger = logging.getLogger(__name__)


class ResilientWorker(Worker):
    """db_worker's loop exits on any database error but a locked SQLite file. A worker that dies while
    PostgreSQL restarts would stop revocations until someone restarts it: this one waits and carries on."""

    def run(self):
        delay = 1
        while self.running:
            try:
                # (Re)starting: make sure each periodic cycle exists, and run it now.
                reconcile.schedule(delay=0)
                stream_state.schedule(delay=0)
                fold.schedule(delay=0)
                super().run()
                return
            except DatabaseError as exc:
                logger.warning("worker: database unavailable (%s); retrying in %d s", type(exc).__name__, delay)
                connections.close_all()
                time.sleep(delay)
                delay = min(delay * 2, 30)


class Command(DbWorkerCommand):
    help = (
        "Run the background worker: delivers revocations to IVS and, every IVS_RECONCILE_SECONDS, ends the "
        "playback sessions of viewers who no longer have access; every IVS_STREAM_STATE_SECONDS, reads which "
        "channels are live; every IVS_HEARTBEAT_SECONDS / 2, folds the players' heartbeats into attendance. "
        "Takes db_worker's options."
    )

    def handle(self, *args, **options):
        self.configure_logging(options["verbosity"])
        worker = ResilientWorker(
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=options["exclude_queues"].split(",") if options["exclude_queues"] else [],
        )
        if options["reload"] and not options["batch"]:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":  # only the reloader's child handles signals
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
