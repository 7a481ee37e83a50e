"""Financing statistics (DESIGN section 7): the amounts needed, intended, approved and disbursed by
month, industry, institution, region and stage; growth on the same period of last year; how many
institutions dock with each project; conversion through the docking funnel; and the same figures
as an Excel workbook.

Set-based: six grouped queries whatever the number of needs and dockings, rolled up here from
their groups (never from rows). What counts, and when:

- needed: needs published on the white list (published or closed since), in the month published;
- intended: the intended amounts of dockings that reached a signed intent and were not declined,
  in the month the intent was reached;
- approved: the approved credit of dockings that reached credit approval (not declined), in the
  month it was approved;
- disbursed: disbursed dockings, on their date of disbursement.

When a step was taken is read from the audit trail (the first event that reached the state or a
later one); a docking without that event counts at its last step, or failing that its creation.
Industry, region and stage are the case's; the stage is where the case is now. The period is the
calendar year, up to today for this year; last year's same period ends on the same day.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, ExtractMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from cases.excel import save_workbook
from cases.formatting import in_wan
from cases.models import AuditEvent, Industry, KeyProject, Stage, Unit
from cases.models.choices import STAGE_PATH

from . import permissions
from .models import Docking, DockingState, FinancialProduct, FinancingNeed, NeedMatch, NeedState

MEASURES = ("needed", "intended", "approved", "disbursed")
MEASURE_LABELS = {
    "needed": gettext_lazy("Needed"),
    "intended": gettext_lazy("Intended"),
    "approved": gettext_lazy("Credit approved"),
    "disbursed": gettext_lazy("Disbursed"),
}
DIMENSIONS = ("month", "industry", "institution", "region", "stage")
DIMENSION_LABELS = {
    "month": gettext_lazy("month"),
    "industry": gettext_lazy("industry"),
    "institution": gettext_lazy("institution"),
    "region": gettext_lazy("region"),
    "stage": gettext_lazy("stage"),
}
FILTERS = ("industry", "region", "institution", "stage", "financing_type")
# The docking funnel in order; declined leaves it from any step.
FUNNEL = [
    DockingState.RECOMMENDED,
    DockingState.CONTACTED,
    DockingState.DUE_DILIGENCE,
    DockingState.INTENT_SIGNED,
    DockingState.CREDIT_APPROVED,
    DockingState.DISBURSED,
]
INTENT_REACHED = FUNNEL[3:]
CREDIT_REACHED = FUNNEL[4:]
COUNTED_NEEDS = [NeedState.PUBLISHED, NeedState.CLOSED]
ZERO = Decimal("0")
ONE_PLACE = Decimal("0.1")
TWO_PLACES = Decimal("0.01")


def percent(part, whole):
    """``part`` as a percentage of ``whole``, one place; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


def growth(current, previous):
    """Growth on the previous figure in percent, one place; None when there was nothing before."""
    if not previous:
        return None
    return ((Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


# Periods


def _same_day(day, year):
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=year, day=28)


def periods(year, today):
    """This year's period (to today for the running year) and last year's same period."""
    start = datetime.date(year, 1, 1)
    end = today if year == today.year else datetime.date(year, 12, 31)
    return (start, end), (datetime.date(year - 1, 1, 1), _same_day(end, year - 1))


def _moment(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _window(field, current, previous, *, dates=False):
    """A filter for ``field`` inside either period, and the annotation naming the period."""
    if dates:
        inside = Q(**{f"{field}__range": previous}) | Q(**{f"{field}__range": current})
        current_start = current[0]
    else:
        bounds = [(_moment(start), _moment(end + datetime.timedelta(days=1))) for start, end in (previous, current)]
        inside = Q()
        for low, high in bounds:
            inside |= Q(**{f"{field}__gte": low, f"{field}__lt": high})
        current_start = bounds[1][0]
    period = Case(When(**{f"{field}__gte": current_start}, then=Value("current")), default=Value("previous"))
    return inside, period


# The querysets


def _reached_at(states):
    """When a docking first reached one of ``states``, from the audit trail."""
    first = (
        AuditEvent.objects.filter(
            content_type__app_label="cases",
            content_type__model="docking",
            object_id=Cast(OuterRef("pk"), output_field=CharField()),
            to_state__in=[str(s) for s in states],
        )
        .order_by("at")
        .values("at")[:1]
    )
    return Coalesce(Subquery(first, output_field=DateTimeField()), "last_step_at", "created_at")


def _declined_from():
    return Subquery(
        AuditEvent.objects.filter(
            content_type__app_label="cases",
            content_type__model="docking",
            object_id=Cast(OuterRef("pk"), output_field=CharField()),
            to_state=DockingState.DECLINED,
        )
        .order_by("-at")
        .values("from_state")[:1],
        output_field=CharField(),
    )


def _filtered(need_q, docking_q, filters):
    needs = FinancingNeed.objects.filter(need_q)
    dockings = Docking.objects.filter(docking_q)
    for name, value in filters.items():
        if value in (None, ""):
            continue
        if name == "industry":
            needs, dockings = needs.filter(project__industry=value), dockings.filter(project__industry=value)
        elif name == "region":
            needs, dockings = needs.filter(project__region_id=value), dockings.filter(project__region_id=value)
        elif name == "stage":
            needs, dockings = needs.filter(project__stage=value), dockings.filter(project__stage=value)
        elif name == "financing_type":
            needs, dockings = needs.filter(financing_type=value), dockings.filter(need__financing_type=value)
        elif name == "institution":
            docked = Docking.objects.filter(need_id=OuterRef("pk"), institution_id=value)
            needs, dockings = needs.filter(Exists(docked)), dockings.filter(institution_id=value)
        else:
            raise TypeError(f"statistics() got an unexpected filter {name!r}")
    return needs, dockings


CASE_KEYS = ("project__industry", "project__region_id", "project__region__name", "project__stage")
DOCKING_KEYS = (*CASE_KEYS, "institution_id", "institution__name")


def _need_groups(needs, current, previous):
    inside, period = _window("published_at", current, previous)
    return (
        needs.filter(inside, state__in=COUNTED_NEEDS)
        .annotate(period=period, month=ExtractMonth("published_at"))
        .order_by()
        .values("period", "month", *CASE_KEYS)
        .annotate(amount=Sum("amount"), n=Count("pk"))
    )


def _docking_groups(dockings, measure, current, previous):
    if measure == "disbursed":
        inside, period = _window("disbursed_on", current, previous, dates=True)
        return (
            dockings.filter(inside, state=DockingState.DISBURSED, disbursed_on__isnull=False)
            .annotate(period=period, month=ExtractMonth("disbursed_on"))
            .order_by()
            .values("period", "month", *DOCKING_KEYS)
            .annotate(amount=Sum("disbursed_amount"), n=Count("pk"))
        )
    states, amount = (INTENT_REACHED, "intent_amount") if measure == "intended" else (CREDIT_REACHED, "credit_approved_amount")
    inside, period = _window("reached_at", current, previous)
    return (
        dockings.filter(state__in=states, **{f"{amount}__isnull": False})
        .annotate(reached_at=_reached_at(states))
        .filter(inside)
        .annotate(period=period, month=ExtractMonth("reached_at"))
        .order_by()
        .values("period", "month", *DOCKING_KEYS)
        .annotate(amount=Sum(amount), n=Count("pk"))
    )


def _funnel_groups(dockings, current):
    start, end = _moment(current[0]), _moment(current[1] + datetime.timedelta(days=1))
    return (
        dockings.filter(created_at__gte=start, created_at__lt=end)
        .annotate(declined_from=_declined_from())
        .order_by()
        .values("state", "declined_from")
        .annotate(n=Count("pk"))
    )


def _institutions_per_project(dockings, current):
    start, end = _moment(current[0]), _moment(current[1] + datetime.timedelta(days=1))
    per_project = (
        dockings.filter(created_at__gte=start, created_at__lt=end, project_id=OuterRef("pk"))
        .order_by()
        .values("project_id")
        .annotate(n=Count("institution_id", distinct=True))
        .values("n")
    )
    return (
        KeyProject.objects.annotate(institutions=Subquery(per_project, output_field=IntegerField()))
        .filter(institutions__gt=0)
        .order_by()
        .values("institutions")
        .annotate(projects=Count("pk"))
        .order_by("institutions")
    )


# Rolling the groups up


def _blank():
    row = {}
    for measure in MEASURES:
        row[measure] = ZERO
        row[f"{measure}_count"] = 0
    return row


def _add(row, measure, amount, n):
    row[measure] += amount or ZERO
    row[f"{measure}_count"] += n


def _dimension_keys(group):
    return {
        "month": (group["month"], None),
        "industry": (group["project__industry"], None),
        "region": (group["project__region_id"], group["project__region__name"]),
        "stage": (group["project__stage"], None),
        "institution": (group.get("institution_id"), group.get("institution__name")),
    }


INDUSTRY_LABELS = dict(Industry.choices)
STAGE_LABELS = dict(Stage.choices)
STAGE_ORDER = {stage: index for index, stage in enumerate([*STAGE_PATH, Stage.SUSPENDED, Stage.WITHDRAWN])}


def _roll_up(groups_by_measure, current):
    totals = {"current": _blank(), "previous": _blank()}
    previous_by_month = {}
    breakdowns = {dimension: {} for dimension in DIMENSIONS}
    names = {"region": {}, "institution": {}}
    for measure, groups in groups_by_measure.items():
        for group in groups:
            amount, n = group["amount"], group["n"]
            _add(totals[group["period"]], measure, amount, n)
            if group["period"] == "previous":
                _add(previous_by_month.setdefault(group["month"], _blank()), measure, amount, n)
                continue
            for dimension, (key, name) in _dimension_keys(group).items():
                if key is None:
                    continue  # needs have no institution
                if name is not None:
                    names[dimension][key] = name
                _add(breakdowns[dimension].setdefault(key, _blank()), measure, amount, n)

    year = current[0].year
    months = []
    for month in range(1, current[1].month + 1):
        row = breakdowns["month"].get(month, _blank())
        months.append(
            {"key": month, "label": f"{year}-{month:02d}", **row, "previous": previous_by_month.get(month, _blank())}
        )

    def rows(dimension, label_of, order):
        found = [{"key": key, "label": str(label_of(key)), **row} for key, row in breakdowns[dimension].items()]
        return sorted(found, key=order)

    by_value = lambda row: (-row["needed"], -row["approved"], -row["intended"], row["label"])  # noqa: E731
    return {
        "totals": totals["current"],
        "previous_totals": totals["previous"],
        "by_month": months,
        "by_industry": rows("industry", lambda key: INDUSTRY_LABELS.get(key, key), by_value),
        "by_institution": rows(
            "institution",
            lambda key: names["institution"].get(key, key),
            lambda row: (-row["approved"], -row["disbursed"], -row["intended"], row["label"]),
        ),
        "by_region": rows("region", lambda key: names["region"].get(key, key), by_value),
        "by_stage": rows(
            "stage", lambda key: STAGE_LABELS.get(key, key), lambda row: (STAGE_ORDER.get(row["key"], 99), row["label"])
        ),
    }


def _funnel(groups):
    reached = [0] * len(FUNNEL)
    declined = 0
    for group in groups:
        state = group["state"]
        if state == DockingState.DECLINED:
            declined += group["n"]
            furthest = FUNNEL.index(group["declined_from"]) if group["declined_from"] in FUNNEL else 0
        else:
            furthest = FUNNEL.index(state) if state in FUNNEL else 0
        for index in range(furthest + 1):
            reached[index] += group["n"]
    steps = []
    for index, state in enumerate(FUNNEL):
        steps.append(
            {
                "state": str(state),
                "label": str(state.label),
                "count": reached[index],
                "conversion": percent(reached[index], reached[index - 1]) if index else None,
                "share_of_first": percent(reached[index], reached[0]),
            }
        )
    return {"steps": steps, "declined": declined, "total": reached[0]}


def _per_project(groups):
    distribution = [{"institutions": g["institutions"], "projects": g["projects"]} for g in groups]
    projects = sum(row["projects"] for row in distribution)
    institutions = sum(row["institutions"] * row["projects"] for row in distribution)
    average = (Decimal(institutions) / projects).quantize(TWO_PLACES, rounding=ROUND_HALF_UP) if projects else None
    return {"projects": projects, "dockings": institutions, "average": average, "distribution": distribution}


def statistics(user, *, year=None, today=None, **filters):
    """The financing figures ``user`` may see for ``year`` (this year by default).

    ``filters`` narrow them: industry, region (a unit id), institution (a unit id), stage,
    financing_type. Raises PermissionDenied for a role without statistics.
    """
    if not permissions.can_view_financing_statistics(user):
        raise PermissionDenied
    today = today or timezone.localdate()
    year = int(year or today.year)
    current, previous = periods(year, today)
    need_q, docking_q = permissions.financing_statistics_scope(user)
    needs, dockings = _filtered(need_q, docking_q, filters)

    groups = {
        "needed": list(_need_groups(needs, current, previous)),
        "intended": list(_docking_groups(dockings, "intended", current, previous)),
        "approved": list(_docking_groups(dockings, "approved", current, previous)),
        "disbursed": list(_docking_groups(dockings, "disbursed", current, previous)),
    }
    data = _roll_up(groups, current)
    data["growth"] = {measure: growth(data["totals"][measure], data["previous_totals"][measure]) for measure in MEASURES}
    data["funnel"] = _funnel(_funnel_groups(dockings, current))
    data["institutions_per_project"] = _per_project(_institutions_per_project(dockings, current))
    data.update(
        {
            "year": year,
            "period": {"start": current[0], "end": current[1]},
            "previous_period": {"start": previous[0], "end": previous[1]},
            "filters": {name: value for name, value in filters.items() if value not in (None, "")},
        }
    )
    return data


# The institution portal at a glance


def portal_summary(user):
    """An institution's people's figures: their dockings by state with amounts, their products,
    the white list, and the published needs matched with their products (constant queries)."""
    ids = permissions.institution_ids(user)
    institutions = list(Unit.objects.filter(pk__in=ids).order_by("name").values("id", "name"))
    by_state = {
        row["state"]: row
        for row in Docking.objects.filter(permissions.docking_scope(user))
        .order_by()
        .values("state")
        .annotate(
            count=Count("pk"),
            intended=Sum("intent_amount"),
            approved=Sum("credit_approved_amount"),
            disbursed=Sum("disbursed_amount"),
        )
    }
    dockings = []
    for state in [*FUNNEL, DockingState.DECLINED]:
        row = by_state.get(state, {})
        dockings.append(
            {
                "state": str(state),
                "label": str(state.label),
                "count": row.get("count", 0),
                "intended": row.get("intended") or ZERO,
                "approved": row.get("approved") or ZERO,
                "disbursed": row.get("disbursed") or ZERO,
            }
        )
    products = FinancialProduct.objects.filter(institution_id__in=ids).aggregate(
        total=Count("pk"), active=Count("pk", filter=Q(is_active=True))
    )
    white_list = FinancingNeed.objects.filter(state=NeedState.PUBLISHED).aggregate(n=Count("pk"), amount=Sum("amount"))
    docked = Docking.objects.filter(need_id=OuterRef("need_id"), institution_id__in=ids)
    matched = NeedMatch.objects.filter(institution_id__in=ids, need__state=NeedState.PUBLISHED).aggregate(
        needs=Count("need_id", distinct=True),
        not_docked=Count("need_id", distinct=True, filter=~Q(Exists(docked))),
    )
    return {
        "institutions": institutions,
        "dockings": dockings,
        "open_dockings": sum(row["count"] for row in dockings if row["state"] not in (DockingState.DISBURSED, DockingState.DECLINED)),
        "products": products["total"],
        "active_products": products["active"],
        "white_list": white_list["n"],
        "white_list_amount": white_list["amount"] or ZERO,
        "matched_needs": matched["needs"],
        "matched_not_docked": matched["not_docked"],
    }


# Excel

HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
WAN_FORMAT = "#,##0.00"


def _sheet(workbook, title, headers, widths=None):
    sheet = workbook.create_sheet(title=str(title)[:31])
    sheet.append([str(h) for h in headers])
    for index, _header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = (widths or {}).get(index, 18)
    sheet.freeze_panes = "A2"
    return sheet


def _amount_headers():
    headers = []
    for measure in MEASURES:
        headers += [
            _("%(measure)s (10k yuan)") % {"measure": MEASURE_LABELS[measure]},
            _("%(measure)s (number)") % {"measure": MEASURE_LABELS[measure]},
        ]
    return headers


def _amount_cells(row):
    cells = []
    for measure in MEASURES:
        cells += [in_wan(row[measure]), row[f"{measure}_count"]]
    return cells


def _format_amounts(sheet, first_column):
    for column in range(first_column, first_column + 2 * len(MEASURES), 2):
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = WAN_FORMAT


def statistics_workbook(data):
    """The figures of ``statistics`` as an .xlsx file's bytes, amounts in ten-thousand yuan."""
    workbook = Workbook()
    workbook.remove(workbook.active)

    summary = _sheet(
        workbook,
        _("Summary"),
        [_("measure"), _("This period (10k yuan)"), _("Same period last year (10k yuan)"), _("Growth (percent)"),
         _("This period (number)"), _("Same period last year (number)")],
        widths={1: 22},
    )
    for measure in MEASURES:
        summary.append(
            [
                str(MEASURE_LABELS[measure]),
                in_wan(data["totals"][measure]),
                in_wan(data["previous_totals"][measure]),
                data["growth"][measure],
                data["totals"][f"{measure}_count"],
                data["previous_totals"][f"{measure}_count"],
            ]
        )
    for (this, before) in summary.iter_rows(min_row=2, min_col=2, max_col=3):
        this.number_format = before.number_format = WAN_FORMAT
    summary.append([])
    summary.append([_("Period"), f"{data['period']['start']:%Y-%m-%d} – {data['period']['end']:%Y-%m-%d}"])
    summary.append(
        [_("Same period last year"), f"{data['previous_period']['start']:%Y-%m-%d} – {data['previous_period']['end']:%Y-%m-%d}"]
    )

    months = _sheet(
        workbook,
        _("By month"),
        [_("month"), *_amount_headers(), *[_("%(measure)s last year (10k yuan)") % {"measure": MEASURE_LABELS[m]} for m in MEASURES]],
    )
    for row in data["by_month"]:
        months.append([row["label"], *_amount_cells(row), *[in_wan(row["previous"][m]) for m in MEASURES]])
    _format_amounts(months, 2)

    for dimension, title in (
        ("industry", _("By industry")),
        ("institution", _("By institution")),
        ("region", _("By region")),
        ("stage", _("By stage")),
    ):
        sheet = _sheet(workbook, title, [DIMENSION_LABELS[dimension], *_amount_headers()], widths={1: 30})
        for row in data[f"by_{dimension}"]:
            sheet.append([row["label"], *_amount_cells(row)])
        _format_amounts(sheet, 2)

    funnel = _sheet(
        workbook, _("Funnel"), [_("step"), _("dockings reaching it"), _("of the step before (percent)"), _("of all (percent)")]
    )
    for step in data["funnel"]["steps"]:
        funnel.append([step["label"], step["count"], step["conversion"], step["share_of_first"]])
    funnel.append([str(DockingState.DECLINED.label), data["funnel"]["declined"], None, None])

    per_project = data["institutions_per_project"]
    spread = _sheet(workbook, _("Institutions per project"), [_("institutions docking"), _("projects")])
    for row in per_project["distribution"]:
        spread.append([row["institutions"], row["projects"]])
    spread.append([])
    spread.append([_("projects"), per_project["projects"]])
    spread.append([_("average institutions per project"), per_project["average"]])

    return save_workbook(workbook)


def workbook_name(data):
    return f"financing-statistics-{data['year']}.xlsx"

