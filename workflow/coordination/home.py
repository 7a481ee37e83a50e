"""What the coordination flows put on a home page: for a supervisor, the supervision orders whose
answer is overdue and the overdue board (a leader's approvals are in their work)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from cases import permissions as case_permissions
from cases.models import Role
from workflow.engine import selectors as engine_selectors
from workflow.engine.registry import HomeLine

from . import selectors
from .models import SupervisionOrder


def home_lines(user):
    role = case_permissions.role_of(user)
    if role == Role.SUPERVISOR:
        now = timezone.now()
        late = (
            selectors.open_orders()
            .filter(pk__in=selectors.supervision_orders(user).values("pk"))
            .filter(state=SupervisionOrder.State.ISSUED, respond_by__lt=now)
            .count()
        )
        overdue = engine_selectors.overdue_clocks(user, now).count()
        return [
            HomeLine(
                ngettext(
                    "%(count)s supervision order is not answered in time",
                    "%(count)s supervision orders are not answered in time",
                    late,
                )
                % {"count": late},
                reverse("workflow:orders"),
                None,
            ),
            HomeLine(
                ngettext("%(count)s task is overdue", "%(count)s tasks are overdue", overdue) % {"count": overdue},
                reverse("workflow:overdue"),
                None,
            ),
        ]
    return []
