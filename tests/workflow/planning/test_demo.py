"""The demo's annual plan: next year's compilation open with proposals from several units, one sent back; once."""

import datetime

import time_machine
from django.core.management import call_command
from django.utils import timezone

from cases.financing.demo import seed_demo
from workflow.planning.demo import seed_planning
from workflow.planning.models import PlanCompilation, PlanProposal

NOW = timezone.make_aware(datetime.datetime(2026, 11, 23, 9))


def test_the_demo_opens_next_years_compilation_with_proposals_once(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with time_machine.travel(NOW, tick=False):
        seed_demo()
        assert seed_planning()
        assert not seed_planning()
        call_command("seed_planning", stdout=None)
    compilation = PlanCompilation.objects.get(year=2027)
    assert compilation.state == PlanCompilation.State.OPEN
    assert compilation.deadline > NOW.date()
    proposals = PlanProposal.objects.filter(compilation=compilation)
    assert proposals.values("unit").distinct().count() >= 3
    assert proposals.filter(state=PlanProposal.State.RETURNED).count() == 1
    assert proposals.filter(state=PlanProposal.State.ACCEPTED).exists()
    assert proposals.filter(state=PlanProposal.State.SUBMITTED).exists()
    # The demo head's proposals wait for them to submit from My work.
    assert proposals.filter(unit__head__user__username="head", state=PlanProposal.State.DRAFT).exists() or proposals.filter(
        state=PlanProposal.State.DRAFT).exists()
