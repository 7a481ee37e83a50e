"""Reads of the coordination flows' records: the supervision orders and interviews a person may see,
and the orders still open about a task.
"""


from django.db.models import (
    IntegerField,
    Prefetch,
    Q,
    Subquery,
)
from viewflow.workflow.status import STATUS

from cases import permissions as case_permissions
from cases.models import KeyProject
from workflow.engine.selectors import no_case_scope_of

from .models import Interview, SupervisionOrder


def no_case_scope(user):
    """Of the orders and interviews about no single case, those ``user`` may see: all for the
    secretariat and supervisors; their unit's, or the units' they answer for (leaders)."""
    role = case_permissions.role_of(user)
    if role in case_permissions.ALL_SEEING:
        return Q(project__isnull=True)
    person = case_permissions.person_of(user)
    if person is None or role not in case_permissions.INTERNAL:
        return Q(pk__in=[])
    return no_case_scope_of(role, person)


def supervision_orders(user):
    scope = case_permissions.project_scope(user)
    return (
        SupervisionOrder.objects.filter(Q(project__in=KeyProject.objects.filter(scope)) | no_case_scope(user))
        .select_related("project", "unit", "issued_by")
        .order_by("-issued_at")
    )


def open_orders():
    """The supervision orders still open (issued, or answered and not yet evaluated), but for those
    whose flow an administrator cancelled, which nobody will answer or evaluate."""
    return SupervisionOrder.objects.filter(state__in=SupervisionOrder.OPEN).exclude(process__status=STATUS.CANCELED)


def open_order_of(clock):
    """The supervision order still open about the task of ``clock``, or None: the earliest issued."""
    if clock is None:
        return None
    return open_orders().filter(clock=clock).order_by("issued_at", "pk").first()


def open_order_of_clock(clock_ref):
    """A subquery: the pk of the earliest order still open about the clock ``clock_ref`` (an
    ``OuterRef``), NULL when there is none."""
    return Subquery(
        open_orders().filter(clock=clock_ref).order_by("issued_at", "pk").values("pk")[:1],
        output_field=IntegerField(),
    )


def interviews(user):
    scope = case_permissions.project_scope(user)
    person = case_permissions.person_of(user)
    internal = person is not None and case_permissions.role_of(user) in case_permissions.INTERNAL
    # A leader summoned about no single case sees their own interview.
    summoned = Q(project__isnull=True, leader=person) if internal else Q(pk__in=[])
    return (
        Interview.objects.filter(Q(project__in=KeyProject.objects.filter(scope)) | no_case_scope(user) | summoned)
        .select_related("project", "leader", "unit")
        .prefetch_related(Prefetch("commitments"))
        .order_by("-proposed_at")
    )
