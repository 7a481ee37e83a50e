"""Financing dockings followed up by the coordination engine: a stalled docking, and an intent
signed at a matchmaking event, become a follow-up task for the case's lead unit
(``DockingFollowUpFlow``).

A docking is stalled when it sits in an open state with no step for the working days its state
allows (``DockingStallRule``, edited in the admin; a state without a rule is never stalled). A daily
beat task (``tasks.sweep_stalled_dockings``, in ``CELERY_BEAT_SCHEDULE``, which the database
scheduler copies into django-celery-beat's table, so its time is edited in the admin) finds them
with one query and starts their flows in batches of ``BATCH``. Both halves are idempotent: a docking
has at most one open follow-up, checked under its row's lock.

The follow-up asks the lead unit what was done; its answer is a step of the docking ("followed up"),
so the stall clock starts again. Any real step of the docking ends an open follow-up (cancelled, its
clock closed): the docking moves again, nobody needs chasing."""

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases.financing import services as financing_services
from cases.financing.models import Docking, DockingStallRule
from cases.financing.services.dockings import OPEN_STATES
from cases.models import ACTIVE_STAGES
from workflow.engine import clocks, services
from workflow.engine.calendar import WorkingCalendar
from workflow.engine.models import TaskKind

from .models import DockingProcess

BATCH = 200
FOLLOW_UP_DAYS = 5
STALLED = "stalled"
EVENT = "event"


def stall_cutoffs(now, cal):
    """{state: moment}: a docking in ``state`` whose last step came at or before the moment is
    stalled: its state's working days have begun since (``WorkingCalendar.overdue_cutoff``)."""
    rules = DockingStallRule.objects.filter(state__in=OPEN_STATES).values_list("state", "working_days")
    return {state: cal.overdue_cutoff(now, days) for state, days in rules}


def open_follow_up():
    return DockingProcess.objects.filter(docking_id=OuterRef("pk"), finished__isnull=True)


def stalled_filter(now, cal):
    """The filter of the open dockings with no step for their state's working days."""
    cutoffs = stall_cutoffs(now, cal)
    if not cutoffs:
        return Q(pk__in=[])
    stalled = Q()
    for state, cutoff in cutoffs.items():
        # Dockings older than the funnel's services have no ``last_step_at``: their creation counts.
        stalled |= Q(state=state) & (Q(last_step_at__lte=cutoff) | Q(last_step_at__isnull=True, created_at__lte=cutoff))
    return stalled & Q(project__lead_unit__isnull=False, project__stage__in=ACTIVE_STAGES)


def stalled_dockings(now=None, cal=None):
    """The ids of the stalled dockings that have no open follow-up: one query."""
    now = now or timezone.now()
    cal = cal or WorkingCalendar.load()
    return (
        Docking.objects.filter(stalled_filter(now, cal))
        .exclude(Exists(open_follow_up()))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def title_of(docking):
    with translation.override(settings.LANGUAGE_CODE):
        return _("Follow up the docking of %(case)s with %(institution)s") % {
            "case": f"{docking.project.code} {docking.project.name}",
            "institution": docking.institution.name,
        }


def start_clock(activation):
    process = activation.process
    docking = process.docking
    return clocks.clock_start(
        task=activation.task,
        kind=TaskKind.DOCKING_FOLLOW_UP,
        project=docking.project,
        unit_id=process.project.lead_unit_id,
        title=title_of(docking),
        working_days=FOLLOW_UP_DAYS,
    )


@transaction.atomic
def follow_up_done(*, task, user, report):
    """The lead unit says what it did: a "followed up" step of the docking, and the task is done."""
    services.checked(task, user)
    process = task.process.coerced
    docking = Docking.objects.select_related("project__lead_unit", "institution").get(pk=process.docking_id)
    financing_services.docking_follow_up(docking=docking, actor=user, note=report)
    services.finish_task(task, user)
    return docking
