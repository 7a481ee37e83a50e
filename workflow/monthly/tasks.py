"""Celery tasks of the monthly cycle's clock: the daily tick (a django-celery-beat periodic task,
editable in the admin) and one step run on demand. Thin, under the names the beat schedule and the
brokers know."""

import datetime

from celery import shared_task

from . import runner


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def cycle_tick():
    """Beat, daily (a django-celery-beat periodic task, editable in the admin): the steps of this
    month's cycle whose working day has come."""
    return runner.cycle_tick()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_cycle_step(kind, month_iso, force=False):
    """One step of a month's cycle, asked for on the cycle page or through the API."""
    run = runner.run_step(kind, datetime.date.fromisoformat(month_iso), force=force)
    return run.pk if run else None
