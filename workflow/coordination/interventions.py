"""The coordination flows' side of the engine's port (``workflow.engine.interventions``): the
ladder's and the monthly cycle's supervision orders and interviews, written and read here."""

import uuid

from django.db.models import Count, IntegerField, Q, Subquery
from viewflow.workflow.status import STATUS

from workflow.engine import interventions as port

from . import selectors, services
from .models import Interview, Source, SupervisionOrder
from .orders import ANSWER_DAYS

SOURCES = {port.LADDER: Source.LADDER, port.RULE: Source.RULE}


class CoordinationInterventions:
    answer_days = ANSWER_DAYS

    def issue_orders(self, requests):
        services.issue_orders(
            [
                SupervisionOrder(
                    number=f"pending-{uuid.uuid4().hex[:20]}",  # numbered once written
                    project=request.project,
                    unit=request.unit,
                    clock=request.clock,
                    subject=request.subject,
                    source=Source.LADDER,
                    issued_at=request.issued_at,
                    respond_by=request.respond_by,
                )
                for request in requests
            ]
        )

    def propose_interviews(self, requests):
        services.propose_interviews(
            [
                Interview(
                    project=request.project,
                    unit=request.unit,
                    leader=request.leader,
                    clock=request.clock,
                    reason=request.reason,
                    source=SOURCES[request.source],
                    proposed_at=request.proposed_at,
                )
                for request in requests
            ]
        )

    def overdue_orders_of_case(self, *, project_ref, before):
        overdue = (
            SupervisionOrder.objects.filter(project=project_ref, state=SupervisionOrder.State.ISSUED, respond_by__lt=before)
            .values("project")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Subquery(overdue[:1], output_field=IntegerField())

    def cases_with_unsettled_interviews(self, project_ids):
        # (an interview whose flow an administrator cancelled is settled, whatever its state says)
        return set(
            Interview.objects.filter(project__in=project_ids, state__in=Interview.UNSETTLED)
            .exclude(process__status=STATUS.CANCELED)
            .values_list("project_id", flat=True)
        )

    def open_orders_of_clocks(self, clock_ids):
        found = {}
        rows = selectors.open_orders().filter(clock__in=clock_ids).order_by("-issued_at", "-pk")
        for clock_id, number in rows.values_list("clock_id", "number"):
            found[clock_id] = number  # the earliest comes last
        return found

    def clocks_with_unsettled_interviews(self, clock_ids):
        return set(
            Interview.objects.filter(clock__in=clock_ids, state__in=Interview.UNSETTLED)
            .exclude(process__status=STATUS.CANCELED)
            .values_list("clock_id", flat=True)
        )

    def open_order_of_clock(self, *, clock_ref):
        return selectors.open_order_of_clock(clock_ref)

    def overdue_orders(self, *, now, today):
        orders = (
            SupervisionOrder.objects.filter(
                Q(state=SupervisionOrder.State.ISSUED, respond_by__lt=now)
                | Q(state=SupervisionOrder.State.ANSWERED, fixed_by__lt=today)
            )
            .select_related("project", "unit")
            .order_by("respond_by", "pk")
        )
        return [
            port.OverdueOrder(
                pk=order.pk,
                number=order.number,
                subject=order.subject,
                project=order.project,
                unit=order.unit,
                answered=order.state == SupervisionOrder.State.ANSWERED,
                respond_by=order.respond_by,
                fixed_by=order.fixed_by,
            )
            for order in orders
        ]

    def proposed_interviews(self):
        interviews = (
            Interview.objects.filter(state=Interview.State.PROPOSED)
            .select_related("project", "leader", "unit")
            .order_by("proposed_at", "pk")
        )
        return [
            port.ProposedInterview(
                pk=interview.pk,
                leader_name=interview.leader.name,
                project=interview.project,
                unit=interview.unit,
                reason=interview.reason,
            )
            for interview in interviews
        ]


def register():
    port.register(CoordinationInterventions())
