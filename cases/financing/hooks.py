"""How financing docking follows the case core: the one module that listens to ``record_changed``.

A case's open financing needs take up its industry, stage and region again whenever the case
moves or those facts change (and the published ones are matched again).
"""

from django.dispatch import receiver

from cases.models import KeyProject
from cases.signals import record_changed

from .services import needs_follow_project

CASE_FACTS_NEEDS_COPY = {"industry", "region"}


@receiver(record_changed)
def follow_the_case(sender, instance, action, transition, actor, changes=None, **kwargs):
    if not isinstance(instance, KeyProject):
        return
    if action == "transition" or (action == "updated" and CASE_FACTS_NEEDS_COPY & set(changes or ())):
        needs_follow_project(instance)
