"""Two sweeps in two processes over 2,000 due tasks on PostgreSQL: each rung fires, and acts, once.

Each process sweeps at the same moment and runs the batches it was handed; then, as a
batch redelivered after a worker died would, it runs every due clock again. Whatever the
interleaving, each (task, rung) is recorded once and its unit head told once.
"""

import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.apps import apps
from django.db.models import Count

from bench.city import build_city
from bench.escalation import build_ours
from cases.models import KeyProject
from notifications.models import Notification
from tests.integration.conftest import database_url
from workflow.engine.calendar import WorkingCalendar
from workflow.engine.models import Escalation, TaskClock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REPOSITORY = Path(__file__).resolve().parents[3]
TASKS = 2000
SWEEPER = """
import json, sys, time
import django
django.setup()
from django.utils.dateparse import parse_datetime
from workflow.engine import ladder as escalation

at, go, all_ids = parse_datetime(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3])
while time.time() < go:
    time.sleep(0.001)
batches = []
escalation.sweep(now=at, enqueue=batches.append)
fired = sum(len(escalation.escalate_batch(batch, now=at)) for batch in batches)
# A redelivered batch: every due clock again, whatever the other process has done.
for start in range(0, len(all_ids), escalation.BATCH_SIZE):
    fired += len(escalation.escalate_batch(all_ids[start:start + escalation.BATCH_SIZE], now=at))
print(json.dumps({"handed": sum(map(len, batches)), "fired": fired}))
"""


def start_sweeper(at, go, ids):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": "memory://",  # deliveries are enqueued, not sent, in this test
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    return subprocess.Popen(
        [sys.executable, "-c", SWEEPER, at.isoformat(), str(go), json.dumps(ids)],
        cwd=REPOSITORY,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def default_ladder():
    """The ladder of the data migration; a transactional test before this one may have flushed it."""
    importlib.import_module("workflow.migrations.0002_default_ladder").create(apps, None)


def test_two_sweeps_in_two_processes_fire_each_rung_once(default_ladder):
    # Given 2,000 tasks, each with its first overdue rung (tell the unit's head) due
    build_city(5)
    projects = list(KeyProject.objects.select_related("lead_unit").order_by("pk"))
    at = build_ours(TASKS, TASKS, projects, WorkingCalendar.load())
    ids = list(TaskClock.objects.order_by("pk").values_list("pk", flat=True))
    rungs_before = Escalation.objects.count()

    # When two processes sweep at the same moment, then each runs every clock again
    go = time.time() + 4  # both have loaded Django by then
    sweepers = [start_sweeper(at, go, ids) for _ in range(2)]
    results = []
    for sweeper in sweepers:
        stdout, stderr = sweeper.communicate(timeout=300)
        assert sweeper.returncode == 0, stderr[-3000:]
        results.append(json.loads(stdout.strip().splitlines()[-1]))

    # Then the sweeps handed out the clocks, and all the firing together fired 2,000 rungs
    assert sum(result["handed"] for result in results) >= TASKS
    assert sum(result["fired"] for result in results) == TASKS
    # each task has its level-1 rung once, and its head was told once
    level_one = Escalation.objects.filter(level=1)
    assert Escalation.objects.count() - rungs_before == TASKS
    assert level_one.values("clock").distinct().count() == TASKS
    assert not level_one.values("clock", "step").annotate(n=Count("pk")).filter(n__gt=1).exists()
    told = Notification.objects.filter(key="escalated_to_you")
    assert told.count() == TASKS
    assert all(len(row.told) == 1 for row in level_one.only("told"))
    # and no clock is left leased or due
    assert not TaskClock.objects.filter(next_fire_at__lte=at).exists()
    assert not TaskClock.objects.filter(claimed_until__isnull=False).exists()
