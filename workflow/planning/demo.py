"""The demo's annual plan: next year's compilation open, with the city's targets, and proposals
from several units through the services people use: most submitted, a few accepted, one sent
back with its reason; the demo's unit head ("head") has a case proposed but not yet submitted,
its task waiting in My work. Idempotent: a year whose compilation exists is left alone.

This year's plan is not published by the demo: this year's cases left the reserve pool long
ago, and a plan is compiled from reserve cases only (the monthly cycle keeps reading their
annual plans)."""

import datetime
from collections import defaultdict
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.utils import timezone

from cases.models import KeyProject, Person, Role, Stage
from cases.models.org import UNIT_GROUP_OF_KIND
from workflow.engine import services as engine_services

from . import services
from .flows import ProposeFlow
from .models import PlanCompilation, PlanProposal, PlanTarget, ProposeProcess

UNITS = 6  # units that propose
PER_UNIT = 3
WAN = Decimal("10000")


def _wan(amount):
    return (amount / WAN).quantize(Decimal("1"), ROUND_DOWN) * WAN


def _figures(project, year, index):
    remaining = project.total_investment - (project.investment_completed_total or 0)
    return {
        "planned_year": max(_wan(remaining * Decimal("0.3")), WAN),
        "planned_next": _wan(remaining * Decimal("0.3")),
        "planned_after": _wan(remaining * Decimal("0.2")),
        "planned_start": datetime.date(year, 3 + index % 8, 1),
    }


def _proposer(unit_id):
    return (
        Person.objects.filter(unit_id=unit_id, role__in=[Role.UNIT_HEAD, Role.UNIT_STAFF], user__is_active=True)
        .select_related("user")
        .order_by("role", "pk")
        .first()
    )


def seed_planning(stdout=None, today=None):
    """Seed next year's compilation; False when it exists already (or the city is not there)."""
    today = today or timezone.localdate()
    year = today.year + 1
    if PlanCompilation.objects.filter(year=year).exists():
        return False
    secretariat = Person.objects.filter(role=Role.SECRETARIAT).select_related("user").order_by("pk").first()
    if secretariat is None:
        return False
    deadline = services.default_deadline(year)
    if deadline < today:  # the demo is seeded after 31 August: a deadline three weeks ahead
        deadline = min(today + datetime.timedelta(days=21), datetime.date(year, 12, 31))
    by_unit = defaultdict(list)
    for project in KeyProject.objects.filter(stage=Stage.RESERVE, lead_unit__isnull=False).select_related("lead_unit").order_by("code"):
        by_unit[project.lead_unit_id].append(project)
    head = Person.objects.filter(user__username="head").first()
    # The demo head's unit first, then the units with the most reserve cases.
    order = sorted(by_unit, key=lambda unit_id: (head is None or unit_id != head.unit_id, -len(by_unit[unit_id]), unit_id))
    chosen = [(unit_id, _proposer(unit_id)) for unit_id in order]
    chosen = [(unit_id, person) for unit_id, person in chosen if person is not None][:UNITS]
    with transaction.atomic():
        planned = {unit_id: [(_figures(p, year, n), p) for n, p in enumerate(by_unit[unit_id][:PER_UNIT])] for unit_id, _p in chosen}
        total = sum(data["planned_year"] for rows in planned.values() for data, _p in rows)
        groups, industries = defaultdict(Decimal), defaultdict(Decimal)
        for rows in planned.values():
            for data, project in rows:
                groups[UNIT_GROUP_OF_KIND[project.lead_unit.kind]] += data["planned_year"]
                industries[project.industry] += data["planned_year"]
        targets = {(PlanTarget.Kind.GROUP, key): _wan(amount * Decimal("1.1")) for key, amount in groups.items()}
        targets.update({(PlanTarget.Kind.INDUSTRY, key): _wan(amount * Decimal("1.05")) for key, amount in industries.items()})
        compilation = services.compilation_open(
            actor=secretariat.user, year=year, deadline=deadline, target_total=_wan(total * Decimal("1.2")), targets=targets
        )
        returned = False
        for position, (unit_id, person) in enumerate(chosen):
            proposals = [
                services.proposal_save(actor=person.user, compilation_id=compilation.pk, project_id=project.pk, data=data)
                for data, project in planned[unit_id]
            ]
            if position == 0 and head is not None and unit_id == head.unit_id:
                continue  # the demo head's work: submit from My work
            process = ProposeProcess.objects.get(compilation=compilation, unit_id=unit_id, finished__isnull=True)
            task = engine_services.open_task(process, ProposeFlow.propose)
            services.proposals_submit(task=task, user=person.user)
            for number, proposal in enumerate(proposals):
                if not returned and number == 1:
                    services.proposal_return(
                        actor=secretariat.user, proposal_id=proposal.pk,
                        reason="年度计划投资偏高，请结合前期工作进度核减后重新申报。",
                    )
                    returned = True
                elif position % 2 and number == 0:
                    services.proposal_accept(actor=secretariat.user, proposal_id=proposal.pk)
    if stdout is not None:
        count = PlanProposal.objects.filter(compilation=compilation).count()
        stdout.write(f"The compilation of {year} is open, {count} proposals from {len(chosen)} units.")
    return True
