"""Financing needs: their lifecycle with who may take each step, version conflicts, the case's facts
they carry; the white list, need and product pages and the API, scoped by role and unit; the
white list's query count at two sizes; the demo's financing data, seeded once."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cases import services
from cases.financing import matching
from cases.financing import services as financing_services
from cases.financing.models import (
    FinancialProduct,
    FinancingNeed,
    FinancingType,
    NeedMatch,
    NeedState,
)
from cases.models import AuditEvent, Stage, Unit, UnitKind
from notifications.models import Notification
from tests.cases.factories import KeyProjectFactory, set_stage
from tests.cases.financing.factories import (
    FinancialProductFactory,
    FinancingNeedFactory,
    InstitutionFactory,
    publish_directly,
)

M = Decimal("1000000")


def deadline(days=90):
    return timezone.localdate() + datetime.timedelta(days=days)


def need_data(**overrides):
    data = {
        "amount": 20 * M,
        "financing_type": FinancingType.LOAN,
        "purpose": "购置生产设备",
        "term_months": 36,
        "deadline": deadline(),
        "collateral": "厂房抵押",
    }
    data.update(overrides)
    return data


@pytest.fixture
def world(org):
    """``org.project`` (led by the park, in the district) in financing docking, a product of the
    bank that fits its needs, and a product of another bank that fits too."""
    set_stage(org.project, Stage.DOCKING)
    set_stage(org.other_project, Stage.DOCKING)
    Unit.objects.filter(pk=org.bank_unit.pk).update(institution_type="bank")
    org.bank_product = FinancialProductFactory(institution=org.bank_unit, name="开行项目贷")
    org.other_bank = InstitutionFactory(name="另一银行")
    org.other_product = FinancialProductFactory(institution=org.other_bank, name="他行项目贷")
    return org


def draft(org, project=None, **overrides):
    return financing_services.need_create(project=project or org.project, actor=org.head.user, data=need_data(**overrides))


def reload(need):
    return FinancingNeed.objects.select_related("project").get(pk=need.pk)


def take(need, step, person, **kwargs):
    return financing_services.need_transition(need=reload(need), transition=step, actor=person.user, **kwargs)


def in_state(org, state, project=None):
    need = FinancingNeedFactory(project=project or org.project)
    if state == NeedState.PUBLISHED:
        return publish_directly(need)
    FinancingNeed.objects.filter(pk=need.pk).update(state=state)
    return reload(need)


# The lifecycle


def test_the_lead_unit_drafts_and_submits_and_the_secretariat_publishes_and_it_is_matched(world):
    # Given a draft written by the park's head
    need = draft(world)
    assert need.state == NeedState.DRAFT and need.created_by == world.head.user

    # When the park's staff submit it and the secretariat publishes it
    take(need, "submit", world.staff)
    published = take(need, "publish", world.secretariat)

    # Then it is on the white list with the case's facts, matched, and every step audited
    assert published.state == NeedState.PUBLISHED and published.published_at is not None
    assert (published.industry, published.stage, published.region_id) == (
        world.project.industry,
        Stage.DOCKING,
        world.project.region_id,
    )
    assert set(NeedMatch.objects.filter(need=need).values_list("product", flat=True)) == {
        world.bank_product.pk,
        world.other_product.pk,
    }
    steps = AuditEvent.objects.filter(object_id=str(need.pk), content_type__model="financingneed").order_by("at", "id")
    assert [(e.action, e.transition, e.from_state, e.to_state) for e in steps] == [
        ("created", "", "", NeedState.DRAFT),
        ("transition", "submit", NeedState.DRAFT, NeedState.SUBMITTED),
        ("transition", "publish", NeedState.SUBMITTED, NeedState.PUBLISHED),
    ]
    assert all(e.project_id == world.project.pk for e in steps)


def test_submitting_asks_the_secretariat_to_review(world):
    # Given a draft
    need = draft(world)

    # When it is submitted
    take(need, "submit", world.head)

    # Then the secretariat is told
    assert Notification.objects.filter(recipient=world.secretariat.user, key="need_submitted").exists()


def test_the_secretariat_sends_a_need_back_with_a_note_and_the_lead_unit_is_told(world):
    # Given a submitted need
    need = draft(world)
    take(need, "submit", world.head)

    # When the secretariat sends it back without a note, then with one
    with pytest.raises(ValidationError) as refused:
        take(need, "return", world.secretariat)
    returned = take(need, "return", world.secretariat, reason="用途写得不够具体")

    # Then the first is refused on the note, the second takes it back to draft with the note
    assert "reason" in refused.value.message_dict
    assert returned.state == NeedState.DRAFT and returned.review_note == "用途写得不够具体"
    assert Notification.objects.filter(recipient=world.staff.user, key="need_reviewed").exists()


def test_closing_or_withdrawing_a_published_need_drops_its_matches(world):
    # Given two published, matched needs
    first, second = in_state(world, NeedState.PUBLISHED), in_state(world, NeedState.PUBLISHED)
    matching.rematch_all()
    assert NeedMatch.objects.filter(need__in=[first, second]).count() == 4

    # When one is closed (met) and the other withdrawn
    closed = take(first, "close", world.head)
    withdrawn = take(second, "withdraw", world.head, reason="企业调整融资计划")

    # Then they leave the white list with no matches
    assert (closed.state, withdrawn.state) == (NeedState.CLOSED, NeedState.WITHDRAWN)
    assert closed.closed_at is not None
    assert not NeedMatch.objects.filter(need__in=[first, second]).exists()


def test_needs_are_written_only_for_cases_in_docking_or_financing(world):
    # Given a case in pre-work
    set_stage(world.project, Stage.PREWORK)

    # When the secretariat drafts a need for it
    with pytest.raises(ValidationError) as refused:
        financing_services.need_create(project=world.project, actor=world.secretariat.user, data=need_data())

    # Then it is refused, naming the case
    assert "project" in refused.value.message_dict


def test_a_need_cannot_be_needed_in_the_past(world):
    with pytest.raises(ValidationError) as refused:
        draft(world, deadline=timezone.localdate() - datetime.timedelta(days=1))
    assert "deadline" in refused.value.message_dict


def test_a_need_whose_date_passed_is_not_published(world, time_machine):
    # Given a submitted need, needed in ten days
    need = draft(world, deadline=deadline(10))
    take(need, "submit", world.head)

    # When the secretariat publishes it after the date
    time_machine.move_to(timezone.now() + datetime.timedelta(days=11))
    with pytest.raises(services.TransitionBlocked) as blocked:
        take(need, "publish", world.secretariat)

    # Then the step is blocked with the reason, and nothing changed
    assert "passed" in blocked.value.message
    assert reload(need).state == NeedState.SUBMITTED


# Who may take each step: the lead unit's people, the secretariat, nobody else.
STEPS = [
    ("submit", NeedState.DRAFT, "head", True),
    ("submit", NeedState.DRAFT, "staff", True),
    ("submit", NeedState.DRAFT, "secretariat", True),
    ("submit", NeedState.DRAFT, "other_head", False),
    ("submit", NeedState.DRAFT, "dept_head", False),
    ("submit", NeedState.DRAFT, "supervisor", False),
    ("submit", NeedState.DRAFT, "bank", False),
    ("publish", NeedState.SUBMITTED, "secretariat", True),
    ("publish", NeedState.SUBMITTED, "head", False),
    ("publish", NeedState.SUBMITTED, "supervisor", False),
    ("publish", NeedState.SUBMITTED, "bank", False),
    ("return", NeedState.SUBMITTED, "secretariat", True),
    ("return", NeedState.SUBMITTED, "head", False),
    ("close", NeedState.PUBLISHED, "head", True),
    ("close", NeedState.PUBLISHED, "secretariat", True),
    ("close", NeedState.PUBLISHED, "other_head", False),
    ("close", NeedState.PUBLISHED, "bank", False),
    ("withdraw", NeedState.SUBMITTED, "staff", True),
    ("withdraw", NeedState.PUBLISHED, "other_head", False),
    ("withdraw", NeedState.DRAFT, "leader", False),
]


@pytest.mark.parametrize("step, state, role, allowed", STEPS, ids=[f"{s}-{st}-{r}" for s, st, r, _a in STEPS])
def test_who_may_take_each_step_of_a_need(world, step, state, role, allowed):
    # Given a need in the step's starting state
    need = in_state(world, state)

    # When a person of the role takes the step
    person = getattr(world, role)
    if allowed:
        after = take(need, step, person, reason="说明")
        # Then it is taken
        assert after.state == financing_services.needs.NEED_STEPS[step].target
    else:
        with pytest.raises(PermissionDenied):
            take(need, step, person, reason="说明")
        # Then it is refused and nothing changed
        assert reload(need).state == state
        assert not AuditEvent.objects.filter(object_id=str(need.pk), transition=step).exists()


def test_a_step_from_the_wrong_state_is_a_conflict(world):
    need = draft(world)
    with pytest.raises(financing_services.WrongState):
        take(need, "publish", world.secretariat)
    assert reload(need).state == NeedState.DRAFT


def test_a_stale_version_is_refused_and_nothing_changes(world):
    # Given two people who read the same draft
    need = draft(world)
    theirs, mine, again, once_more = (reload(need) for _copy in range(4))

    # When one changes it and the other then changes or submits their stale copy
    financing_services.need_update(need=theirs, actor=world.head.user, data={"amount": 30 * M}, expected_version=theirs.version)
    with pytest.raises(services.Conflict):
        financing_services.need_update(need=mine, actor=world.staff.user, data={"amount": 40 * M}, expected_version=1)
    with pytest.raises(services.Conflict):
        financing_services.need_transition(need=again, transition="submit", actor=world.staff.user, expected_version=1)
    with pytest.raises(services.Conflict):
        financing_services.need_transition(need=once_more, transition="submit", actor=world.staff.user)

    # Then only the first change is there
    after = reload(need)
    assert (after.amount, after.state, after.version) == (30 * M, NeedState.DRAFT, 2)


def test_the_lead_unit_changes_drafts_only_and_the_secretariat_until_closed(world):
    # Given a published need with a product that fits only a larger amount
    need = in_state(world, NeedState.PUBLISHED)
    big = FinancialProductFactory(institution=world.bank_unit, amount_min=50 * M)

    # When the lead unit tries to change it, then the secretariat raises the amount
    with pytest.raises(financing_services.WrongState):
        financing_services.need_update(need=reload(need), actor=world.head.user, data={"amount": 60 * M})
    financing_services.need_update(need=reload(need), actor=world.secretariat.user, data={"amount": 60 * M})

    # Then only the secretariat's change is made, and the need is matched again
    assert reload(need).amount == 60 * M
    assert NeedMatch.objects.filter(need=need, product=big).exists()


def test_published_needs_follow_their_case_and_are_matched_again(world):
    # Given a published need, and a product only for another district's biotech cases
    need = in_state(world, NeedState.PUBLISHED)
    biotech = FinancialProductFactory(institution=world.bank_unit, industries_mask=2, regions=[world.other_unit])
    assert not NeedMatch.objects.filter(product=biotech).exists()

    # When the case's industry and region change, and then it is suspended
    project = reload(need).project
    services.project_update(
        project=project, actor=world.secretariat.user, data={"industry": "biotech", "region": world.other_unit}
    )
    after_update = reload(need)
    services.project_transition(project_id=project.pk, transition="suspend", actor=world.secretariat.user, reason="暂缓")

    # Then the need carries the new facts and now fits the product
    assert (after_update.industry, after_update.region_id) == ("biotech", world.other_unit.pk)
    assert NeedMatch.objects.filter(need=need, product=biotech).exists()
    assert reload(need).stage == Stage.SUSPENDED


# Products


def product_data(institution, **overrides):
    data = {
        "institution": institution,
        "name": "科技贷",
        "financing_type": FinancingType.LOAN,
        "amount_min": 1 * M,
        "amount_max": 50 * M,
        "rate_min": Decimal("3.2"),
        "rate_max": Decimal("3.8"),
        "term_months_min": 12,
        "term_months_max": 60,
        "industries": [],
        "stages": [],
        "regions": [],
    }
    data.update(overrides)
    return data


def test_an_institution_manages_its_own_products_and_not_anothers(world):
    # When the bank's people add a product for their bank, and for another bank
    own = financing_services.product_create(actor=world.bank.user, data=product_data(world.bank_unit))
    with pytest.raises(PermissionDenied):
        financing_services.product_create(actor=world.bank.user, data=product_data(world.other_bank))
    with pytest.raises(PermissionDenied):
        financing_services.product_update(product=world.other_product, actor=world.bank.user, data={"name": "改名"})

    # Then only their own is there, audited
    assert own.institution == world.bank_unit
    assert not FinancialProduct.objects.filter(institution=world.other_bank, name="科技贷").exists()
    assert AuditEvent.objects.filter(object_id=str(own.pk), content_type__model="financialproduct").exists()


def test_a_products_ranges_are_checked_field_by_field(world):
    with pytest.raises(ValidationError) as refused:
        financing_services.product_create(
            actor=world.secretariat.user,
            data=product_data(
                world.bank_unit,
                amount_min=50 * M,
                amount_max=10 * M,
                rate_min=Decimal("5"),
                rate_max=Decimal("4"),
                term_months_min=60,
                term_months_max=12,
                industries=["no_such_industry"],
            ),
        )
    assert {"amount_max", "rate_max", "term_months_max", "industries"} <= set(refused.value.message_dict)


def test_a_product_belongs_to_an_institution_and_is_offered_in_districts(world):
    with pytest.raises(ValidationError) as refused:
        financing_services.product_create(
            actor=world.secretariat.user, data=product_data(world.department, regions=[world.park])
        )
    assert {"institution", "regions"} <= set(refused.value.message_dict)


def test_a_deactivated_product_cannot_be_deactivated_again(world):
    financing_services.product_deactivate(product=world.bank_product, actor=world.bank.user)
    with pytest.raises(financing_services.WrongState):
        financing_services.product_deactivate(product=world.bank_product, actor=world.bank.user)


@pytest.fixture
def rematches(monkeypatch):
    """The products matching is redone for, in order: each call of ``matching.rematch_product``,
    passed on to it."""
    seen = []
    rematch = matching.rematch_product

    def recorded(product):
        seen.append(product.pk)
        return rematch(product)

    monkeypatch.setattr(matching, "rematch_product", recorded)
    return seen


def product_changes(product):
    return AuditEvent.objects.filter(
        object_id=str(product.pk), content_type__model="financialproduct", action="updated"
    ).count()


def test_a_stale_product_change_is_a_conflict_and_changes_nothing(world, rematches):
    # Given a published need the bank's product fits, and two people who read the product
    need = in_state(world, NeedState.PUBLISHED)
    matching.match_need(need)
    theirs, mine = (FinancialProduct.objects.get(pk=world.bank_product.pk) for _copy in range(2))

    # When one narrows its amounts below the need, and the other then changes its copy of version 1
    financing_services.product_update(
        product=theirs, actor=world.secretariat.user, data={"amount_max": 10 * M}, expected_version=1
    )
    with pytest.raises(services.Conflict):
        financing_services.product_update(
            product=mine, actor=world.bank.user, data={"amount_max": 90 * M, "rate_max": Decimal("4.9")}, expected_version=1
        )

    # Then the first change alone is saved, audited and matched again: the need left the product
    stored = FinancialProduct.objects.get(pk=world.bank_product.pk)
    assert (stored.amount_max, stored.rate_max, stored.version) == (10 * M, Decimal("4.50"), 2)
    assert product_changes(stored) == 1
    assert rematches == [stored.pk]
    assert not NeedMatch.objects.filter(need=need, product=stored).exists()


def test_a_product_saved_with_nothing_changed_keeps_its_version(world, rematches):
    financing_services.product_update(
        product=world.bank_product, actor=world.bank.user, data={"name": world.bank_product.name}, expected_version=1
    )

    stored = FinancialProduct.objects.get(pk=world.bank_product.pk)
    assert (stored.version, product_changes(stored), rematches) == (1, 0, [])


# Pages


def login(client, person):
    client.force_login(person.user)
    return client


WHITE_LIST_READERS = ["secretariat", "supervisor", "leader", "head", "staff", "dept_head", "other_head", "bank"]


@pytest.mark.parametrize("role", [*WHITE_LIST_READERS, "owner"])
def test_the_white_list_is_for_government_and_institutions(world, client, role):
    in_state(world, NeedState.PUBLISHED)
    response = login(client, getattr(world, role)).get(reverse("financing:white_list"))
    assert response.status_code == (200 if role in WHITE_LIST_READERS else 403)


def test_the_white_list_shows_published_needs_with_filters(world, client):
    # Given a published loan, a published lease and a draft
    loan = in_state(world, NeedState.PUBLISHED)
    lease = publish_directly(FinancingNeedFactory(project=world.other_project, financing_type=FinancingType.LEASE, amount=80 * M))
    hidden = FinancingNeedFactory(project=world.project)
    login(client, world.supervisor)

    # When the list is read, and filtered by type and by amount (in ten-thousand yuan)
    everything = client.get(reverse("financing:white_list")).context["page"].object_list
    leases = client.get(reverse("financing:white_list"), {"financing_type": "lease"}).context["page"].object_list
    large = client.get(reverse("financing:white_list"), {"amount_min": "5000"}).context["page"].object_list

    # Then drafts stay off it, and the filters hold
    assert set(everything) == {loan, lease} and hidden not in everything
    assert list(leases) == [lease]
    assert list(large) == [lease]


def test_the_secretariat_finds_the_needs_to_review_and_an_institution_never_sees_them(world, client):
    submitted = in_state(world, NeedState.SUBMITTED)
    review = login(client, world.secretariat).get(reverse("financing:white_list"), {"state": "submitted"})
    assert list(review.context["page"].object_list) == [submitted]
    client.logout()
    bank_view = login(client, world.bank).get(reverse("financing:white_list"), {"state": "submitted"})
    assert submitted not in bank_view.context["page"].object_list


def test_an_institution_reads_a_need_without_internal_details_and_with_its_own_matches_only(world, client):
    # Given a published, matched need with a review note and a lead unit
    need = in_state(world, NeedState.PUBLISHED)
    FinancingNeed.objects.filter(pk=need.pk).update(review_note="内部审核意见")
    matching.match_need(need)

    # When the bank and the secretariat read it
    bank_page = login(client, world.bank).get(reverse("financing:need_detail", args=[need.pk]))
    client.logout()
    secretariat_page = login(client, world.secretariat).get(reverse("financing:need_detail", args=[need.pk]))

    # Then the bank sees its own product's match only, and no internal detail
    assert [m.product for m in bank_page.context["matches"]] == [world.bank_product]
    bank_html = bank_page.content.decode()
    assert "内部审核意见" not in bank_html and world.park.name not in bank_html and 'id="timeline"' not in bank_html
    assert {m.product for m in secretariat_page.context["matches"]} == {world.bank_product, world.other_product}
    assert "内部审核意见" in secretariat_page.content.decode()
    assert len(secretariat_page.context["matches"][0].reason_texts) >= 7


def test_an_institution_may_say_it_is_interested_once_on_a_published_need(world, client):
    # Given a published need
    need = in_state(world, NeedState.PUBLISHED)
    url = reverse("financing:need_detail", args=[need.pk])

    # When the bank reads it, says it is interested, and reads it again; and the secretariat reads it
    first = login(client, world.bank).get(url)
    answer = client.post(first.context["interest_url"])
    again = client.get(url)
    client.logout()
    secretariat = login(client, world.secretariat).get(url)

    # Then the bank was offered it once, a docking of the bank follows the need, and the
    # secretariat is not offered it
    assert first.context["interest_url"] and answer.status_code == 302
    assert [d.institution for d in again.context["dockings"]] == [world.bank_unit]
    assert again.context["interest_url"] is None and secretariat.context["interest_url"] is None


def test_a_draft_is_out_of_sight_of_other_units_and_institutions(world, client):
    need = in_state(world, NeedState.DRAFT)
    for person, status in [(world.other_head, 404), (world.bank, 404), (world.dept_head, 404), (world.staff, 200)]:
        client.force_login(person.user)
        assert client.get(reverse("financing:need_detail", args=[need.pk])).status_code == status, person


def test_the_case_page_lists_its_needs_and_offers_to_add_one_to_the_lead_unit(world, client):
    need = in_state(world, NeedState.SUBMITTED)
    page = login(client, world.head).get(reverse("cases:projects:detail", args=[world.project.pk]))
    html = page.content.decode()
    assert reverse("financing:need_detail", args=[need.pk]) in html
    assert reverse("financing:need_add", args=[world.project.pk]) in html
    client.logout()
    other = login(client, world.supervisor).get(reverse("cases:projects:detail", args=[world.project.pk]))
    assert reverse("financing:need_add", args=[world.project.pk]) not in other.content.decode()


def test_the_lead_unit_writes_a_need_on_its_page_in_ten_thousand_yuan(world, client):
    # When the park's head fills in the form
    url = reverse("financing:need_add", args=[world.project.pk])
    response = login(client, world.head).post(
        url,
        {
            "amount": "2500",
            "financing_type": "loan",
            "purpose": "建设资金",
            "term_months": "60",
            "deadline": deadline().isoformat(),
            "collateral": "",
        },
    )

    # Then a draft of 25 million yuan is there
    need = FinancingNeed.objects.get(project=world.project)
    assert response.status_code == 302 and response["Location"] == reverse("financing:need_detail", args=[need.pk])
    assert (need.amount, need.state) == (25 * M, NeedState.DRAFT)


@pytest.mark.parametrize("role, status", [("other_head", 404), ("dept_head", 404), ("bank", 404), ("supervisor", 403)])
def test_others_may_not_write_a_cases_needs(world, client, role, status):
    response = login(client, getattr(world, role)).get(reverse("financing:need_add", args=[world.project.pk]))
    assert response.status_code == status


def test_the_secretariat_publishes_on_the_steps_page_and_a_stale_form_is_told(world, client):
    need = in_state(world, NeedState.SUBMITTED)
    url = reverse("financing:need_transition", args=[need.pk, "publish"])
    login(client, world.secretariat)
    stale = client.post(url, {"version": need.version + 5, "reason": ""})
    assert stale.status_code == 200 and stale.context["form"].non_field_errors()
    done = client.post(url, {"version": need.version, "reason": ""})
    assert done.status_code == 302 and reload(need).state == NeedState.PUBLISHED


def test_the_head_may_not_open_the_publish_page(world, client):
    need = in_state(world, NeedState.SUBMITTED)
    response = login(client, world.head).get(reverse("financing:need_transition", args=[need.pk, "publish"]))
    assert response.status_code == 403


def test_an_institution_sees_and_edits_its_own_products_only(world, client):
    login(client, world.bank)
    listed = client.get(reverse("financing:products")).context["page"].object_list
    assert list(listed) == [world.bank_product]
    assert client.get(reverse("financing:product_detail", args=[world.other_product.pk])).status_code == 404
    assert client.get(reverse("financing:product_change", args=[world.other_product.pk])).status_code == 404
    assert client.get(reverse("financing:product_change", args=[world.bank_product.pk])).status_code == 200


def test_the_secretariat_adds_a_product_on_its_page(world, client):
    response = login(client, world.secretariat).post(
        reverse("financing:product_add"),
        {
            "institution": world.other_bank.pk,
            "name": "绿色贷",
            "financing_type": "loan",
            "special_line": "",
            "amount_min": "100",
            "amount_max": "100000",
            "rate_min": "3.10",
            "rate_max": "3.60",
            "term_months_min": "12",
            "term_months_max": "120",
            "industries": ["green", "new_energy"],
            "regions": [world.district.pk],
            "description": "",
            "is_active": "on",
        },
    )
    product = FinancialProduct.objects.get(name="绿色贷")
    assert response.status_code == 302
    assert (product.amount_min, product.amount_max) == (1 * M, 1000 * M)
    assert sorted(financing_services.needs.product_industries(product)) == ["green", "new_energy"]
    assert list(product.regions.all()) == [world.district]


def product_form_data(product, **overrides):
    """What the product's change form posts, amounts in ten-thousand yuan."""
    data = {
        "institution": product.institution_id,
        "name": product.name,
        "financing_type": product.financing_type,
        "special_line": product.special_line,
        "amount_min": str(product.amount_min / 10000),
        "amount_max": str(product.amount_max / 10000),
        "rate_min": str(product.rate_min),
        "rate_max": str(product.rate_max),
        "term_months_min": str(product.term_months_min),
        "term_months_max": str(product.term_months_max),
        "description": product.description,
        "is_active": "on",
        "version": str(product.version),
    }
    data.update(overrides)
    return data


def test_the_product_form_carries_the_version_it_was_read_at(world, client):
    page = login(client, world.bank).get(reverse("financing:product_change", args=[world.bank_product.pk]))

    assert page.context["form"].initial["version"] == 1
    assert re.search(r'<input[^>]*name="version" value="1"[^>]*type="hidden"', page.content.decode())


def test_a_stale_product_form_is_told_and_changes_nothing(world, client, rematches):
    # Given the bank's person opened the product's form, and the secretariat then changed its rate
    url = reverse("financing:product_change", args=[world.bank_product.pk])
    login(client, world.bank).get(url)
    read = FinancialProduct.objects.get(pk=world.bank_product.pk)
    financing_services.product_update(
        product=read, actor=world.secretariat.user, data={"rate_max": Decimal("4.20")}, expected_version=1
    )

    # When the bank's person saves the form they read
    stale = client.post(url, product_form_data(read, name="改过的产品", amount_max="5000"))

    # Then they are told, and neither the name, the amount nor the matching moved
    assert stale.status_code == 200
    assert "Someone else changed this record" in " ".join(stale.context["form"].non_field_errors())
    stored = FinancialProduct.objects.get(pk=read.pk)
    assert (stored.name, stored.amount_max, stored.rate_max, stored.version) == (read.name, read.amount_max, Decimal("4.20"), 2)
    assert product_changes(stored) == 1
    assert rematches == [stored.pk]


def test_a_product_form_without_its_version_is_refused_and_changes_nothing(world, client, rematches):
    # Given the secretariat changed the rate after the bank's person read the product
    url = reverse("financing:product_change", args=[world.bank_product.pk])
    read = FinancialProduct.objects.get(pk=world.bank_product.pk)
    financing_services.product_update(
        product=read, actor=world.secretariat.user, data={"rate_max": Decimal("4.20")}, expected_version=1
    )
    data = product_form_data(read, amount_max="5000")
    del data["version"]

    # When a form without the version it was read at is posted
    response = login(client, world.bank).post(url, data)

    # Then it is refused: the secretariat's rate stays, nothing else moved
    assert response.status_code == 200 and response.context["form"].errors["version"]
    stored = FinancialProduct.objects.get(pk=read.pk)
    assert (stored.amount_max, stored.rate_max, stored.version) == (read.amount_max, Decimal("4.20"), 2)
    assert rematches == [stored.pk]


def test_a_product_form_of_the_current_version_is_saved(world, client, rematches):
    url = reverse("financing:product_change", args=[world.bank_product.pk])

    response = login(client, world.bank).post(url, product_form_data(world.bank_product, amount_max="5000"))

    stored = FinancialProduct.objects.get(pk=world.bank_product.pk)
    assert response.status_code == 302
    assert (stored.amount_max, stored.version, rematches) == (50 * M, 2, [stored.pk])


def test_a_product_page_lists_the_needs_that_fit_it(world, client):
    need = in_state(world, NeedState.PUBLISHED)
    page = login(client, world.bank).get(reverse("financing:product_detail", args=[world.bank_product.pk]))
    assert list(page.context["needs"].object_list) == [need]


def _bulk_needs(projects, count):
    now = timezone.now()
    FinancingNeed.objects.bulk_create(
        [
            FinancingNeed(
                project=projects[n % len(projects)],
                amount=(n % 90 + 1) * M,
                financing_type=[FinancingType.LOAN, FinancingType.LEASE, FinancingType.EQUITY][n % 3],
                purpose="建设资金",
                term_months=36,
                deadline=deadline(),
                state=NeedState.PUBLISHED,
                industry=projects[n % len(projects)].industry,
                stage=Stage.DOCKING,
                region_id=projects[n % len(projects)].region_id,
                published_at=now - datetime.timedelta(minutes=n),
            )
            for n in range(count)
        ],
        batch_size=2000,
    )


def _queries(client, url, params=None):
    client.get(url, params)  # warm the caches a running server has
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ["secretariat", "bank"])
def test_the_white_list_and_a_product_page_cost_the_same_queries_at_1000_and_20000_needs(world, client, role):
    # Given a thousand published needs over a few cases in two districts
    projects = [world.project, world.other_project] + [
        set_stage(KeyProjectFactory(region=world.district, lead_unit=world.park), Stage.FINANCING) for _n in range(4)
    ]
    _bulk_needs(projects, 1000)
    login(client, getattr(world, role))
    pages = {
        "white_list": (reverse("financing:white_list"), None),
        "filtered": (reverse("financing:white_list"), {"financing_type": "loan", "amount_min": "100", "search": "项目"}),
        "product": (reverse("financing:product_detail", args=[world.bank_product.pk]), None),
    }
    small = {name: _queries(client, url, params) for name, (url, params) in pages.items()}

    # When there are twenty thousand
    _bulk_needs(projects, 19000)
    large = {name: _queries(client, url, params) for name, (url, params) in pages.items()}

    # Then every page costs what it did
    assert small == large


# API


@pytest.fixture
def api():
    def as_person(person):
        client = APIClient()
        client.force_authenticate(person.user)
        return client

    return as_person


def test_the_api_lists_the_white_list_with_its_filters(world, api):
    loan = in_state(world, NeedState.PUBLISHED)
    lease = publish_directly(FinancingNeedFactory(project=world.other_project, financing_type=FinancingType.LEASE))
    in_state(world, NeedState.DRAFT)
    body = api(world.bank).get("/api/needs/", {"financing_type": "loan"}).json()
    assert [row["id"] for row in body["results"]] == [loan.pk]
    every = api(world.bank).get("/api/needs/").json()
    assert {row["id"] for row in every["results"]} == {loan.pk, lease.pk}
    assert all(row["lead_unit_name"] is None and row["review_note"] is None for row in every["results"])
    internal = api(world.supervisor).get("/api/needs/", {"project": world.project.pk}).json()["results"]
    assert [(row["id"], row["lead_unit_name"]) for row in internal] == [(loan.pk, world.park.name)]


@pytest.mark.parametrize(
    "role, status",
    [("head", 201), ("secretariat", 201), ("owner", 201), ("other_head", 400), ("bank", 403), ("supervisor", 403)],
)
def test_the_api_drafts_a_need_for_who_may_write_it(world, api, role, status):
    response = api(getattr(world, role)).post(
        "/api/needs/", {**need_data(), "project": world.project.pk, "deadline": deadline().isoformat()}, format="json"
    )
    assert response.status_code == status, response.content
    assert FinancingNeed.objects.exists() is (status == 201)


def test_the_api_changes_a_need_with_the_version_read_and_answers_409_when_stale(world, api):
    need = draft(world)
    client = api(world.head)
    url = f"/api/needs/{need.pk}/"
    assert client.patch(url, {"amount": "30000000.00"}, format="json").status_code == 400  # no version
    ok = client.patch(url, {"amount": "30000000.00", "version": need.version}, format="json")
    stale = client.patch(url, {"amount": "40000000.00", "version": need.version}, format="json")
    assert ok.status_code == 200 and ok.json()["version"] == need.version + 1
    assert stale.status_code == 409
    assert reload(need).amount == 30 * M


def test_the_api_takes_steps_and_answers_403_404_and_409(world, api):
    need = draft(world)
    url = f"/api/needs/{need.pk}/transitions/"
    assert api(world.other_head).post(url, {"transition": "submit"}, format="json").status_code == 404
    assert api(world.head).post(url, {"transition": "publish"}, format="json").status_code == 409
    submitted = api(world.head).post(url, {"transition": "submit", "version": need.version}, format="json")
    assert submitted.status_code == 200 and submitted.json()["state"] == NeedState.SUBMITTED
    assert api(world.head).post(url, {"transition": "publish"}, format="json").status_code == 403
    assert api(world.bank).post(url, {"transition": "publish"}, format="json").status_code == 404
    published = api(world.secretariat).post(url, {"transition": "publish"}, format="json")
    assert published.status_code == 200 and published.json()["state"] == NeedState.PUBLISHED
    assert api(world.bank).post(url, {"transition": "close"}, format="json").status_code == 403
    options = api(world.head).get(url).json()
    assert {o["name"] for o in options} == {"close", "withdraw"} and all(o["permitted"] for o in options)


def test_the_api_lists_a_needs_matches_with_reasons_scoped_to_the_institution(world, api):
    need = draft(world)
    take(need, "submit", world.head)
    take(need, "publish", world.secretariat)
    mine = api(world.bank).get(f"/api/needs/{need.pk}/matches/").json()["results"]
    every = api(world.secretariat).get(f"/api/needs/{need.pk}/matches/").json()["results"]
    assert [row["product"] for row in mine] == [world.bank_product.pk]
    assert {row["product"] for row in every} == {world.bank_product.pk, world.other_product.pk}
    assert [reason["code"] for reason in mine[0]["reasons"]] == ["rate", "special_line", "amount", "region", "industry"]
    assert len(mine[0]["reason_texts"]) >= 7


def test_the_api_answers_404_for_ids_that_are_not_numbers(world, api):
    assert api(world.secretariat).get("/api/needs/abc/").status_code == 404
    assert api(world.secretariat).get("/api/products/abc/").status_code == 404


def test_the_api_scopes_products_to_an_institutions_own(world, api):
    rows = api(world.bank).get("/api/products/").json()["results"]
    assert [row["id"] for row in rows] == [world.bank_product.pk]
    assert api(world.bank).get(f"/api/products/{world.other_product.pk}/").status_code == 404
    assert api(world.owner).get("/api/products/").status_code == 403


def test_the_api_adds_changes_and_deactivates_a_product(world, api):
    client = api(world.bank)
    body = {
        "institution": world.bank_unit.pk,
        "name": "科技贷",
        "financing_type": "loan",
        "amount_min": "1000000.00",
        "amount_max": "50000000.00",
        "rate_min": "3.20",
        "rate_max": "3.80",
        "term_months_min": 12,
        "term_months_max": 60,
        "industries": ["new_materials"],
        "stages": ["docking"],
        "regions": [world.district.pk],
    }
    assert client.post("/api/products/", {**body, "institution": world.other_bank.pk}, format="json").status_code == 403
    bad = client.post("/api/products/", {**body, "amount_max": "10.00", "rate_max": "1.00"}, format="json")
    assert bad.status_code == 400 and {"amount_max", "rate_max"} <= set(bad.json())
    created = client.post("/api/products/", body, format="json")
    assert created.status_code == 201, created.content
    product_id = created.json()["id"]
    assert created.json()["industries"] == ["new_materials"] and created.json()["regions"] == [world.district.pk]
    changed = client.patch(
        f"/api/products/{product_id}/", {"industries": [], "version": created.json()["version"]}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["industries"] == []
    assert client.post(f"/api/products/{product_id}/deactivate/", {}, format="json").status_code == 200
    assert client.post(f"/api/products/{product_id}/deactivate/", {}, format="json").status_code == 409


def test_the_api_changes_a_product_with_the_version_read_and_answers_409_when_stale(world, api, rematches):
    # Given the bank's person read the product
    client = api(world.bank)
    url = f"/api/products/{world.bank_product.pk}/"
    read = client.get(url).json()
    assert read["version"] == 1

    # When they change it without a version, with the version read, and then twice more from it
    unversioned = client.patch(url, {"rate_max": "4.80"}, format="json")
    changed = client.patch(url, {"rate_max": "4.80", "version": 1}, format="json")
    stale_patch = client.patch(url, {"rate_max": "5.00", "version": 1}, format="json")
    body = {key: read[key] for key in ("institution", "name", "financing_type", "amount_min", "amount_max", "rate_min")}
    stale_put = client.put(
        url, {**body, "rate_max": "5.00", "term_months_min": 6, "term_months_max": 120, "version": 1}, format="json"
    )

    # Then only the change from the version read is saved and matched again; the stale ones get 409
    assert unversioned.status_code == 400 and "version" in unversioned.json()
    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert (stale_patch.status_code, stale_put.status_code) == (409, 409)
    assert stale_put.json()["code"] == "conflict"
    stored = FinancialProduct.objects.get(pk=world.bank_product.pk)
    assert (stored.rate_max, stored.version) == (Decimal("4.80"), 2)
    assert product_changes(stored) == 1
    assert rematches == [stored.pk]


def test_the_api_lists_the_needs_a_product_fits(world, api):
    need = in_state(world, NeedState.PUBLISHED)
    rows = api(world.bank).get(f"/api/products/{world.bank_product.pk}/needs/").json()["results"]
    assert [(row["id"], row["among_best"]) for row in rows] == [(need.pk, False)]
    assert Decimal(rows[0]["fit_score"]) > 0


# The demo


def test_seed_financing_seeds_institutions_products_and_needs_once(db, settings):
    # Given the demo city
    call_command("seed_demo", stdout=None)

    # When the financing demo is seeded twice
    call_command("seed_financing", stdout=None)
    before = (FinancialProduct.objects.count(), FinancingNeed.objects.count(), NeedMatch.objects.count(), Unit.objects.count())
    call_command("seed_financing", stdout=None)

    # Then it is there once: typed institutions with branches, products of every type, needs in every
    # state but the closed ones, matched, and the demo bank with products and matches
    assert (FinancialProduct.objects.count(), FinancingNeed.objects.count(), NeedMatch.objects.count(), Unit.objects.count()) == before
    institutions = Unit.objects.filter(kind=UnitKind.INSTITUTION)
    assert not institutions.filter(institution_type="").exists()
    assert institutions.filter(parent__isnull=False).count() >= 3
    assert 35 <= FinancialProduct.objects.count() <= 45
    assert set(FinancialProduct.objects.values_list("financing_type", flat=True)) == set(FinancingType.values)
    assert set(FinancialProduct.objects.exclude(special_line="").values_list("special_line", flat=True)) == {
        "specialized_sme",
        "sci_tech",
        "digital",
        "relending",
    }
    states = set(FinancingNeed.objects.values_list("state", flat=True))
    assert {NeedState.DRAFT, NeedState.SUBMITTED, NeedState.PUBLISHED} <= states
    assert not FinancingNeed.objects.exclude(project__stage__in=[Stage.DOCKING, Stage.FINANCING]).exists()
    bank = User.objects.get(username="bank").person.unit
    assert FinancialProduct.objects.filter(institution=bank).exists()
    assert NeedMatch.objects.filter(institution=bank).exists()
    assert AuditEvent.objects.filter(transition="publish").count() == FinancingNeed.objects.filter(state="published").count()
