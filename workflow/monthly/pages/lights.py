"""The lights page: the month's lights of the cases the reader may see, with their reasons and
forecast; the secretariat computes a month on demand."""


from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from cases import permissions as case_permissions
from workflow.engine.pages import InternalPage

from .. import lights, periods, selectors
from ..models import Light, LightSnapshot


class LightsView(InternalPage):
    """The month's lights of the cases the reader may see, with their reasons and forecast."""

    template_name = "workflow/lights.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        months = selectors.light_months()
        month = periods.month_param(self.request.GET.get("month")) or (
            months[0] if months else periods.previous_month(periods.first_of_month(timezone.localdate()))
        )
        light = self.request.GET.get("light", "")
        light = light if light in Light.values else ""
        page = Paginator(selectors.lights(self.request.user, month, light or None), 50).get_page(
            self.request.GET.get("page")
        )
        for snapshot in page:
            snapshot.reason_texts = [
                lights.reason_text(reason) for reason in lights.deciding_reasons(snapshot.light, snapshot.reasons)
            ]
        counts = selectors.light_counts(self.request.user, month)
        context.update(
            {
                "month": month,
                "months": months,
                "light": light,
                "lights": Light.choices,
                "page": page,
                "light_counts": [
                    (value, label, counts[value]) for value, label in reversed(Light.choices)
                ],
                "method": lights.FORECAST_METHOD,
                "can_compute": case_permissions.is_secretariat(self.request.user),
                "this_month": periods.first_of_month(timezone.localdate()),
                "headers": {
                    name: capfirst(LightSnapshot._meta.get_field(name).verbose_name)
                    for name in ("expected_progress", "completed_progress")
                },
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        if not case_permissions.is_secretariat(request.user):
            raise PermissionDenied
        month = periods.begun_month(request.POST.get("month"))
        if month is None:
            messages.error(request, _("Choose a month that has begun, as YYYY-MM."))
            return HttpResponseRedirect(request.path)
        computed = lights.lights_compute(month=month)
        messages.success(
            request, _("The lights of %(month)s were computed for %(count)s cases.") % {
                "month": f"{month:%Y-%m}", "count": len(computed)
            }
        )
        return HttpResponseRedirect(f"{request.path}?month={month:%Y-%m}")
