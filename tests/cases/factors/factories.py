"""Factor ledgers for the tests, written through the services as people would."""

from decimal import Decimal

from django.utils import timezone

from cases.factors import services
from cases.models import PreworkKind
from tests.cases.factories import PreworkItemFactory

YEAR = 2026


def this_year():
    return timezone.localdate().year


def open_ledger(org, factor="land", *, received=Decimal("100"), year=YEAR):
    """A ledger of ``factor`` kept by ``org.department`` (the natural resources bureau), with
    ``received`` quota on its first line."""
    ledger = services.ledger_open(factor=factor, year=year, bureau=org.department, actor=org.secretariat.user)
    if received:
        services.ledger_receive(ledger=ledger, quantity=received, reason="省下达指标", actor=org.secretariat.user)
        ledger.refresh_from_db()
    return ledger


def land_item(org, project=None, kind=PreworkKind.LAND):
    return PreworkItemFactory(project=project or org.project, kind=kind, approving_unit=org.department)


def ask(org, ledger, quantity, *, item=None, project=None):
    """A request of ``quantity`` on a new land item of ``project`` (``org.project``)."""
    item = item or land_item(org, project)
    return services.factor_request(
        item=item, factor=ledger.factor, year=ledger.year, quantity=Decimal(quantity), actor=org.secretariat.user
    )
