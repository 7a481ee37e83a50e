"""The demo city: plausible, over every stage, built once, with the six demo logins."""

from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Count

from cases import guards
from cases.models import AuditEvent, Blocker, KeyProject, Person, PreworkItem, Stage, Unit, UnitKind


def test_seed_demo_builds_a_city_once_with_every_stage_and_the_demo_logins(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    call_command("seed_demo", stdout=None)

    government = Unit.objects.exclude(kind=UnitKind.ENTERPRISE)
    assert 22 <= government.count() <= 30
    assert 35 <= Person.objects.count() <= 50
    assert KeyProject.objects.count() >= 80
    stages = dict(KeyProject.objects.values_list("stage").annotate(n=Count("pk")).order_by())
    assert set(stages) == set(Stage.values)
    for username in ["secretariat", "supervisor", "leader", "head", "staff", "bank"]:
        assert User.objects.get(username=username).check_password("demo"), username
    assert PreworkItem.objects.exists() and Blocker.objects.exists()
    # Every project past the reserve got there through the services, so its history says so.
    selected = KeyProject.objects.exclude(stage__in=[Stage.RESERVE, Stage.WITHDRAWN])
    assert AuditEvent.objects.filter(transition="select").count() == selected.count()
    withdrawn = KeyProject.objects.filter(stage=Stage.WITHDRAWN)
    assert AuditEvent.objects.filter(transition="withdraw").exclude(reason="").count() == withdrawn.count()
    # The figures hold together.
    for project in KeyProject.objects.all():
        assert project.investment_completed_total <= project.total_investment
        assert project.capital_gap <= project.total_investment
    # The walk-through cases: the park's case waits on pre-work, and one is ready to select.
    first = KeyProject.objects.order_by("pk").first()
    assert first.stage == Stage.PREWORK and first.lead_unit.short_name == "高新区"
    assert guards.open_docking(first)
    assert not guards.select(KeyProject.objects.order_by("pk")[1])

    before = (KeyProject.objects.count(), AuditEvent.objects.count(), Unit.objects.count())
    call_command("seed_demo", stdout=None)
    assert (KeyProject.objects.count(), AuditEvent.objects.count(), Unit.objects.count()) == before
