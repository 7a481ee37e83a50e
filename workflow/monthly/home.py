"""What the monthly cycle puts on the secretariat's home page: the cycle's step of the day (the
one due today, late, or next), with its date and where to run it."""

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from cases import permissions as case_permissions
from workflow.engine.registry import HomeLine

from . import periods, timeline

WAITING = ("late", "failed", "running", "next")


def home_lines(user):
    if not case_permissions.is_secretariat(user):
        return []
    today = timezone.localdate()
    month = periods.first_of_month(today)
    steps = [step for step in timeline.timeline(month, today) if step.status in WAITING]
    if not steps:
        return []
    step = steps[0]
    day = formats.date_format(step.date, "DATE_FORMAT")
    if step.status in ("late", "failed"):
        text = _("Monthly cycle: %(step)s was due on %(day)s and is not done") % {"step": step.label, "day": day}
    elif step.status == "running":
        text = _("Monthly cycle: %(step)s is running") % {"step": step.label}
    elif step.date == today:
        text = _("Monthly cycle: %(step)s is due today") % {"step": step.label}
    else:
        text = _("Monthly cycle: the next step is %(step)s, on %(day)s") % {"step": step.label, "day": day}
    return [HomeLine(text, reverse("workflow:cycle"), None)]
