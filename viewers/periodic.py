"""Periodic tasks on django-tasks' database backend: one cycle per task, booked by the task itself.

Ours because django-tasks has no schedule of its own: a periodic task books its next run before doing its work
(so an error never ends the cycle), `ivs_worker` books one when it starts, and a write path may ask for an early
run. Booking is idempotent, so those can all happen at once and still leave one cycle.
"""

from datetime import timedelta

from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult


def book(periodic_task, *, delay: float = 0) -> None:
    """Book `periodic_task` `delay` seconds from now, unless a run is already waiting (for an early run, delay=0:
    unless one is already due)."""
    waiting = DBTaskResult.objects.filter(task_path=periodic_task.module_path, status=TaskResultStatus.READY)
    if delay == 0:
        waiting = waiting.filter(run_after__lte=timezone.now())
    if not waiting.exists():
        periodic_task.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue()
