"""The unit's "propose projects" task: its title and deadline (the compilation's, or two working
days after a proposal was sent back past it)."""

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from workflow.engine import clocks
from workflow.engine.models import TaskKind

RETURNED_DAYS = 2


def title_of(compilation, unit):
    with translation.override(settings.LANGUAGE_CODE):
        return _("Propose projects for %(year)s · %(unit)s") % {"year": compilation.year, "unit": unit.name}


def start_clock(activation):
    process = activation.process
    compilation = process.compilation
    due_at = clocks.end_of_day(compilation.deadline)
    if due_at < timezone.now():
        due_at = clocks.working_days_after(timezone.now(), RETURNED_DAYS)
    return clocks.clock_start(
        task=activation.task,
        kind=TaskKind.DEFAULT,
        project=None,
        title=title_of(compilation, process.unit),
        unit_id=process.unit_id,
        due_at=due_at,
    )
