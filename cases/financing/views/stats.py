"""The financing statistics page and its Excel download: the figures of ``financing_stats`` as
charts drawn here as inline SVG (no script, no network), each with its data table."""

import math

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import generic

from cases.formatting import in_wan
from cases.forms import GuardedForm
from cases.models import Industry, Stage, Unit, UnitKind

from .. import permissions
from .. import stats as financing_stats
from ..models import FinancingType

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# One colour per measure, the same in every chart and legend.
COLOURS = {"needed": "#78909c", "intended": "#f9a825", "approved": "#1f4e79", "disbursed": "#43a047"}
FUNNEL_COLOUR = "#5c6bc0"
SPREAD_COLOUR = "#8d6e63"
CHART_WIDTH = 640  # the month chart, a whole row wide
BARS_WIDTH = 440  # the bar charts, half a row wide
LABEL_WIDTH = 124
VALUE_WIDTH = 64
TOP_ROWS = 12


class StatisticsFilterForm(GuardedForm):
    """The year and the narrowing of the figures, read from the query string (page, API, Excel)."""

    year = forms.IntegerField(label=gettext_lazy("year"), required=False, min_value=2000, max_value=2100)
    industry = forms.ChoiceField(label=gettext_lazy("industry"), required=False, choices=[("", "—"), *Industry.choices])
    region = forms.ModelChoiceField(label=gettext_lazy("region"), required=False, queryset=Unit.objects.none())
    institution = forms.ModelChoiceField(label=gettext_lazy("institution"), required=False, queryset=Unit.objects.none())
    stage = forms.ChoiceField(label=gettext_lazy("stage"), required=False, choices=[("", "—"), *Stage.choices])
    financing_type = forms.ChoiceField(
        label=gettext_lazy("type"), required=False, choices=[("", "—"), *FinancingType.choices]
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Unit.objects.filter(kind=UnitKind.DISTRICT).order_by("name")
        institutions = Unit.objects.filter(kind=UnitKind.INSTITUTION).order_by("name")
        if permissions.role_of(user) not in permissions.INTERNAL:
            institutions = institutions.filter(pk__in=permissions.institution_ids(user))
        self.fields["institution"].queryset = institutions

    def statistics_arguments(self):
        data = self.cleaned_data
        arguments = {"year": data.get("year") or None}
        for name in financing_stats.FILTERS:
            value = data.get(name)
            if value not in (None, ""):
                arguments[name] = value.pk if isinstance(value, Unit) else value
        return arguments


def read_filters(request):
    """The statistics' arguments from the query string, or the form with its errors."""
    form = StatisticsFilterForm(request.GET or None, user=request.user)
    if request.GET and not form.is_valid():
        return form, None
    return form, form.statistics_arguments() if request.GET else {"year": None}


# Charts


def nice_ceiling(value):
    """The smallest 1, 2 or 5 times a power of ten at least ``value`` (1 for nothing)."""
    value = float(value or 0)
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def wan_text(amount):
    return number_format(in_wan(amount), decimal_pos=2, force_grouping=True)


def _short(label, budget=20):
    """``label`` cut to what fits beside the bars: a wide (CJK) character counts twice."""
    label, used = str(label), 0
    for index, char in enumerate(label):
        used += 2 if ord(char) > 0x2E7F else 1
        if used > budget:
            return label[:index] + "…"
    return label


def series_of(measures):
    return [{"key": m, "label": str(financing_stats.MEASURE_LABELS[m]), "colour": COLOURS[m]} for m in measures]


def grouped_bars(rows, series):
    """Horizontal bars, one group per row with a bar per series: ``rows`` of {label, values: {key: number}, texts}."""
    maximum = nice_ceiling(max((float(r["values"][s["key"]] or 0) for r in rows for s in series), default=0))
    span = BARS_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bar, gap = 14, 10
    group_height = bar * len(series) + gap
    groups = []
    for index, row in enumerate(rows):
        top = 8 + index * group_height
        bars = []
        for position, s in enumerate(series):
            value = float(row["values"][s["key"]] or 0)
            width = round(span * min(value, maximum) / maximum, 1)
            y = top + position * bar
            text = row["texts"][s["key"]]
            bars.append(
                {"x": LABEL_WIDTH, "y": y, "width": width, "height": bar - 2, "colour": s["colour"],
                 "text": text, "text_x": LABEL_WIDTH + width + 4, "text_y": y + bar - 3,
                 "title": f"{row['label']} · {s['label']}: {text}"}
            )
        groups.append(
            {"label": _short(row["label"]), "full_label": row["label"], "label_y": top + (bar * len(series)) / 2 + 4,
             "bars": bars}
        )
    height = 8 + max(len(rows), 1) * group_height + 8
    return {"width": BARS_WIDTH, "height": height, "groups": groups, "label_x": LABEL_WIDTH - 6, "series": series}


PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM, PLOT_HEIGHT = 72, 16, 12, 36, 240


def line_chart(points, series):
    """Lines over months: ``points`` of {label, values: {key: number}}."""
    maximum = nice_ceiling(max((float(p["values"][s["key"]] or 0) for p in points for s in series), default=0))
    plot_width = CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_height = PLOT_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    step = plot_width / max(len(points), 1)

    def y_of(value):
        return round(PLOT_TOP + plot_height * (1 - float(value or 0) / maximum), 1)

    xs = [round(PLOT_LEFT + step * (index + 0.5), 1) for index in range(len(points))]
    lines = []
    for s in series:
        dots = [
            {"x": x, "y": y_of(p["values"][s["key"]]), "title": f"{p['label']} · {s['label']}: {p['texts'][s['key']]}"}
            for x, p in zip(xs, points, strict=True)
        ]
        lines.append({**s, "points": " ".join(f"{d['x']},{d['y']}" for d in dots), "dots": dots})
    ticks = [
        {"y": y_of(maximum * share), "label": number_format(maximum * share, decimal_pos=0, force_grouping=True)}
        for share in (0, 0.25, 0.5, 0.75, 1)
    ]
    return {
        "width": CHART_WIDTH,
        "height": PLOT_HEIGHT,
        "lines": lines,
        "ticks": ticks,
        "labels": [{"x": x, "label": p["label"][-2:]} for x, p in zip(xs, points, strict=True)],
        "left": PLOT_LEFT,
        "right": CHART_WIDTH - PLOT_RIGHT,
        "baseline": PLOT_TOP + plot_height,
        "label_y": PLOT_TOP + plot_height + 16,
        "series": series,
    }


def _amount_rows(rows):
    """Breakdown rows with their amounts in ten-thousand yuan, as numbers (charts) and text (tables)."""
    shown = []
    for row in rows:
        shown.append(
            {
                **row,
                "values": {m: in_wan(row[m]) for m in financing_stats.MEASURES},
                "texts": {m: wan_text(row[m]) for m in financing_stats.MEASURES},
                "counts": {m: row[f"{m}_count"] for m in financing_stats.MEASURES},
            }
        )
    return shown


def _growth_text(value):
    if value is None:
        return "—"
    return f"+{value}" if value > 0 else str(value)


def charts(data):
    """What the page draws from ``statistics``' figures."""
    all_measures = series_of(financing_stats.MEASURES)
    docking_measures = series_of(("intended", "approved", "disbursed"))
    months = _amount_rows(data["by_month"])
    for month in months:
        month["cells"] = [(month["texts"][m], wan_text(month["previous"][m])) for m in financing_stats.MEASURES]
    headline = [
        {
            "key": m,
            "label": financing_stats.MEASURE_LABELS[m],
            "text": wan_text(data["totals"][m]),
            "previous": wan_text(data["previous_totals"][m]),
            "count": data["totals"][f"{m}_count"],
            "growth": _growth_text(data["growth"][m]),
            "direction": "none" if data["growth"][m] is None else ("up" if data["growth"][m] >= 0 else "down"),
            "colour": COLOURS[m],
        }
        for m in financing_stats.MEASURES
    ]
    breakdowns = []
    for dimension, measures, title, description in (
        ("industry", all_measures, _("By industry"),
         _("Amounts needed, intended, approved and disbursed this period by the case's industry, in ten thousand yuan.")),
        ("institution", docking_measures, _("By institution"),
         _("Amounts intended, approved and disbursed this period by institution, the largest credit first, in ten thousand yuan.")),
        ("region", all_measures, _("By region"),
         _("Amounts needed, intended, approved and disbursed this period by the case's region, in ten thousand yuan.")),
        ("stage", all_measures, _("By stage"),
         _("Amounts needed, intended, approved and disbursed this period by the stage the case is in now, in ten thousand yuan.")),
    ):
        rows = _amount_rows(data[f"by_{dimension}"])
        breakdowns.append(
            {
                "id": dimension,
                "title": title,
                "description": description,
                "dimension_label": financing_stats.DIMENSION_LABELS[dimension],
                "rows": rows,
                "chart": grouped_bars(rows[:TOP_ROWS], measures),
                "shown": min(len(rows), TOP_ROWS),
                "measures": measures,
            }
        )
    funnel = data["funnel"]
    funnel_chart = grouped_bars(
        [
            {
                "label": step["label"],
                "values": {"count": step["count"]},
                "texts": {
                    "count": f"{step['count']}"
                    + (f" · {step['conversion']}%" if step["conversion"] is not None else "")
                },
            }
            for step in funnel["steps"]
        ],
        [{"key": "count", "label": str(_("dockings reaching it")), "colour": FUNNEL_COLOUR}],
    )
    spread = data["institutions_per_project"]
    spread_chart = grouped_bars(
        [
            {
                "label": ngettext("%(count)s institution", "%(count)s institutions", row["institutions"])
                % {"count": row["institutions"]},
                "values": {"projects": row["projects"]},
                "texts": {"projects": str(row["projects"])},
            }
            for row in spread["distribution"]
        ],
        [{"key": "projects", "label": str(_("projects")), "colour": SPREAD_COLOUR}],
    )
    return {
        "headline": headline,
        "months": months,
        "month_chart": line_chart(months, all_measures),
        "measures": all_measures,
        "breakdowns": breakdowns,
        "funnel_chart": funnel_chart,
        "spread_chart": spread_chart,
    }


class StatisticsAccessMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_view_financing_statistics(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class StatisticsView(StatisticsAccessMixin, generic.TemplateView):
    """The financing dashboard: headline figures with growth, charts by month and by dimension,
    the funnel, institutions per project; the filters; the Excel download."""

    template_name = "cases/financing/statistics.html"
    viewset = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form, arguments = read_filters(self.request)
        if arguments is None:
            form_errors = True
            arguments = {"year": None}
        else:
            form_errors = False
        data = financing_stats.statistics(self.request.user, **arguments)
        this_year = timezone.localdate().year
        context.update(
            {
                "form": form,
                "form_errors": form_errors,
                "data": data,
                "years": list(range(this_year, this_year - 6, -1)),
                "query": self.request.GET.urlencode() if not form_errors else "",
                "institution_user": permissions.role_of(self.request.user) not in permissions.INTERNAL,
                **charts(data),
            }
        )
        return context


class StatisticsExcelView(StatisticsAccessMixin, generic.View):
    """The same figures as an Excel workbook, with the page's filters."""

    viewset = None

    def get(self, request, *args, **kwargs):
        form, arguments = read_filters(request)
        if arguments is None:
            return HttpResponse(
                " ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        data = financing_stats.statistics(request.user, **arguments)
        response = HttpResponse(financing_stats.statistics_workbook(data), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{financing_stats.workbook_name(data)}"'
        return response

