"""What the toolbar of every page knows, evaluated only where shown: the bell's count of the reader's
work waiting (the same figures as My work and the daily digest), and the secretariat's warning that
next year's holidays are not known yet."""

from django.utils.functional import SimpleLazyObject

from cases.permissions import is_secretariat

from . import work
from .calendar import next_year_unknown


def calendar_warning(request):
    user = getattr(request, "user", None)
    return {
        "unknown_holiday_year": SimpleLazyObject(
            lambda: next_year_unknown() if user is not None and is_secretariat(user) else None
        )
    }


def my_work(request):
    user = getattr(request, "user", None)
    return {
        "toolbar_work": SimpleLazyObject(
            lambda: work.bell_counts(user) if user is not None and user.is_authenticated else None
        )
    }
