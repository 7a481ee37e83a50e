"""Traffic lights: each active case green, yellow or red for a month, by rules that are data.

The rules (``LightRule``, editable in the admin) compare four measures of a case with a threshold:
how many points its investment lags the expected progress (序时进度, the share of the year elapsed), how
many months its planned start is missed, the highest rung of the ladder an open task of it has
reached, and how many of its supervision orders are overdue. The worst light whose rule holds wins,
and each holding rule is kept as a reason. A case that was red and has made up its lag is yellow,
not green, for that month. Red two months in a row proposes an interview of its responsible leader,
through the engine's port to the interview flow.

``lights_compute`` is set-based: the measures of every case come from one query, last months' lights
from one more, and the snapshots are written with one upsert, so its query count does not grow with
the number of cases."""

import calendar as month_calendar
import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import IntegerField, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow.status import STATUS

from cases.models import AnnualPlan, KeyProject, Stage
from workflow.engine.interventions import RULE, InterviewRequest, interventions
from workflow.engine.models import Escalation
from workflow.planning import figures as plan_figures

from .models import Light, LightRule, LightSnapshot
from .periods import as_of_for, first_of_month, months_back

ACTIVE_STAGES = (Stage.PREWORK, Stage.DOCKING, Stage.FINANCING, Stage.CONSTRUCTION)
SEVERITY = {Light.GREEN: 0, Light.YELLOW: 1, Light.RED: 2}
TREND_MONTHS = 3
DAYS_PER_MONTH = Decimal("30.4375")  # the average month, to say "missed by 3.2 months"
HUNDRED = Decimal("100")
CENT = Decimal("0.01")
RECOVERING = "recovering"
FORECAST_METHOD = gettext_lazy(
    "Next month's light applies today's rules to the lag extended by its average monthly change "
    "over the last three months, and to the start one month later; the other reasons are assumed to stay."
)


def expected_progress(as_of):
    """The share of the year elapsed at the end of ``as_of``, in percent."""
    days_in_year = 366 if month_calendar.isleap(as_of.year) else 365
    return (Decimal(as_of.timetuple().tm_yday) * HUNDRED / days_in_year).quantize(CENT, ROUND_HALF_UP)


def _round(value):
    return None if value is None else Decimal(value).quantize(CENT, ROUND_HALF_UP)


def measures_queryset(as_of, projects=None):
    """Active cases annotated with what the rules measure; one query."""
    year_plan = AnnualPlan.objects.filter(project=OuterRef("pk"), year=as_of.year)
    open_levels = (
        Escalation.objects.filter(
            clock__project=OuterRef("pk"),
            clock__closed_at__isnull=True,
            clock__task__status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED],
        )
        .values("clock__project")
        .annotate(level=Max("level"))
        .values("level")
    )
    end_of_day = timezone.make_aware(datetime.datetime.combine(as_of, datetime.time.max))
    queryset = KeyProject.objects.filter(stage__in=ACTIVE_STAGES)
    if projects is not None:
        queryset = queryset.filter(pk__in=projects)
    return (
        queryset.annotate(
            plan_planned=plan_figures.planned_investment(as_of.year),
            plan_completed=Subquery(year_plan.values("completed_investment")[:1]),
            task_level=Subquery(open_levels[:1], output_field=IntegerField()),
            orders_overdue=Coalesce(interventions().overdue_orders_of_case(project_ref=OuterRef("pk"), before=end_of_day), 0),
        )
        .select_related("responsible_leader", "lead_unit")
        .order_by("pk")
    )


def measures_of(project, as_of, expected):
    """The four measures of an annotated case, and its progress figures."""
    completed = lag = None
    if project.plan_planned:
        completed = _round(Decimal(project.plan_completed or 0) * HUNDRED / Decimal(project.plan_planned))
        lag = _round(expected - completed)
    start_missed = None
    if project.planned_start and not project.actual_start and project.planned_start < as_of:
        start_missed = _round(Decimal((as_of - project.planned_start).days) / DAYS_PER_MONTH)
    return {
        LightRule.Check.LAG: lag,
        LightRule.Check.START_MISSED: start_missed,
        LightRule.Check.TASK_LEVEL: project.task_level,
        LightRule.Check.ORDER_OVERDUE: project.orders_overdue or None,
    }, completed, lag


def judge(measures, rules):
    """The worst light whose rule holds, and the holding rules as reasons."""
    light, reasons = Light.GREEN, []
    for rule in rules:
        value = measures.get(rule.measure)
        if rule.holds(value):
            reasons.append(
                {
                    "measure": rule.measure,
                    "light": rule.light,
                    "value": str(value),
                    "comparison": rule.comparison,
                    "threshold": str(rule.threshold),
                }
            )
            if SEVERITY[rule.light] > SEVERITY[light]:
                light = rule.light
    return light, reasons


def forecast_lag(lag, earlier_lags):
    """The lag extended by its average monthly change over the last months (flat without history)."""
    if lag is None:
        return None
    history = [value for value in earlier_lags if value is not None]
    if not history:
        return lag
    oldest = history[-1]
    return _round(lag + (lag - oldest) / len(history))


@transaction.atomic
def lights_compute(*, month, projects=None, today=None):
    """Compute and store ``month``'s light for every active case (or those in ``projects``).

    Idempotent: computing a month again updates its snapshots, and an interview is proposed
    once per case and month, and not while an interview of the case is still unsettled (a case
    red for months is not summoned again before the last interview has been held and followed
    up). Returns the snapshots.
    """
    month = first_of_month(month)
    as_of = as_of_for(month, today)
    expected = expected_progress(as_of)
    rules = list(LightRule.objects.filter(is_active=True).order_by("measure", "threshold"))
    cases = list(measures_queryset(as_of, projects))
    earlier = months_back(month, TREND_MONTHS)
    # The last months' lights for the trend and the red count, and this month's, if computed
    # before, for the interviews it already proposed: one query.
    history, already_proposed = {}, set()
    for project_id, snapshot_month, light, lag, consecutive_red, proposed in LightSnapshot.objects.filter(
        project__in=[case.pk for case in cases], month__in=[*earlier, month]
    ).values_list("project_id", "month", "light", "lag", "consecutive_red", "interview_proposed"):
        history[(project_id, snapshot_month)] = (light, lag, consecutive_red)
        if snapshot_month == month and proposed:
            already_proposed.add(project_id)

    unsettled = interventions().cases_with_unsettled_interviews([case.pk for case in cases])
    now = timezone.now()
    snapshots, interviews = [], []
    for case in cases:
        measures, completed, lag = measures_of(case, as_of, expected)
        light, reasons = judge(measures, rules)
        before = history.get((case.pk, earlier[0]))
        if before and before[0] == Light.RED and light == Light.GREEN:
            light = Light.YELLOW
            reasons.append({"measure": RECOVERING, "light": Light.YELLOW})
        consecutive_red = (before[2] if before else 0) + 1 if light == Light.RED else 0
        trend = forecast_lag(lag, [history.get((case.pk, m), (None, None, 0))[1] for m in earlier])
        forecast_measures = {
            **measures,
            LightRule.Check.LAG: trend,
            LightRule.Check.START_MISSED: (
                measures[LightRule.Check.START_MISSED] + 1 if measures[LightRule.Check.START_MISSED] is not None else None
            ),
        }
        forecast, _reasons = judge(forecast_measures, rules)
        propose = (
            consecutive_red >= 2
            and case.pk not in already_proposed
            and case.pk not in unsettled
            and case.responsible_leader_id is not None
        )
        if propose:
            interviews.append(_interview_for(case, month, consecutive_red, now))
        snapshots.append(
            LightSnapshot(
                project=case,
                month=month,
                light=light,
                reasons=reasons,
                expected_progress=expected,
                completed_progress=completed,
                lag=lag,
                consecutive_red=consecutive_red,
                forecast=forecast,
                forecast_lag=trend,
                interview_proposed=propose or case.pk in already_proposed,
                computed_at=now,
            )
        )
    LightSnapshot.objects.bulk_create(
        snapshots,
        update_conflicts=True,
        unique_fields=["project", "month"],
        update_fields=[
            "light",
            "reasons",
            "expected_progress",
            "completed_progress",
            "lag",
            "consecutive_red",
            "forecast",
            "forecast_lag",
            "interview_proposed",
            "computed_at",
        ],
    )
    if interviews:
        interventions().propose_interviews(interviews)
    return snapshots


def _interview_for(case, month, consecutive_red, now):
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("%(case)s has been red for %(months)s months in a row (%(month)s).") % {
            "case": f"{case.code} {case.name}",
            "months": consecutive_red,
            "month": f"{month:%Y-%m}",
        }
    return InterviewRequest(
        project=case,
        unit=case.lead_unit,
        leader=case.responsible_leader,
        reason=reason,
        source=RULE,
        proposed_at=now,
    )


def deciding_reasons(light, reasons):
    """The reasons that made ``light``: on a red light the red rules only, not the yellow ones
    they supersede (a lag of 35 points holds "more than 30" and "at least 10"). All are stored."""
    return [reason for reason in reasons if reason.get("light", light) == light]


def reason_text(reason):
    """A stored reason as a sentence in the reader's language."""
    measure = reason.get("measure")
    if measure == RECOVERING:
        return _("It was red last month and has made up its lag, so it is yellow for now.")
    values = {"value": reason.get("value"), "threshold": reason.get("threshold")}
    more = reason.get("comparison") == LightRule.Comparison.MORE_THAN
    sentences = {
        LightRule.Check.LAG: (
            _("Investment lags the expected progress by %(value)s points (more than %(threshold)s).")
            if more
            else _("Investment lags the expected progress by %(value)s points (at least %(threshold)s).")
        ),
        LightRule.Check.START_MISSED: (
            _("The planned start was missed %(value)s months ago (more than %(threshold)s).")
            if more
            else _("The planned start was missed %(value)s months ago (at least %(threshold)s).")
        ),
        LightRule.Check.TASK_LEVEL: _("An open task has reached level %(value)s of the escalation ladder."),
        LightRule.Check.ORDER_OVERDUE: _("%(value)s supervision orders are overdue."),
    }
    sentence = sentences.get(measure)
    return sentence % values if sentence else str(reason)
