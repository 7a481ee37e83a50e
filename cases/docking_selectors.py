"""Reads of the docking funnel and the matchmaking events, shared by their pages and the API.

Scoped by role and unit through ``permissions.docking_scope`` and ``permissions.event_scope``:
an institution's people read their own institution's dockings and the events it is invited
to, and nothing else. Each read brings what its callers show, so no caller queries per row.
"""

from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from . import permissions
from .models import (
    AuditEvent,
    Docking,
    DockingState,
    EventInvitation,
    FinancingNeed,
    KeyProject,
    MatchmakingEvent,
    NeedState,
    Role,
    Unit,
    UnitKind,
)
from .timeline import timeline_entries

# The funnel's path, and the amount each step ends with.
FUNNEL = [
    DockingState.RECOMMENDED,
    DockingState.CONTACTED,
    DockingState.DUE_DILIGENCE,
    DockingState.INTENT_SIGNED,
    DockingState.CREDIT_APPROVED,
    DockingState.DISBURSED,
]
STEP_AMOUNT = {
    DockingState.INTENT_SIGNED: "intent_amount",
    DockingState.CREDIT_APPROVED: "credit_approved_amount",
    DockingState.DISBURSED: "disbursed_amount",
}


# Dockings


def docking_list(user):
    """The dockings ``user`` may see, with what a list row shows."""
    return (
        Docking.objects.filter(permissions.docking_scope(user))
        .select_related("project", "institution", "need", "product", "event")
        .order_by("project__code", "institution__name", "pk")
    )


def docking_detail(user, pk):
    """One docking ``user`` may see (404 otherwise), with its case's lead unit."""
    return get_object_or_404(docking_list(user).select_related("project__lead_unit"), pk=pk)


def docking_trail(docking):
    """The docking's audit events, oldest first, made readable."""
    events = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Docking), object_id=str(docking.pk)
    ).order_by("at", "pk")
    return timeline_entries(events)


@dataclass
class FunnelStep:
    state: str
    label: str
    reached: bool = False
    skipped: bool = False
    current: bool = False
    at: object = None
    amount: object = None
    extra: dict = field(default_factory=dict)


def funnel(docking, trail):
    """The funnel's steps with whether each was reached (or skipped), when, and the amount it ended with.

    The trail says which steps were taken; the steps before the first one it records (a docking
    older than its trail) count as reached, and those the docking went past without a record
    (contacted straight to intent signed) as skipped.
    """
    reached_at = {}
    for event in trail:
        if event.to_state and event.to_state != event.from_state:
            reached_at.setdefault(event.to_state, event.at)
    # A step's starting state was reached too, even when the trail does not say when.
    seen = set(reached_at) | {event.from_state for event in trail if event.from_state}
    recorded = [FUNNEL.index(s) for s in seen if s in FUNNEL]
    if docking.state in FUNNEL:
        position = FUNNEL.index(docking.state)
    else:  # declined: as far as it got
        position = max(recorded, default=0)
    first_recorded = min(recorded, default=position + 1)
    steps = []
    for index, state in enumerate(FUNNEL):
        reached = state in seen or index < first_recorded or state == docking.state
        amount = getattr(docking, STEP_AMOUNT[state]) if state in STEP_AMOUNT and reached else None
        steps.append(
            FunnelStep(
                state=state,
                label=str(DockingState(state).label),
                reached=reached,
                skipped=not reached and index < position,
                current=docking.state == state,
                at=reached_at.get(state),
                amount=amount,
            )
        )
    if docking.state == DockingState.DISBURSED:
        steps[-1].extra["on"] = docking.disbursed_on
    if docking.state == DockingState.DECLINED:
        steps.append(
            FunnelStep(
                state=DockingState.DECLINED,
                label=str(DockingState.DECLINED.label),
                reached=True,
                current=True,
                at=reached_at.get(DockingState.DECLINED),
                extra={"reason": docking.decline_reason},
            )
        )
    return steps


# Matchmaking events


def _count(queryset):
    return Coalesce(Subquery(queryset.order_by().values("event_id").annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()), 0)


def event_list(user):
    """The events ``user`` may see, newest first, with their counts (one query)."""
    pitched = MatchmakingEvent.projects.through.objects.filter(matchmakingevent_id=OuterRef("pk"))
    return (
        MatchmakingEvent.objects.filter(permissions.event_scope(user))
        .annotate(
            project_count=Coalesce(
                Subquery(
                    pitched.order_by().values("matchmakingevent_id").annotate(n=Count("pk")).values("n")[:1],
                    output_field=IntegerField(),
                ),
                0,
            ),
            invited_count=_count(EventInvitation.objects.filter(event_id=OuterRef("pk"))),
            attended_count=_count(EventInvitation.objects.filter(event_id=OuterRef("pk"), attended=True)),
            intent_count=_count(Docking.objects.filter(permissions.docking_scope(user), event_id=OuterRef("pk"))),
            intent_total=Subquery(
                Docking.objects.filter(permissions.docking_scope(user), event_id=OuterRef("pk"))
                .order_by()
                .values("event_id")
                .annotate(total=Sum("intent_amount"))
                .values("total")[:1]
            ),
        )
        .select_related("organiser")
        .order_by("-starts_at", "-pk")
    )


def event_detail(user, pk):
    """One event ``user`` may see (404 otherwise) with its projects and their published needs,
    its invitations and the intents signed at it; an institution's people see only their own
    invitation and intents."""
    event = get_object_or_404(event_list(user), pk=pk)
    invitations = EventInvitation.objects.filter(event=event).select_related("institution")
    if permissions.role_of(user) == Role.INSTITUTION:
        invitations = invitations.filter(institution_id__in=permissions.institution_ids(user))
    event.invitation_rows = list(invitations.order_by("institution__name"))
    needs = FinancingNeed.objects.filter(state=NeedState.PUBLISHED).order_by("-amount", "pk")
    event.project_rows = list(
        event.projects.select_related("region", "lead_unit")
        .prefetch_related(Prefetch("financing_needs", queryset=needs, to_attr="published_needs"))
        .order_by("code")
    )
    event.intent_rows = list(
        Docking.objects.filter(permissions.docking_scope(user), event=event)
        .select_related("project", "institution", "need", "product", "event")
        .order_by("project__code", "institution__name")
    )
    return event


def pitchable_projects():
    """Cases with a need published on the white list: the ones an event may pitch."""
    published = FinancingNeed.objects.filter(project_id=OuterRef("pk"), state=NeedState.PUBLISHED)
    return KeyProject.objects.filter(Exists(published))


def suggested_projects(event):
    """Cases of the event's industrial chain with a published need, not pitched at it yet."""
    queryset = pitchable_projects().filter(industry=event.chain).select_related("region", "lead_unit").order_by("code")
    if event.pk:
        queryset = queryset.exclude(pk__in=event.projects.values("pk"))
    return queryset


def signable_needs(event):
    """The published needs of the projects pitched at ``event``."""
    return (
        FinancingNeed.objects.filter(state=NeedState.PUBLISHED, project__in=event.projects.all())
        .select_related("project")
        .order_by("project__code", "-amount")
    )


def invited_institutions(event):
    return Unit.objects.filter(pk__in=event.invitations.values("institution_id")).order_by("name")


def institutions():
    """Every active financial institution (branches included), for the invitation form."""
    return Unit.objects.filter(kind=UnitKind.INSTITUTION, is_active=True).order_by("name")
