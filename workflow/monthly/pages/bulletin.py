"""Pages of the bulletin (通报): a month's ranking with its lists and exemptions, and the dashboard
whose charts are drawn here as inline SVG (no script, no network)."""

import math

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.formatting import in_wan
from cases.forms import GuardedForm
from cases.models import KeyProject
from cases.services.errors import Conflict
from workflow.engine.pages import InternalPage

from .. import bulletin as bulletins
from .. import dashboard
from ..models import Bulletin, ScoreExemption, ScoreMeasure, UnitScore
from ..periods import begun_month, first_of_month, month_param, previous_month


def default_month(months, today=None):
    today = today or timezone.localdate()
    return months[0] if months else previous_month(first_of_month(today))


class ExemptionForm(GuardedForm):
    unit = forms.ModelChoiceField(label=gettext_lazy("unit"), queryset=bulletins.scored_units())
    measure = forms.ChoiceField(label=gettext_lazy("measure"), choices=ScoreMeasure.choices)
    project = forms.CharField(
        label=gettext_lazy("key project"),
        required=False,
        max_length=16,
        help_text=gettext_lazy("A case's code, like 2026-GX-0012, to take only its items out; empty for the whole measure."),
    )
    reason = forms.CharField(label=gettext_lazy("reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def clean_project(self):
        code = self.cleaned_data["project"].strip()
        if not code:
            return None
        project = KeyProject.objects.filter(code=code).first()
        if project is None:
            raise ValidationError(_("No key project has the code %(code)s.") % {"code": code})
        return project


def _errors_of(error):
    return " ".join(error.messages)


class BulletinView(InternalPage):
    """A month's bulletin: the ranking of each group with every measure, the red and black lists,
    the exemptions, the weights; the secretariat scores, issues and grants exemptions here."""

    template_name = "workflow/bulletin.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        months = bulletins.bulletin_months(user)
        month = month_param(self.request.GET.get("month")) or default_month(months)
        bulletin = bulletins.bulletin_of(user, month)
        scores = list(bulletins.scores_of(bulletin)) if bulletin else []
        for score in scores:
            score.cells = [score.measures.get(measure.value) for measure in bulletins.MEASURES]
        can_manage = bulletins.can_manage(user)
        weights = bulletins.weights()
        context.update(
            {
                "month": month,
                "months": months,
                "bulletin": bulletin,
                "groups": bulletins.grouped(scores),
                "red_list": [s for s in scores if s.listing == "red"],
                "black_list": [s for s in scores if s.listing == "black"],
                "measures": weights,
                "exemptions": list(bulletins.exemptions(user, month)),
                "weights": weights,
                "rules": bulletins.rules(),
                "limits": {
                    "red_size": bulletins.RED_LIST_SIZE,
                    "red_min": bulletins.RED_LIST_MIN,
                    "black_below": bulletins.BLACK_LIST_BELOW,
                },
                "can_manage": can_manage,
                "editable": can_manage and (bulletin is None or bulletin.state == Bulletin.State.DRAFT),
                "exemption_form": ExemptionForm() if can_manage else None,
                "this_month": first_of_month(timezone.localdate()),
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        if not bulletins.can_manage(request.user):
            raise PermissionDenied
        month = begun_month(request.POST.get("month"))
        if month is None:
            messages.error(request, _("Choose a month that has begun, as YYYY-MM."))
            return HttpResponseRedirect(request.path)
        try:
            if request.POST.get("action") == "issue":
                bulletin = Bulletin.objects.filter(month=month).first()
                if bulletin is None:
                    raise ValidationError(_("Score the month before issuing its bulletin."))
                bulletins.bulletin_issue(bulletin=bulletin, actor=request.user)
                messages.success(request, _("Bulletin %(number)s was issued.") % {"number": bulletin.number})
            else:
                bulletin = bulletins.bulletin_compute(month=month)
                messages.success(
                    request,
                    _("%(month)s was scored: %(count)s units.")
                    % {"month": f"{month:%Y-%m}", "count": bulletin.scores.count()},
                )
        except (Conflict, ValidationError) as error:
            messages.error(request, str(error.message) if isinstance(error, Conflict) else _errors_of(error))
        return HttpResponseRedirect(f"{request.path}?month={month:%Y-%m}")


class ExemptionsView(InternalPage):
    """The secretariat grants an exemption (reason required) or revokes one; back to the bulletin."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        if not bulletins.can_manage(request.user):
            raise PermissionDenied
        month = begun_month(request.POST.get("month"))
        if month is None:
            messages.error(request, _("Choose a month that has begun, as YYYY-MM."))
            return HttpResponseRedirect("/workflow/bulletin/")
        try:
            if request.POST.get("action") == "revoke":
                exemption = ScoreExemption.objects.filter(pk=request.POST.get("exemption") or 0, month=month).first()
                if exemption is None:
                    raise ValidationError(_("That exemption does not exist any more."))
                bulletins.exemption_revoke(exemption=exemption, actor=request.user)
                messages.success(request, _("The exemption was revoked."))
            else:
                form = ExemptionForm(request.POST)
                if not form.is_valid():
                    raise ValidationError(
                        [f"{form.fields[name].label if name in form.fields else ''}: {' '.join(errors)}"
                         for name, errors in form.errors.items()]
                    )
                bulletins.exemption_grant(month=month, actor=request.user, **form.cleaned_data)
                messages.success(request, _("The exemption was granted; the draft was scored again."))
        except Conflict as error:
            messages.error(request, str(error.message))
        except ValidationError as error:
            messages.error(request, _errors_of(error))
        except (TypeError, ValueError):
            messages.error(request, _("That exemption does not exist any more."))
        return HttpResponseRedirect(f"/workflow/bulletin/?month={month:%Y-%m}")


# Charts: the geometry of inline SVG, computed here so that the templates only draw.

CHART_WIDTH = 640
LEGEND_LISTINGS = (UnitScore.Listing.RED, UnitScore.Listing.BLACK, UnitScore.Listing.NONE)  # as the bars are coloured
LABEL_WIDTH = 150
VALUE_WIDTH = 56
ROW_HEIGHT = 24
BAR_HEIGHT = 16


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


def _fmt(value, places=0):
    return f"{float(value):,.{places}f}"


def hbar_chart(rows, *, maximum=None, marks=()):
    """Horizontal bars: ``rows`` of {label, value, css, text}; ``marks`` are values drawn as lines."""
    maximum = float(maximum) if maximum else nice_ceiling(max((float(r["value"] or 0) for r in rows), default=0))
    span = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for index, row in enumerate(rows):
        value = float(row["value"] or 0)
        width = round(span * min(value, maximum) / maximum, 1)
        y = 8 + index * ROW_HEIGHT
        bars.append(
            {
                **row,
                "x": LABEL_WIDTH,
                "y": y,
                "width": width,
                "height": BAR_HEIGHT,
                "text_y": y + BAR_HEIGHT - 3,
                "value_x": LABEL_WIDTH + width + 4,
            }
        )
    height = 8 + max(len(rows), 1) * ROW_HEIGHT + 16
    lines = [
        {"x": round(LABEL_WIDTH + span * float(mark) / maximum, 1), "label": _fmt(mark)}
        for mark in marks
        if 0 < float(mark) <= maximum
    ]
    return {
        "width": CHART_WIDTH,
        "height": height,
        "bars": bars,
        "marks": lines,
        "axis_y": height - 14,
        "label_x": LABEL_WIDTH - 6,
    }


PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 64, 16, 12, 36
PLOT_HEIGHT = 220


def _frame(count, maximum):
    plot_width = CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_height = PLOT_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    step = plot_width / max(count, 1)

    def y_of(value):
        return round(PLOT_TOP + plot_height * (1 - float(value) / maximum), 1)

    ticks = [{"y": y_of(maximum * share), "label": _fmt(maximum * share)} for share in (0, 0.5, 1)]
    return step, y_of, ticks, plot_height


def column_chart(columns, series):
    """Stacked columns: ``columns`` of {label, values: {key: number}}; ``series`` of (key, label, css)
    from the bottom up."""
    maximum = nice_ceiling(max((sum(c["values"].values()) for c in columns), default=0))
    step, y_of, ticks, plot_height = _frame(len(columns), maximum)
    drawn = []
    for index, column in enumerate(columns):
        x = round(PLOT_LEFT + index * step + step * 0.2, 1)
        base = 0
        segments = []
        for key, label, css in series:
            value = column["values"].get(key, 0)
            if value:
                top = y_of(base + value)
                segments.append(
                    {"x": x, "y": top, "width": round(step * 0.6, 1), "height": round(y_of(base) - top, 1),
                     "css": css, "title": f"{column['label']} · {label}: {value}"}
                )
            base += value
        drawn.append({"label": column["label"], "segments": segments, "label_x": round(x + step * 0.3, 1)})
    return {
        "width": CHART_WIDTH,
        "height": PLOT_HEIGHT,
        "columns": drawn,
        "ticks": ticks,
        "left": PLOT_LEFT,
        "right": CHART_WIDTH - PLOT_RIGHT,
        "baseline": PLOT_TOP + plot_height,
        "label_y": PLOT_TOP + plot_height + 16,
        "series": series,
    }


def line_chart(points, series, bars_key=None):
    """Lines over months: ``points`` of {label, key: number...}; ``series`` of (key, label, css);
    ``bars_key`` names a value also drawn as a thin column under the lines."""
    keys = [key for key, _label, _css in series] + ([bars_key] if bars_key else [])
    maximum = nice_ceiling(max((float(p[key] or 0) for p in points for key in keys), default=0))
    step, y_of, ticks, plot_height = _frame(len(points), maximum)
    xs = [round(PLOT_LEFT + step * (index + 0.5), 1) for index in range(len(points))]
    lines = []
    for key, label, css in series:
        dots = [
            {"x": x, "y": y_of(point[key] or 0), "title": f"{point['label']} · {label}: {_fmt(point[key] or 0)}"}
            for x, point in zip(xs, points, strict=True)
        ]
        lines.append({"css": css, "label": label, "points": " ".join(f"{d['x']},{d['y']}" for d in dots), "dots": dots})
    bars = []
    if bars_key:
        for x, point in zip(xs, points, strict=True):
            top = y_of(point[bars_key] or 0)
            bars.append(
                {"x": round(x - step * 0.15, 1), "y": top, "width": round(step * 0.3, 1),
                 "height": round(PLOT_TOP + plot_height - top, 1), "title": f"{point['label']}: {_fmt(point[bars_key] or 0)}"}
            )
    return {
        "width": CHART_WIDTH,
        "height": PLOT_HEIGHT,
        "lines": lines,
        "bars": bars,
        "ticks": ticks,
        "labels": [{"x": x, "label": point["label"]} for x, point in zip(xs, points, strict=True)],
        "left": PLOT_LEFT,
        "right": CHART_WIDTH - PLOT_RIGHT,
        "baseline": PLOT_TOP + plot_height,
        "label_y": PLOT_TOP + plot_height + 16,
    }


def dashboard_charts(data):
    """The five charts of the dashboard from ``dashboard.dashboard``'s figures."""
    investment = data["investment"]
    points = [
        {
            "label": f"{row['month']:%m}",
            "expected": in_wan(row["expected"]),
            "completed": in_wan(row["completed_to_date"]),
            "in_month": in_wan(row["completed_in_month"]),
        }
        for row in investment["months"]
    ]
    investment_chart = line_chart(
        points,
        [
            ("expected", _("Expected by the plan, to date"), "expected"),
            ("completed", _("Completed, to date"), "completed"),
        ],
        bars_key="in_month",
    )
    lights_chart = column_chart(
        [
            {"label": f"{row['month']:%Y-%m}", "values": {k: row[k] for k in ("green", "yellow", "red")}}
            for row in data["lights"]
        ],
        [("green", _("Green"), "green"), ("yellow", _("Yellow"), "yellow"), ("red", _("Red"), "red")],
    )
    ranking = [
        {
            "id": f"ranking-{group}",
            "label": label,
            "chart": hbar_chart(
                [
                    {
                        "label": score.unit.short_name or score.unit.name,
                        "value": score.total,
                        "css": score.listing or "plain",
                        "text": f"{score.rank}. {_fmt(score.total, 2)}",
                    }
                    for score in scores
                    if score.total is not None
                ],
                maximum=100,
                marks=(bulletins.BLACK_LIST_BELOW, bulletins.RED_LIST_MIN),
            ),
        }
        for group, label, scores in data["ranking"]
    ]
    overdue_chart = hbar_chart(
        [{"label": row["name"], "value": row["overdue"], "css": "overdue", "text": str(row["overdue"])}
         for row in data["overdue"]["units"]]
    )
    industry_chart = hbar_chart(
        [
            {
                "label": str(row["label"]),
                "value": in_wan(row["total"]),
                "css": "strategic" if row["strategic"] else "plain",
                "text": f"{_fmt(in_wan(row['total']))} · {row['listed']}",
            }
            for row in data["industries"]["industries"]
            if row["listed"]
        ]
    )
    return {
        "industry_chart": industry_chart,
        "investment_chart": investment_chart,
        "investment_points": points,
        "lights_chart": lights_chart,
        "ranking_charts": ranking,
        "overdue_chart": overdue_chart,
    }


class DashboardView(InternalPage):
    """Charts of the month: investment against plan, lights over time, the ranking, overdue work."""

    template_name = "workflow/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        month = month_param(self.request.GET.get("month"))
        data = dashboard.dashboard(self.request.user, month=month)
        context.update(data)
        context.update(dashboard_charts(data))
        context.update(
            {
                "months": bulletins.bulletin_months(self.request.user),
                "listings": [(value, UnitScore.Listing(value).label) for value in LEGEND_LISTINGS],
                "red_list_min": _fmt(bulletins.RED_LIST_MIN),
                "black_list_below": _fmt(bulletins.BLACK_LIST_BELOW),
            }
        )
        return context
