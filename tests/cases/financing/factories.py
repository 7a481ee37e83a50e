"""Factories for financing docking: institutions, products, needs; and putting a need on the
white list for a test's setup, bypassing the services on purpose."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from cases.financing.models import FinancialProduct, FinancingNeed, FinancingType, NeedState
from cases.models import InstitutionType, UnitKind
from tests.cases.factories import KeyProjectFactory, UnitFactory


class InstitutionFactory(UnitFactory):
    name = factory.Sequence(lambda n: f"金融机构{n:04d}")
    kind = UnitKind.INSTITUTION
    institution_type = InstitutionType.BANK


class FinancialProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FinancialProduct
        skip_postgeneration_save = True

    institution = factory.SubFactory(InstitutionFactory)
    name = factory.Sequence(lambda n: f"产品{n:04d}")
    financing_type = FinancingType.LOAN
    amount_min = Decimal("1000000.00")
    amount_max = Decimal("100000000.00")
    rate_min = Decimal("3.50")
    rate_max = Decimal("4.50")
    term_months_min = 6
    term_months_max = 120

    @factory.post_generation
    def regions(self, create, extracted, **kwargs):
        if create and extracted:
            self.regions.set(extracted)


class FinancingNeedFactory(factory.django.DjangoModelFactory):
    """A draft need of a case; ``publish_directly`` puts it on the white list."""

    class Meta:
        model = FinancingNeed

    project = factory.SubFactory(KeyProjectFactory)
    amount = Decimal("20000000.00")
    financing_type = FinancingType.LOAN
    purpose = "购置生产设备"
    term_months = 36
    deadline = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=90))
    collateral = "厂房抵押"


def publish_directly(need, **extra):
    """The need as published, with the case's facts copied, without the services or matching."""
    project = need.project
    FinancingNeed.objects.filter(pk=need.pk).update(
        state=NeedState.PUBLISHED,
        industry=project.industry,
        stage=project.stage,
        region_id=project.region_id,
        published_at=timezone.now(),
        **extra,
    )
    need.refresh_from_db()
    return need
