"""The secretariat's warning that next year's holidays are not known yet (evaluated only where
shown)."""

from django.utils.functional import SimpleLazyObject

from cases.permissions import is_secretariat

from .calendar import next_year_unknown


def calendar_warning(request):
    user = getattr(request, "user", None)
    return {
        "unknown_holiday_year": SimpleLazyObject(
            lambda: next_year_unknown() if user is not None and is_secretariat(user) else None
        )
    }
