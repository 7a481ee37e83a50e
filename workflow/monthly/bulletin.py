"""The monthly bulletin (通报): each unit scored for a month on measures whose weights are data,
ranked within its group, red- and black-listed; exemptions with a reason; issuing it to the units'
heads."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.status import STATUS

from cases import notifying
from cases import permissions as case_permissions
from cases.models import (
    ACTIVE_STAGES,
    AnnualPlan,
    AuditAction,
    Blocker,
    BlockerState,
    KeyProject,
    Person,
    Role,
    Stage,
    Unit,
    UnitGroup,
)
from cases.models.org import UNIT_GROUP_OF_KIND
from cases.services.audit import audit_record
from cases.services.errors import Conflict
from notifications.services import Message, notify_each
from workflow.engine.calendar import WorkingCalendar
from workflow.engine.models import TaskClock
from workflow.planning import figures as plan_figures

from .lights import expected_progress
from .models import (
    Bulletin,
    Light,
    LightSnapshot,
    MonthlyReport,
    ScoreExemption,
    ScoreMeasure,
    ScoreWeight,
    UnitScore,
)
from .periods import as_of_for, first_of_month, last_day

HUNDRED = Decimal("100")
CENT = Decimal("0.01")
SCORED_GROUPS = (UnitGroup.TERRITORIAL, UnitGroup.FUNCTIONAL)
SCORED_KINDS = [str(kind) for kind, group in UNIT_GROUP_OF_KIND.items() if group in SCORED_GROUPS]
MEASURES = list(ScoreMeasure)
# blocker_speed: full marks within the target, none from the zero mark on, linear between.
BLOCKER_SPEED_TARGET_DAYS = 10
BLOCKER_SPEED_ZERO_DAYS = 30
# lights: the points of each light.
LIGHT_POINTS = {Light.GREEN: HUNDRED, Light.YELLOW: Decimal("60"), Light.RED: Decimal("0")}
# investment: the cases whose plan counts (a case completed this year still had a plan).
INVESTMENT_STAGES = (*ACTIVE_STAGES, Stage.COMPLETED)
# The lists.
RED_LIST_SIZE = 3
RED_LIST_MIN = Decimal("90")
BLACK_LIST_BELOW = Decimal("60")
RULES = [
    _("Tasks done on time: the share of the unit's tasks finished in the month that were finished by their deadline."),
    _("Blockers resolved: the share of the blockers the unit leads, open at some time in the month, that were resolved or closed out by its end."),
    _("Speed of resolving blockers: each blocker resolved in the month scores 100 when it took at most %(target)s working days from report to resolution, 0 from %(zero)s on, and linearly between; the measure is their mean."),
    _("Reports on time: the share of the month's progress reports of the unit's cases submitted by their due moment."),
    _("Investment completed against plan: the investment its lead cases completed this year against their annual plans times the expected progress at the month's end, at most 100."),
    _("Lights of its cases: the mean of the month's lights of its lead cases, green 100, yellow 60, red 0."),
    _("A measure with nothing to score is left out, with its weight: the score is the weighted mean of the measures present."),
    _("Red list: the best %(size)s of each group scoring at least %(red_min)s. Black list: the last of each group scoring below %(black_below)s. Ties share a rank."),
    _("An exemption with a key project takes that case's items out of the measure; one without takes the whole measure out. Each needs a reason."),
]


def rules():
    """How units are scored, in sentences in the reader's language, with this module's limits."""
    limits = {
        "target": BLOCKER_SPEED_TARGET_DAYS,
        "zero": BLOCKER_SPEED_ZERO_DAYS,
        "size": RED_LIST_SIZE,
        "red_min": RED_LIST_MIN,
        "black_below": BLACK_LIST_BELOW,
    }
    return [str(rule) % limits if "%(" in str(rule) else str(rule) for rule in RULES]


class BulletinIssued(Conflict):
    """An issued bulletin is final: it is not scored again and its exemptions do not change."""

    default_message = _("This bulletin has been issued; its scores are final and are not computed again.")


def bulletin_number(month):
    """The document number of the bulletin of ``month``, like 通报〔2026〕10号."""
    return f"通报〔{month.year}〕{month.month}号"


def period_bounds(month):
    """The month's first moment and the next month's, in the site's time zone."""
    following = last_day(month) + datetime.timedelta(days=1)
    return WorkingCalendar.start_of(month), WorkingCalendar.start_of(following)


@dataclass
class Item:
    """What one case adds to one measure of one unit."""

    unit: int
    project: int
    done: int = 0
    of: int = 0
    points: Decimal = Decimal("0")
    planned: Decimal = Decimal("0")
    completed: Decimal = Decimal("0")


def speed_points(working_days):
    """A resolved blocker's points for how fast it was resolved."""
    if working_days <= BLOCKER_SPEED_TARGET_DAYS:
        return HUNDRED
    if working_days >= BLOCKER_SPEED_ZERO_DAYS:
        return Decimal("0")
    span = BLOCKER_SPEED_ZERO_DAYS - BLOCKER_SPEED_TARGET_DAYS
    return HUNDRED * (BLOCKER_SPEED_ZERO_DAYS - working_days) / span


def _task_items(start, end):
    rows = (
        TaskClock.objects.filter(
            unit__kind__in=SCORED_KINDS, closed_at__gte=start, closed_at__lt=end, task__status=STATUS.DONE
        )
        .order_by()
        .values("unit_id", "project_id")
        .annotate(of=Count("pk"), done=Count("pk", filter=Q(closed_at__lte=F("due_at"))))
    )
    return [Item(r["unit_id"], r["project_id"], done=r["done"], of=r["of"]) for r in rows]


def _blocker_items(start, end):
    rows = (
        Blocker.objects.filter(lead_unit__kind__in=SCORED_KINDS, created_at__lt=end)
        .exclude(state=BlockerState.REJECTED)
        .exclude(resolved_at__lt=start)
        .exclude(closed_at__lt=start)
        .order_by()
        .values("lead_unit_id", "project_id")
        .annotate(of=Count("pk"), done=Count("pk", filter=Q(resolved_at__lt=end) | Q(closed_at__lt=end)))
    )
    return [Item(r["lead_unit_id"], r["project_id"], done=r["done"], of=r["of"]) for r in rows]


def _speed_items(start, end, cal):
    items = []
    for unit_id, project_id, reported_at, resolved_at in (
        Blocker.objects.filter(lead_unit__kind__in=SCORED_KINDS, resolved_at__gte=start, resolved_at__lt=end)
        .exclude(state=BlockerState.REJECTED)
        .order_by()
        .values_list("lead_unit_id", "project_id", "created_at", "resolved_at")
    ):
        days = cal.working_days_between(reported_at, resolved_at)
        items.append(
            Item(unit_id, project_id, done=int(days <= BLOCKER_SPEED_TARGET_DAYS), of=1, points=speed_points(days))
        )
    return items


def _report_items(month, now):
    rows = (
        MonthlyReport.objects.filter(month=month, unit__kind__in=SCORED_KINDS)
        .filter(Q(submitted_at__isnull=False) | Q(due_at__lt=now))
        .order_by()
        .values("unit_id", "project_id")
        .annotate(of=Count("pk"), done=Count("pk", filter=Q(submitted_at__lte=F("due_at"))))
    )
    return [Item(r["unit_id"], r["project_id"], done=r["done"], of=r["of"]) for r in rows]


def _investment_items(year, expected):
    items = []
    # The planned figure is the published plan's (``workflow.planning``), else the case's annual plan.
    completed_of = AnnualPlan.objects.filter(project=OuterRef("pk"), year=year).values("completed_investment")[:1]
    for unit_id, project_id, planned, completed in (
        KeyProject.objects.filter(stage__in=INVESTMENT_STAGES, lead_unit__kind__in=SCORED_KINDS)
        .annotate(
            planned=plan_figures.planned_investment(year),
            completed=Coalesce(Subquery(completed_of), Value(Decimal("0")), output_field=DecimalField(max_digits=16, decimal_places=2)),
        )
        .filter(planned__gt=0)
        .order_by()
        .values_list("lead_unit_id", "pk", "planned", "completed")
    ):
        on_track = completed * HUNDRED >= planned * expected
        items.append(Item(unit_id, project_id, done=int(on_track), of=1, planned=planned, completed=completed))
    return items


def _light_items(month):
    return [
        Item(unit_id, project_id, done=int(light == Light.GREEN), of=1, points=LIGHT_POINTS[light])
        for unit_id, project_id, light in LightSnapshot.objects.filter(
            month=month, project__lead_unit__kind__in=SCORED_KINDS
        )
        .order_by()
        .values_list("project__lead_unit_id", "project_id", "light")
    ]


def _score(measure, items, expected):
    """The measure's score (two places, or None when there is nothing to score), done and of."""
    done = sum(item.done for item in items)
    of = sum(item.of for item in items)
    if measure == ScoreMeasure.INVESTMENT:
        planned = sum((item.planned for item in items), Decimal("0"))
        completed = sum((item.completed for item in items), Decimal("0"))
        if not planned or not expected:
            return None, done, of
        score = min(HUNDRED, completed * HUNDRED * HUNDRED / (planned * expected))
    elif not of:
        return None, done, of
    elif measure in (ScoreMeasure.BLOCKER_SPEED, ScoreMeasure.LIGHTS):
        score = sum((item.points for item in items), Decimal("0")) / of
    else:
        score = Decimal(done) * HUNDRED / of
    return score.quantize(CENT, ROUND_HALF_UP), done, of


def weighted_total(measures, weights):
    """The weighted mean of the measures present, two places; None when none is."""
    present = [
        (weights[measure], Decimal(str(value["score"])))
        for measure, value in measures.items()
        if value["score"] is not None and weights.get(measure)
    ]
    weight = sum((w for w, _score in present), Decimal("0"))
    if not weight:
        return None
    return (sum(w * score for w, score in present) / weight).quantize(CENT, ROUND_HALF_UP)


def rank_and_list(scores):
    """Rank ``scores`` (UnitScore rows) within their groups, ties sharing a rank, and mark the lists."""
    groups = defaultdict(list)
    for score in scores:
        score.rank, score.listing = None, UnitScore.Listing.NONE
        if score.total is not None:
            groups[score.group].append(score)
    for members in groups.values():
        members.sort(key=lambda s: -s.total)
        for position, score in enumerate(members, start=1):
            previous = members[position - 2] if position > 1 else None
            score.rank = previous.rank if previous is not None and previous.total == score.total else position
        bottom = members[-1].rank
        for score in members:
            if score.rank <= RED_LIST_SIZE and score.total >= RED_LIST_MIN:
                score.listing = UnitScore.Listing.RED
            elif score.rank == bottom and score.total < BLACK_LIST_BELOW:
                score.listing = UnitScore.Listing.BLACK
    return scores


def active_weights():
    return {w.measure: w.weight for w in ScoreWeight.objects.filter(is_active=True, weight__gt=0)}


def score_units(month, *, now=None):
    """Unsaved UnitScore rows for ``month`` (no bulletin set), ranked and listed."""
    now = now or timezone.now()
    month = first_of_month(month)
    start, end = period_bounds(month)
    expected = expected_progress(as_of_for(month, timezone.localdate(now)))
    cal = WorkingCalendar.load()
    items = {
        ScoreMeasure.TASKS_ON_TIME: _task_items(start, end),
        ScoreMeasure.BLOCKERS_RESOLVED: _blocker_items(start, end),
        ScoreMeasure.BLOCKER_SPEED: _speed_items(start, end, cal),
        ScoreMeasure.REPORTS_ON_TIME: _report_items(month, now),
        ScoreMeasure.INVESTMENT: _investment_items(month.year, expected),
        ScoreMeasure.LIGHTS: _light_items(month),
    }
    whole, by_case = set(), set()
    for unit_id, measure, project_id in ScoreExemption.objects.filter(month=month).values_list(
        "unit_id", "measure", "project_id"
    ):
        if project_id is None:
            whole.add((unit_id, measure))
        else:
            by_case.add((unit_id, measure, project_id))
    per_unit = defaultdict(lambda: defaultdict(list))
    for measure, measure_items in items.items():
        for item in measure_items:
            per_unit[item.unit][measure].append(item)
    weights = active_weights()
    units = dict(Unit.objects.filter(kind__in=SCORED_KINDS, is_active=True).values_list("pk", "kind"))
    partly = {(unit_id, measure) for unit_id, measure, _project in by_case}
    exempt_units = {unit_id for unit_id, _measure in whole | partly}
    scores = []
    for unit_id, kind in units.items():
        if unit_id not in per_unit and unit_id not in exempt_units:
            continue  # nothing of the unit's happened this month
        measures = {}
        for measure in MEASURES:
            if (unit_id, measure.value) in whole:
                measures[measure.value] = {"score": None, "done": 0, "of": 0, "exempt": True}
                continue
            kept = [
                item
                for item in per_unit[unit_id][measure]
                if (unit_id, measure.value, item.project) not in by_case
            ]
            value, done, of = _score(measure, kept, expected)
            measures[measure.value] = {
                "score": None if value is None else float(value),
                "done": done,
                "of": of,
                "exempt": (unit_id, measure.value) in partly,
            }
        scores.append(
            UnitScore(
                unit_id=unit_id,
                group=str(UNIT_GROUP_OF_KIND[kind]),
                measures=measures,
                total=weighted_total(measures, weights),
            )
        )
    return rank_and_list(scores)


@transaction.atomic
def bulletin_compute(*, month, now=None):
    """Score every unit for ``month`` into its bulletin (created as a draft when new).

    Computing a draft again replaces its scores; an issued bulletin raises ``BulletinIssued``.
    Returns the bulletin.
    """
    now = now or timezone.now()
    month = first_of_month(month)
    bulletin, created = Bulletin.objects.get_or_create(
        month=month, defaults={"number": bulletin_number(month), "computed_at": now}
    )
    if not created:
        bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        if bulletin.state == Bulletin.State.ISSUED:
            raise BulletinIssued()
    scores = score_units(month, now=now)
    if not created:
        UnitScore.objects.filter(bulletin=bulletin).delete()
        bulletin.computed_at = now
        bulletin.save(update_fields=["computed_at"])
    for score in scores:
        score.bulletin = bulletin
    UnitScore.objects.bulk_create(scores)
    return bulletin


def _draft_recomputed(month):
    if Bulletin.objects.filter(month=month, state=Bulletin.State.DRAFT).exists():
        bulletin_compute(month=month)


def _refuse_when_issued(month):
    if Bulletin.objects.filter(month=month, state=Bulletin.State.ISSUED).exists():
        raise BulletinIssued(_("The bulletin of this month has been issued; its exemptions are final."))


def can_manage(user):
    """Scoring, issuing and exemptions are the secretariat's."""
    return case_permissions.is_secretariat(user)


@transaction.atomic
def exemption_grant(*, unit, month, measure, reason, actor, project=None):
    """Take a case's items (or, without a case, the whole measure) out of a unit's score for
    ``month``; audited, and the month's draft bulletin is scored again."""
    if not can_manage(actor):
        raise PermissionDenied(_("Only the secretariat grants exemptions."))
    month = first_of_month(month)
    _refuse_when_issued(month)
    if unit.kind not in SCORED_KINDS:
        raise ValidationError({"unit": _("Only districts, parks, departments and state platforms are scored.")})
    exemption = ScoreExemption(
        unit=unit,
        month=month,
        measure=measure,
        project=project,
        reason=(reason or "").strip(),
        created_by=actor,
        created_at=timezone.now(),
    )
    exemption.full_clean()
    if ScoreExemption.objects.filter(unit=unit, month=month, measure=measure, project=project).exists():
        raise ValidationError(_("This exemption has been granted already."))
    exemption.save()
    audit_record(
        actor=actor,
        instance=exemption,
        action=AuditAction.CREATED,
        project=project,
        reason=exemption.reason,
        changes={
            "unit": [None, unit.pk],
            "month": [None, month.isoformat()],
            "measure": [None, measure],
            "project": [None, project.pk if project else None],
        },
    )
    _draft_recomputed(month)
    return exemption


@transaction.atomic
def exemption_revoke(*, exemption, actor, reason=""):
    """Put the item back into the unit's score; audited, and the draft bulletin scored again."""
    if not can_manage(actor):
        raise PermissionDenied(_("Only the secretariat revokes exemptions."))
    _refuse_when_issued(exemption.month)
    audit_record(
        actor=actor,
        instance=exemption,
        action=AuditAction.TRANSITION,
        project=exemption.project,
        transition="revoke",
        from_state="granted",
        to_state="revoked",
        reason=reason or exemption.reason,
    )
    month = exemption.month
    exemption.delete()
    _draft_recomputed(month)


def bulletin_link(bulletin):
    return f"/workflow/bulletin/?month={bulletin.month:%Y-%m}"


@transaction.atomic
def bulletin_issue(*, bulletin, actor):
    """Issue a draft bulletin: its scores become final, and the head of every scored unit is told
    the unit's rank."""
    if not can_manage(actor):
        raise PermissionDenied(_("Only the secretariat issues the bulletin."))
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.state == Bulletin.State.ISSUED:
        raise BulletinIssued(_("This bulletin has been issued already."))
    bulletin.state = Bulletin.State.ISSUED
    bulletin.issued_at = timezone.now()
    bulletin.issued_by = actor
    bulletin.full_clean()
    bulletin.save(update_fields=["state", "issued_at", "issued_by"])
    audit_record(
        actor=actor,
        instance=bulletin,
        action=AuditAction.TRANSITION,
        transition="issue",
        from_state=Bulletin.State.DRAFT,
        to_state=Bulletin.State.ISSUED,
    )
    _tell_unit_heads(bulletin)
    return bulletin


def _tell_unit_heads(bulletin):
    scores = list(UnitScore.objects.filter(bulletin=bulletin).select_related("unit"))
    unit_ids = [score.unit_id for score in scores]
    named_heads = {score.unit.head_id for score in scores if score.unit.head_id}
    people = list(Person.objects.filter(Q(role=Role.UNIT_HEAD, unit_id__in=unit_ids) | Q(pk__in=named_heads)))
    heads_of = defaultdict(dict)
    for person in people:
        if person.role == Role.UNIT_HEAD:
            heads_of[person.unit_id][person.pk] = person
    by_pk = {person.pk: person for person in people}
    for score in scores:
        if score.unit.head_id in by_pk:
            heads_of[score.unit_id][score.unit.head_id] = by_pk[score.unit.head_id]
    webhooks = notifying.webhooks_for(people)
    title = f"{bulletin.number}（{bulletin.month:%Y-%m}）"
    link = bulletin_link(bulletin)
    messages = []
    for score in scores:
        heads = list(heads_of[score.unit_id].values())
        if not heads:
            continue
        messages.append(
            Message(
                recipients=[person.user_id for person in heads],
                key="bulletin_issued",
                context={"title": title, "rank": score.rank if score.rank is not None else "—"},
                link=link,
                webhooks={person.user_id: webhooks.get(person.user_id, []) for person in heads},
            )
        )
    notify_each(messages)


def bulletin_scope(user):
    """The bulletins ``user`` may read: all for the secretariat, supervisors and leaders; the
    issued ones for the units; none for institutions and owners."""
    role = case_permissions.role_of(user)
    if role in case_permissions.ALL_SEEING or role == Role.LEADER:
        return Q()
    if role in case_permissions.UNIT_ROLES:
        return Q(state=Bulletin.State.ISSUED)
    return Q(pk__in=[])


def bulletins(user):
    return Bulletin.objects.filter(bulletin_scope(user)).select_related("issued_by").order_by("-month")


def bulletin_months(user):
    return list(bulletins(user).values_list("month", flat=True))


def bulletin_of(user, month):
    return bulletins(user).filter(month=month).first()


def scores_of(bulletin):
    """The bulletin's scores by group, best first, the unranked last."""
    return (
        UnitScore.objects.filter(bulletin=bulletin)
        .select_related("unit")
        .order_by("group", F("rank").asc(nulls_last=True), "unit__name")
    )


def exemption_scope(user):
    """Exemptions follow the bulletins: a unit's people see those of the months issued."""
    role = case_permissions.role_of(user)
    if role in case_permissions.ALL_SEEING or role == Role.LEADER:
        return Q()
    if role in case_permissions.UNIT_ROLES:
        return Q(month__in=Bulletin.objects.filter(state=Bulletin.State.ISSUED).values("month"))
    return Q(pk__in=[])


def exemptions(user, month=None):
    queryset = ScoreExemption.objects.filter(exemption_scope(user))
    if month is not None:
        queryset = queryset.filter(month=month)
    return queryset.select_related("unit", "project", "created_by", "created_by__person").order_by(
        "-month", "unit__name", "measure", "pk"
    )


def weights():
    """Every measure with its weight (0 when inactive or missing), in the measures' order."""
    stored = {w.measure: w for w in ScoreWeight.objects.all()}
    rows = []
    for measure in MEASURES:
        weight = stored.get(measure.value)
        active = weight is not None and weight.is_active
        rows.append({"measure": measure.value, "label": measure.label, "weight": weight.weight if active else Decimal("0")})
    return rows


def scored_units():
    return Unit.objects.filter(kind__in=SCORED_KINDS, is_active=True).order_by("kind", "name")


def group_label(group):
    return dict(UnitGroup.choices).get(group, group)


def grouped(scores):
    """[(group value, label, [scores])] in the groups' order."""
    by_group = defaultdict(list)
    for score in scores:
        by_group[score.group].append(score)
    return [(group.value, group.label, by_group[group.value]) for group in SCORED_GROUPS]
