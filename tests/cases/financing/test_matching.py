"""Matching needs with products in the database: each hard filter at its boundary, both ways;
the score, its order and its reasons; the best K per need; rematching after a product
changes; and a constant, small number of queries to match one need."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from cases.financing import matching
from cases.financing import selectors as financing_selectors
from cases.financing.models import (
    INDUSTRY_BITS,
    STAGE_BITS,
    FinancialProduct,
    FinancingNeed,
    FinancingType,
    NeedMatch,
    NeedState,
    SpecialLine,
    mask_of,
)
from cases.financing.services import product_create, product_deactivate, product_update
from cases.models import Stage, UnitKind
from tests.cases.factories import KeyProjectFactory, UnitFactory, set_stage
from tests.cases.financing.factories import (
    FinancialProductFactory,
    FinancingNeedFactory,
    InstitutionFactory,
    publish_directly,
)

M = Decimal("1000000")  # a million yuan
NEED_AMOUNT = 20 * M
NEED_TERM = 36


@pytest.fixture
def world(db):
    """One case in financing docking in the river district, with one published need of
    20 million yuan (a loan over 36 months), and one other district."""
    river = UnitFactory(name="滨江区", kind=UnitKind.DISTRICT)
    lake = UnitFactory(name="湖东区", kind=UnitKind.DISTRICT)
    project = set_stage(KeyProjectFactory(region=river, industry="new_materials"), Stage.DOCKING)
    need = publish_directly(
        FinancingNeedFactory(project=project, amount=NEED_AMOUNT, term_months=NEED_TERM, financing_type=FinancingType.LOAN)
    )
    return type("World", (), {"river": river, "lake": lake, "project": project, "need": need})


def product(world, *, regions=(), **overrides):
    """A loan product that fits the world's need unless ``overrides`` say otherwise."""
    values = {
        "financing_type": FinancingType.LOAN,
        "amount_min": 1 * M,
        "amount_max": 100 * M,
        "term_months_min": 6,
        "term_months_max": 120,
        "industries_mask": 0,
        "stages_mask": 0,
    }
    values.update(overrides)
    region_units = [getattr(world, name) for name in regions]
    return FinancialProductFactory(regions=region_units, **values)


# Each hard filter just inside and just outside its boundary: (case, product overrides, fits).
FILTERS = [
    ("same type", {}, True),
    ("another type", {"financing_type": FinancingType.BOND}, False),
    ("smallest amount is the need's", {"amount_min": NEED_AMOUNT}, True),
    ("smallest amount a cent above", {"amount_min": NEED_AMOUNT + Decimal("0.01")}, False),
    ("largest amount is the need's", {"amount_max": NEED_AMOUNT}, True),
    ("largest amount a cent below", {"amount_max": NEED_AMOUNT - Decimal("0.01")}, False),
    ("shortest term is the need's", {"term_months_min": NEED_TERM}, True),
    ("shortest term a month longer", {"term_months_min": NEED_TERM + 1}, False),
    ("longest term is the need's", {"term_months_max": NEED_TERM}, True),
    ("longest term a month shorter", {"term_months_max": NEED_TERM - 1}, False),
    ("targets the industry", {"industries_mask": mask_of(["new_materials", "biotech"], INDUSTRY_BITS)}, True),
    ("targets other industries", {"industries_mask": mask_of(["biotech", "green"], INDUSTRY_BITS)}, False),
    ("targets the stage", {"stages_mask": mask_of([Stage.DOCKING], STAGE_BITS)}, True),
    ("targets other stages", {"stages_mask": mask_of([Stage.CONSTRUCTION, Stage.PREWORK], STAGE_BITS)}, False),
    ("offered in the region", {"regions": ("river",)}, True),
    ("offered in the region among others", {"regions": ("lake", "river")}, True),
    ("offered in another region only", {"regions": ("lake",)}, False),
    ("inactive", {"is_active": False}, False),
]


@pytest.mark.parametrize("case, overrides, fits", FILTERS, ids=[row[0] for row in FILTERS])
def test_a_need_is_matched_with_a_product_exactly_when_every_hard_filter_passes(world, case, overrides, fits):
    # Given a product that differs from a fitting one in one respect
    offered = product(world, **overrides)

    # When the need is matched
    matching.match_need(world.need)

    # Then the product is among its matches exactly when that respect still fits
    assert NeedMatch.objects.filter(need=world.need, product=offered).exists() is fits


@pytest.mark.parametrize("case, overrides, fits", FILTERS, ids=[row[0] for row in FILTERS])
def test_a_product_lists_a_need_exactly_when_every_hard_filter_passes(world, case, overrides, fits):
    # Given the same product
    offered = product(world, **overrides)

    # When the needs that fit it are read, the other way round
    needs = list(financing_selectors.needs_for_product(offered))

    # Then the need is there exactly when it fits
    assert (world.need in needs) is fits


def test_a_combined_need_fits_combined_products_and_no_other(world):
    # Given a need for a combined product, and a combined and a loan product
    world.need.__class__.objects.filter(pk=world.need.pk).update(financing_type=FinancingType.COMBINED)
    combined = product(world, financing_type=FinancingType.COMBINED)
    loan = product(world)

    # When it is matched
    matching.match_need(world.need)

    # Then only the combined product fits
    assert list(NeedMatch.objects.filter(need=world.need).values_list("product", flat=True)) == [combined.pk]
    assert loan.pk not in financing_selectors.needs_for_product(loan).values_list("pk", flat=True)


def test_an_unpublished_need_keeps_no_matches(world):
    # Given a draft need of the same case
    draft = FinancingNeedFactory(project=world.project, amount=NEED_AMOUNT)
    product(world)

    # When it is matched
    matching.match_need(draft)

    # Then it has none, and the product does not list it
    assert not NeedMatch.objects.filter(need=draft).exists()
    assert draft.state == NeedState.DRAFT


def scored_products(world):
    """Four fitting products whose scores are worked out by hand below."""
    return {
        # rate midpoint 2 -> 40 - 4 x 2 = 32; amount 20M the middle of 10M-30M -> 20; nothing targeted
        "cheap": product(world, rate_min=Decimal("2.00"), rate_max=Decimal("2.00"), amount_min=10 * M, amount_max=30 * M),
        # midpoint 4.5 -> 22; a single amount -> 20; the industry (+10) and the region (+10) by name
        "local": product(
            world,
            rate_min=Decimal("4.00"),
            rate_max=Decimal("5.00"),
            amount_min=NEED_AMOUNT,
            amount_max=NEED_AMOUNT,
            industries_mask=mask_of(["new_materials"], INDUSTRY_BITS),
            regions=("river",),
        ),
        # midpoint 3.5 -> 26; 20M the middle of 0-40M -> 20; a sci-tech line for new materials in docking -> 20
        "special": product(
            world,
            rate_min=Decimal("3.00"),
            rate_max=Decimal("4.00"),
            amount_min=0,
            amount_max=40 * M,
            special_line=SpecialLine.SCI_TECH,
        ),
        # midpoint 13 -> 0 (dearer than 10 per cent); 20M at the lower end of 20M-100M -> 0
        "dear": product(world, rate_min=Decimal("12.00"), rate_max=Decimal("14.00"), amount_min=NEED_AMOUNT),
        # midpoint 4 -> 24; 20M a quarter into 10M-50M -> 20 - 20 x 0.5 = 10; a digital line does not serve new materials
        "off_line": product(
            world,
            rate_min=Decimal("3.50"),
            rate_max=Decimal("4.50"),
            amount_min=10 * M,
            amount_max=50 * M,
            special_line=SpecialLine.DIGITAL,
        ),
    }


def test_matches_are_scored_out_of_100_and_ranked_best_first(world):
    # Given products whose scores are known
    products = scored_products(world)

    # When the need is matched
    matching.match_need(world.need)

    # Then each has its score, and they rank from the best
    matches = list(NeedMatch.objects.filter(need=world.need).order_by("-score", "product_id"))
    by_name = {name: p.pk for name, p in products.items()}
    assert [(m.product_id, m.score) for m in matches] == [
        (by_name["special"], Decimal("66.00")),
        (by_name["local"], Decimal("62.00")),
        (by_name["cheap"], Decimal("52.00")),
        (by_name["off_line"], Decimal("34.00")),
        (by_name["dear"], Decimal("0.00")),
    ]
    assert all(m.institution_id == p.institution_id for m, p in zip(matches, [products[n] for n in ("special", "local", "cheap", "off_line", "dear")], strict=True))


def test_each_match_carries_the_reasons_with_the_points_they_gave(world):
    # Given the products with known scores
    products = scored_products(world)

    # When the need is matched
    matching.match_need(world.need)

    # Then every match says where its points came from, part by part, adding up to its score
    for match in NeedMatch.objects.filter(need=world.need):
        assert [code for code, _points in match.reasons] == matching.REASON_CODES
        assert sum(Decimal(str(points)) for _code, points in match.reasons) == match.score
    reasons = {name: dict(NeedMatch.objects.get(need=world.need, product=p).reasons) for name, p in products.items()}
    assert reasons["local"] == {"rate": 22, "special_line": 0, "amount": 20, "region": 10, "industry": 10}
    assert reasons["special"] == {"rate": 26, "special_line": 20, "amount": 20, "region": 0, "industry": 0}
    assert reasons["off_line"] == {"rate": 24, "special_line": 0, "amount": 10, "region": 0, "industry": 0}


def test_reasons_read_as_sentences_in_the_readers_language(world):
    # Given the match of a local product that targets the industry
    products = scored_products(world)
    matching.match_need(world.need)
    match = NeedMatch.objects.get(need=world.need, product=products["local"])

    # When its reasons are read in English and in Chinese
    with translation.override("en"):
        english = matching.reason_texts(match.reasons, need=world.need, product=match.product)
    with translation.override("zh-hans"):
        chinese = matching.reason_texts(match.reasons, need=world.need, product=match.product)

    # Then each reason is a sentence naming the facts, in the reader's language
    assert len(english) == 7  # no special line, so no sentence about one
    assert any("New materials" in text and "10 points" in text for text in english)
    assert any("滨江区" in text for text in english)
    assert any("2,000.00" in text for text in english)
    assert any("4 to 5 per cent" in text and "22 of 40" in text for text in english)
    assert any("新材料" in text for text in chinese)


def test_a_need_keeps_only_its_best_products(world, settings):
    # Given more fitting products than a need keeps, the dearest ones last
    count = matching.MATCHES_PER_NEED + 3
    offered = [
        product(world, rate_min=Decimal(index) / 4, rate_max=Decimal(index) / 4) for index in range(count)
    ]

    # When it is matched
    matching.match_need(world.need)

    # Then it keeps the cheapest MATCHES_PER_NEED, and a product lists the need even when outside them
    kept = set(NeedMatch.objects.filter(need=world.need).values_list("product", flat=True))
    assert kept == {p.pk for p in offered[: matching.MATCHES_PER_NEED]}
    assert world.need in financing_selectors.needs_for_product(offered[-1])


def test_equal_scores_rank_the_older_product_first(world):
    # Given two products alike in every respect
    first, second = product(world), product(world)

    # When the need is matched
    matching.match_need(world.need)

    # Then both are kept, the older one first
    assert list(NeedMatch.objects.filter(need=world.need).order_by("-score", "product_id").values_list("product", flat=True)) == [
        first.pk,
        second.pk,
    ]


def test_a_product_lists_the_needs_that_fit_it_best_first(world):
    # Given a second need of the same case whose amount sits in the middle of the product's range
    middle = publish_directly(FinancingNeedFactory(project=world.project, amount=50 * M, term_months=NEED_TERM))
    offered = product(world, amount_min=0, amount_max=100 * M)

    # When the product's needs are read
    needs = list(financing_selectors.needs_for_product(offered))

    # Then both are listed, the more central amount first, each with the score matching gives it
    assert needs == [middle, world.need]
    assert needs[0].fit_score > needs[1].fit_score
    matching.rematch_all()
    assert [NeedMatch.objects.get(need=need, product=offered).score for need in needs] == [n.fit_score for n in needs]


def test_rematch_all_recomputes_every_published_need_set_based(world):
    # Given a few needs published without matching, and products for them
    others = [
        publish_directly(FinancingNeedFactory(project=world.project, amount=amount * M, term_months=24))
        for amount in (5, 30, 80)
    ]
    draft = FinancingNeedFactory(project=world.project, amount=10 * M)
    cheap, dear = product(world, rate_min=Decimal("2"), rate_max=Decimal("3")), product(world, amount_min=25 * M)

    # When everything is rematched
    with CaptureQueriesContext(connection) as queries:
        written = matching.rematch_all()

    # Then every published need has its matches, the draft none, in a few statements
    expected = {
        (world.need.pk, cheap.pk),
        *((need.pk, cheap.pk) for need in others),
        (others[1].pk, dear.pk),
        (others[2].pk, dear.pk),
    }
    assert set(NeedMatch.objects.values_list("need", "product")) == expected
    assert written == len(expected)
    assert not NeedMatch.objects.filter(need=draft).exists()
    assert len(queries) <= 12
    # and the result is what matching each need alone gives
    alone = {}
    for need in [world.need, *others]:
        matching.match_need(need)
        alone[need.pk] = sorted(NeedMatch.objects.filter(need=need).values_list("product", "score"))
    assert alone == {
        need_id: sorted((product_id, score) for n, product_id, score in NeedMatch.objects.values_list("need", "product", "score") if n == need_id)
        for need_id in alone
    }


def test_rematch_all_after_a_change_rewrites_only_the_matches_that_changed(world, time_machine):
    # Given two needs matched with two products
    other = publish_directly(FinancingNeedFactory(project=world.project, amount=60 * M, term_months=NEED_TERM))
    steady, changing = product(world), product(world, amount_min=40 * M)
    matching.rematch_all()
    before = {(m.need_id, m.product_id): (m.computed_at, m.score) for m in NeedMatch.objects.all()}
    assert set(before) == {(world.need.pk, steady.pk), (other.pk, steady.pk), (other.pk, changing.pk)}

    # When one product gets cheaper and another need is published, and everything is rematched later
    time_machine.move_to(timezone.now() + datetime.timedelta(hours=1))
    FinancialProduct.objects.filter(pk=changing.pk).update(rate_min=Decimal("1.00"), rate_max=Decimal("1.00"))
    third = publish_directly(FinancingNeedFactory(project=world.project, amount=45 * M, term_months=NEED_TERM))
    total = matching.rematch_all()

    # Then the unchanged match keeps its time, the changed one has its new score, the new need its matches
    after = {(m.need_id, m.product_id): (m.computed_at, m.score) for m in NeedMatch.objects.all()}
    assert total == len(after) == 5
    assert after[(world.need.pk, steady.pk)] == before[(world.need.pk, steady.pk)]
    assert after[(other.pk, changing.pk)][1] > before[(other.pk, changing.pk)][1]
    assert after[(other.pk, changing.pk)][0] > before[(other.pk, changing.pk)][0]
    assert {(third.pk, steady.pk), (third.pk, changing.pk)} <= set(after)


@pytest.fixture
def secretariat(org):
    return org.secretariat.user


def test_a_new_product_is_matched_with_the_needs_it_fits(world, secretariat):
    # Given a published need with its matches
    matching.match_need(world.need)
    assert not NeedMatch.objects.filter(need=world.need).exists()

    # When a fitting product is added through the service
    offered = product_create(
        actor=secretariat,
        data={
            "institution": InstitutionFactory(),
            "name": "科技贷",
            "financing_type": FinancingType.LOAN,
            "amount_min": 1 * M,
            "amount_max": 50 * M,
            "rate_min": Decimal("3.2"),
            "rate_max": Decimal("3.8"),
            "term_months_min": 12,
            "term_months_max": 60,
            "industries": ["new_materials"],
            "stages": [],
            "regions": [],
        },
    )

    # Then the need has it among its matches
    assert NeedMatch.objects.filter(need=world.need, product=offered).exists()


def test_a_changed_product_leaves_the_needs_it_no_longer_fits_and_lets_the_next_one_in(world, secretariat):
    # Given a need that keeps its best products, all taken, and one more waiting outside them
    offered = [
        product(world, rate_min=Decimal(index) / 4, rate_max=Decimal(index) / 4)
        for index in range(matching.MATCHES_PER_NEED + 1)
    ]
    matching.match_need(world.need)
    best, waiting = offered[0], offered[-1]
    assert not NeedMatch.objects.filter(need=world.need, product=waiting).exists()

    # When the best product's largest amount is lowered below the need's amount
    product_update(product=best, actor=secretariat, data={"amount_max": 10 * M})

    # Then it leaves the need's matches and the waiting product comes in
    kept = set(NeedMatch.objects.filter(need=world.need).values_list("product", flat=True))
    assert best.pk not in kept and waiting.pk in kept
    assert len(kept) == matching.MATCHES_PER_NEED


def test_a_deactivated_product_leaves_every_match(world, secretariat):
    # Given a product matched with the need
    offered = product(world)
    matching.match_need(world.need)
    assert NeedMatch.objects.filter(product=offered).exists()

    # When it is deactivated
    product_deactivate(product=offered, actor=secretariat)

    # Then it is matched with nothing, and lists no need
    assert not NeedMatch.objects.filter(product=offered).exists()
    assert not financing_selectors.needs_for_product(offered).exists()


def test_renaming_a_product_keeps_its_matches_as_they_were(world, secretariat):
    # Given a product matched with the need
    offered = product(world)
    matching.match_need(world.need)
    computed = NeedMatch.objects.get(product=offered).computed_at

    # When only its name changes
    product_update(product=offered, actor=secretariat, data={"name": "新名称"})

    # Then the match was not recomputed
    assert NeedMatch.objects.get(product=offered).computed_at == computed


def _queries_to_match(need):
    with CaptureQueriesContext(connection) as queries:
        matching.match_need(need)
    return len(queries)


def test_matching_one_need_costs_the_same_few_queries_with_few_and_many_needs_and_products(world):
    # Given a need and three fitting products
    for _index in range(3):
        product(world)
    few = _queries_to_match(world.need)

    # When two thousand more needs are published and two hundred more products of every kind added
    FinancingNeed.objects.bulk_create(
        [
            FinancingNeed(
                project=world.project, amount=(index % 50 + 1) * M, financing_type=FinancingType.LOAN, purpose="建设",
                term_months=NEED_TERM, deadline=world.need.deadline, state=NeedState.PUBLISHED,
                industry=world.need.industry, stage=world.need.stage, region=world.river,
            )
            for index in range(2000)
        ]
    )
    for index in range(200):
        product(
            world,
            financing_type=[FinancingType.LOAN, FinancingType.BOND, FinancingType.LEASE][index % 3],
            regions=(("river",), ("lake",), ())[index % 3],
            industries_mask=[0, mask_of(["new_materials"], INDUSTRY_BITS), mask_of(["biotech"], INDUSTRY_BITS)][index % 3],
        )
    many = _queries_to_match(world.need)

    # Then matching costs the same number of queries, at most five
    assert few == many <= 5
    assert NeedMatch.objects.filter(need=world.need).count() == matching.MATCHES_PER_NEED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_rematches_of_one_need_at_once_take_turns(world):
    # Given a need that three products fit
    offered = [product(world) for _index in range(3)]
    errors = []

    def rematch_in_another_connection():
        try:
            matching.match_need(world.need.pk)
        except Exception as exc:  # a clash on the matches would be a failure of the guarantee
            errors.append(repr(exc))
        finally:
            connection.close()

    # When one rematch holds the need while a second one starts
    with transaction.atomic():
        matching.match_need(world.need)
        other = threading.Thread(target=rematch_in_another_connection)
        other.start()
        other.join(timeout=1)
        waited = other.is_alive()
    other.join(timeout=30)

    # Then the second waited for the first, and the need has each product once
    assert waited and not other.is_alive() and errors == []
    assert sorted(NeedMatch.objects.filter(need=world.need).values_list("product", flat=True)) == [p.pk for p in offered]
