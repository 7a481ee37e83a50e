"""The ledger's guards, given / when / then: every line moves the balance as a cash book does,
nothing makes it negative, nothing is allocated twice, every line is audited and never changed."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from cases.factors import services
from cases.factors.models import AppendOnly, FactorLedger, FactorLine, LineKind, RequestState
from cases.models import AuditEvent

from .factories import ask, open_ledger

pytestmark = pytest.mark.django_db


def test_receiving_quota_adds_to_the_balance_with_a_running_balance_on_the_line(org):
    ledger = open_ledger(org, received=Decimal("100"))

    line = services.ledger_receive(ledger=ledger, quantity="25.5", reason="追加指标", actor=org.dept_head.user)

    ledger.refresh_from_db()
    assert ledger.balance == Decimal("125.5")
    assert (line.position, line.kind, line.balance_after) == (2, LineKind.RECEIVED, Decimal("125.5"))


def test_a_quantity_of_zero_or_less_is_refused_by_field(org):
    ledger = open_ledger(org)

    for quantity in ("0", "-3", "abc"):
        with pytest.raises(ValidationError) as refused:
            services.ledger_receive(ledger=ledger, quantity=quantity, reason="x", actor=org.secretariat.user)
        assert "quantity" in refused.value.message_dict
    assert FactorLine.objects.filter(ledger=ledger).count() == 1


def test_a_line_without_a_reason_is_refused(org):
    ledger = open_ledger(org)

    with pytest.raises(ValidationError) as refused:
        services.ledger_receive(ledger=ledger, quantity="5", reason="  ", actor=org.secretariat.user)

    assert "reason" in refused.value.message_dict


def test_allocating_more_than_the_balance_is_refused_saying_how_much_is_missing_in_the_unit(org):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "130")

    with pytest.raises(ValidationError) as refused:
        services.request_allocate(request=request, actor=org.dept_head.user, reason="同意")

    message = " ".join(refused.value.messages)
    assert "30" in message and "mu" in message and "100" in message
    ledger.refresh_from_db()
    assert (ledger.allocated, ledger.balance, ledger.line_count) == (0, Decimal("100"), 1)
    request.refresh_from_db()
    assert request.state == RequestState.REQUESTED


def test_reserving_takes_from_the_balance_and_allocating_the_reservation_keeps_it(org):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "40")

    services.request_reserve(request=request, actor=org.dept_head.user, reason="列入计划")
    ledger.refresh_from_db()
    assert (ledger.reserved, ledger.balance) == (Decimal("40"), Decimal("60"))

    services.request_allocate(request=request, actor=org.dept_head.user, reason="同意")
    ledger.refresh_from_db()
    assert (ledger.reserved, ledger.allocated, ledger.balance) == (0, Decimal("40"), Decimal("60"))
    assert [line.balance_after for line in ledger.lines.order_by("position")] == [100, 60, 60]


def test_releasing_a_reservation_gives_its_quota_back(org):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "40")
    services.request_reserve(request=request, actor=org.dept_head.user, reason="列入计划")

    services.request_release(request=request, actor=org.dept_head.user, reason="项目调整")

    ledger.refresh_from_db()
    request.refresh_from_db()
    assert (ledger.reserved, ledger.balance, request.state) == (0, Decimal("100"), RequestState.RELEASED)


def test_a_request_is_never_allocated_twice(org):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "10")
    services.request_allocate(request=request, actor=org.dept_head.user, reason="同意")

    with pytest.raises(ValidationError) as refused:
        services.request_allocate(request=request, actor=org.dept_head.user, reason="再次")

    assert "allocated already" in " ".join(refused.value.messages)
    ledger.refresh_from_db()
    assert ledger.allocated == Decimal("10")


def test_the_database_refuses_a_second_allocation_line_of_a_request(org):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "10")
    first = services.request_allocate(request=request, actor=org.dept_head.user, reason="同意")

    with pytest.raises(IntegrityError), transaction.atomic():
        FactorLine.objects.create(
            ledger=ledger, position=99, kind=LineKind.ALLOCATED, quantity=first.quantity,
            balance_after=0, request=request, reason="bypass",
        )


def test_the_database_refuses_a_negative_balance(org):
    ledger = open_ledger(org, received=Decimal("10"))

    with pytest.raises(IntegrityError), transaction.atomic():
        FactorLedger.objects.filter(pk=ledger.pk).update(allocated=Decimal("11"))


def test_a_return_adds_back_and_names_the_project_it_comes_from(org):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "30")
    services.request_allocate(request=request, actor=org.dept_head.user, reason="同意")

    line = services.ledger_return(ledger=ledger, quantity="12", request=request, reason="批而未供收回", actor=org.dept_head.user)

    ledger.refresh_from_db()
    assert (ledger.returned, ledger.balance, line.project_id) == (Decimal("12"), Decimal("82"), org.project.pk)


def test_a_return_on_a_request_is_no_more_than_it_was_allocated(org):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "30")
    services.request_allocate(request=request, actor=org.dept_head.user, reason="同意")
    services.ledger_return(ledger=ledger, quantity="20", request=request, reason="收回", actor=org.dept_head.user)

    with pytest.raises(ValidationError):
        services.ledger_return(ledger=ledger, quantity="11", request=request, reason="收回", actor=org.dept_head.user)


def test_lines_are_never_changed_nor_deleted(org):
    ledger = open_ledger(org)
    line = ledger.lines.get()

    line.reason = "changed"
    with pytest.raises(AppendOnly):
        line.save()
    with pytest.raises(AppendOnly):
        line.delete()


def test_every_line_is_audited_with_its_reason(org):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "10")

    line = services.request_allocate(request=request, actor=org.dept_head.user, reason="专题会同意")

    event = AuditEvent.objects.get(object_id=str(line.pk), content_type__model="factorline")
    assert (event.reason, event.project_id, event.changes["kind"]) == ("专题会同意", org.project.pk, [None, "allocated"])
    assert AuditEvent.objects.filter(object_id=str(request.pk), content_type__model="factorrequest").count() == 2


def test_only_the_keeping_bureau_or_the_secretariat_writes_in_a_ledger(org):
    ledger = open_ledger(org)

    for person in (org.head, org.staff, org.supervisor, org.leader, org.bank, org.owner):
        with pytest.raises(PermissionDenied):
            services.ledger_receive(ledger=ledger, quantity="1", reason="x", actor=person.user)
    services.ledger_receive(ledger=ledger, quantity="1", reason="x", actor=org.dept_head.user)


def test_only_the_secretariat_opens_a_ledger_and_once_a_factor_and_year(org):
    open_ledger(org)

    with pytest.raises(PermissionDenied):
        services.ledger_open(factor="energy", year=2026, bureau=org.department, actor=org.dept_head.user)
    with pytest.raises(ValidationError):
        services.ledger_open(factor="land", year=2026, bureau=org.department, actor=org.secretariat.user)
