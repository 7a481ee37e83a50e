"""How the engine follows viewflow: a finished human task's clock stops (``task_finished``)."""

from django.dispatch import receiver
from viewflow.workflow.signals import task_finished

from . import clocks


@receiver(task_finished)
def stop_the_clock(sender, process, task, **kwargs):
    if task.flow_task_type == "HUMAN":  # only human tasks have clocks; a start or a gateway has none
        clocks.clock_close(task)
