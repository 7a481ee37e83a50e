"""The docking funnel: each step audited, version-checked and dated, its amounts validated field by
field, declined with a reason from any open step; who may move a docking (the secretariat, the
institution's own people, nobody else); opening a docking from a match and from an institution's
interest (once); the case guards reading need-based dockings; the docking page and the API, with
constant query counts."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cases import guards, permissions, services
from cases.financing import matching
from cases.financing import permissions as financing_permissions
from cases.financing import selectors as docking_selectors
from cases.financing import services as financing_services
from cases.financing.models import Docking, NeedState
from cases.models import AuditAction, AuditEvent, Role, Stage
from notifications.models import Notification
from tests.cases.factories import (
    DockingFactory,
    PersonFactory,
    PreworkItemFactory,
    set_stage,
    set_state,
)
from tests.cases.financing.factories import (
    FinancialProductFactory,
    FinancingNeedFactory,
    InstitutionFactory,
    publish_directly,
)

D = Decimal
NOW = timezone.make_aware(datetime.datetime(2026, 11, 18, 10, 0))
EARLIER = NOW - datetime.timedelta(days=20)
TODAY = datetime.date(2026, 11, 18)


def user(org, role):
    return getattr(org, role).user


def fresh(record):
    return type(record).objects.select_related("project", "need", "institution").get(pk=record.pk)


def events_of(docking):
    return AuditEvent.objects.filter(object_id=str(docking.pk), content_type__model="docking").order_by("pk")


@pytest.fixture
def project(org):
    return set_stage(org.project, Stage.DOCKING)


@pytest.fixture
def need(project):
    return publish_directly(FinancingNeedFactory(project=project, amount=D("30000000")))


@pytest.fixture
def other_bank(db):
    """Another institution with one person."""
    unit = InstitutionFactory(name="另一家银行")
    person = PersonFactory(user__username="other_bank", name="other_bank", unit=unit, role=Role.INSTITUTION)
    return person


def docking_in(org, need, state, **fields):
    docking = DockingFactory(project=need.project, need=need, institution=org.bank_unit, last_step_at=EARLIER, **fields)
    return set_state(docking, state)


# The steps, one by one

STEPS = {
    "contact": ("recommended", {}, "contacted", {}),
    "start_due_diligence": ("contacted", {}, "due_diligence", {}),
    "sign_intent": ("due_diligence", {"intent_amount": D("25000000")}, "intent_signed", {}),
    "sign_intent straight after contact": ("contacted", {"intent_amount": D("30000000")}, "intent_signed", {}),
    "approve_credit": ("intent_signed", {"credit_approved_amount": D("24000000")}, "credit_approved", {}),
    "disburse": (
        "credit_approved",
        {"disbursed_amount": D("10000000"), "disbursed_on": TODAY},
        "disbursed",
        {"credit_approved_amount": D("24000000")},
    ),
}


@pytest.mark.parametrize("actor", ["secretariat", "bank"])
@pytest.mark.parametrize("case", STEPS)
def test_each_step_moves_the_docking_dates_it_stores_its_amounts_and_writes_one_audit_event(org, need, case, actor):
    source, fields, target, preset = STEPS[case]
    docking = docking_in(org, need, source, **preset)
    name = case.split(" ")[0]

    with time_machine.travel(NOW, tick=False):
        financing_services.docking_transition(
            docking=fresh(docking), transition=name, actor=user(org, actor), fields=fields, expected_version=1
        )

    stored = fresh(docking)
    assert (stored.state, stored.version, stored.last_step_at) == (target, 2, NOW)
    for field, value in fields.items():
        assert getattr(stored, field) == value
    [event] = events_of(docking)
    assert (event.action, event.transition, event.from_state, event.to_state, event.actor) == (
        AuditAction.TRANSITION, name, source, target, user(org, actor)
    )


def test_a_step_tells_the_lead_unit_head_and_the_institutions_people_with_a_link_to_the_docking(org, need, other_bank):
    colleague = PersonFactory(unit=org.bank_unit, role=Role.INSTITUTION)
    docking = docking_in(org, need, "recommended")

    financing_services.docking_transition(docking=fresh(docking), transition="contact", actor=user(org, "bank"))

    told = Notification.objects.filter(key="docking_update")
    assert {n.recipient for n in told} == {org.head.user, colleague.user}  # not the actor, not another bank
    assert {n.link for n in told} == {reverse("financing:docking", args=[docking.pk])}


# The amounts, field by field

AMOUNTS = {
    "an intent without its amount": ("contacted", "sign_intent", {}, {}, ValidationError, "intent_amount"),
    "an intent of zero": ("contacted", "sign_intent", {"intent_amount": D("0")}, {}, ValidationError, "intent_amount"),
    "an intent above the need": (
        "contacted", "sign_intent", {"intent_amount": D("30000000.01")}, {}, ValidationError, "intent_amount"
    ),
    "credit without an amount": ("intent_signed", "approve_credit", {}, {}, services.TransitionBlocked, None),
    "negative credit": (
        "intent_signed", "approve_credit", {"credit_approved_amount": D("-1")}, {}, ValidationError, "credit_approved_amount"
    ),
    "disbursement above the credit": (
        "credit_approved",
        "disburse",
        {"disbursed_amount": D("24000000.01"), "disbursed_on": TODAY},
        {"credit_approved_amount": D("24000000")},
        services.TransitionBlocked,
        None,
    ),
    "disbursement dated tomorrow": (
        "credit_approved",
        "disburse",
        {"disbursed_amount": D("1000"), "disbursed_on": TODAY + datetime.timedelta(days=1)},
        {"credit_approved_amount": D("24000000")},
        ValidationError,
        "disbursed_on",
    ),
    "disbursement of zero": (
        "credit_approved",
        "disburse",
        {"disbursed_amount": D("-5"), "disbursed_on": TODAY},
        {"credit_approved_amount": D("24000000")},
        ValidationError,
        "disbursed_amount",
    ),
}


@pytest.mark.parametrize("case", AMOUNTS)
def test_a_step_with_a_wrong_amount_is_refused_by_field_and_changes_nothing(org, need, case):
    source, name, fields, preset, error, field = AMOUNTS[case]
    docking = docking_in(org, need, source, **preset)

    with time_machine.travel(NOW, tick=False), pytest.raises(error) as refused:
        financing_services.docking_transition(docking=fresh(docking), transition=name, actor=user(org, "secretariat"), fields=fields)

    if field is not None:
        assert field in refused.value.message_dict
    stored = fresh(docking)
    assert (stored.state, stored.version, stored.last_step_at) == (source, 1, EARLIER)
    assert not events_of(docking).exists()


# Declining

OPEN = ["recommended", "contacted", "due_diligence", "intent_signed", "credit_approved"]


@pytest.mark.parametrize("state", OPEN)
def test_a_docking_is_declined_with_its_reason_from_any_open_step(org, need, state):
    docking = docking_in(org, need, state)

    financing_services.docking_transition(docking=fresh(docking), transition="decline", actor=user(org, "bank"), reason=" 风险过高 ")

    stored = fresh(docking)
    assert (stored.state, stored.decline_reason) == ("declined", "风险过高")
    assert events_of(docking).get().reason == "风险过高"


@pytest.mark.parametrize("state", OPEN)
def test_declining_without_a_reason_is_refused_by_field(org, need, state):
    docking = docking_in(org, need, state)

    with pytest.raises(ValidationError) as refused:
        financing_services.docking_transition(docking=fresh(docking), transition="decline", actor=user(org, "secretariat"))

    assert list(refused.value.message_dict) == ["reason"]
    assert fresh(docking).state == state


@pytest.mark.parametrize("state", ["disbursed", "declined"])
def test_a_closed_docking_cannot_be_declined(org, need, state):
    docking = docking_in(org, need, state)

    with pytest.raises(services.TransitionNotAvailable):
        financing_services.docking_transition(docking=fresh(docking), transition="decline", actor=user(org, "secretariat"), reason="x")


# Wrong state, stale version

WRONG = {
    "contact twice": ("contacted", "contact", {}),
    "due diligence before contact": ("recommended", "start_due_diligence", {}),
    "intent before contact": ("recommended", "sign_intent", {"intent_amount": D("1000")}),
    "credit before the intent": ("due_diligence", "approve_credit", {"credit_approved_amount": D("1000")}),
    "disbursement before the credit": ("intent_signed", "disburse", {"disbursed_amount": D("1"), "disbursed_on": TODAY}),
}


@pytest.mark.parametrize("case", WRONG)
def test_a_step_that_does_not_start_from_the_state_is_not_available(org, need, case):
    state, name, fields = WRONG[case]
    docking = docking_in(org, need, state)

    with pytest.raises(services.TransitionNotAvailable):
        financing_services.docking_transition(docking=fresh(docking), transition=name, actor=user(org, "secretariat"), fields=fields)

    assert (fresh(docking).state, fresh(docking).version) == (state, 1)


def test_a_step_from_a_stale_version_is_a_conflict(org, need):
    docking = docking_in(org, need, "recommended")
    stale = fresh(docking)
    financing_services.docking_transition(docking=fresh(docking), transition="contact", actor=user(org, "secretariat"))

    with pytest.raises(services.Conflict):
        financing_services.docking_transition(docking=stale, transition="decline", actor=user(org, "bank"), reason="x")
    with pytest.raises(services.Conflict):
        financing_services.docking_transition(
            docking=fresh(docking), transition="start_due_diligence", actor=user(org, "bank"), expected_version=1
        )

    assert (fresh(docking).state, fresh(docking).version) == ("contacted", 2)


# Who may move a docking

MAY_MOVE = {"secretariat": True, "bank": True, "other_bank": False, "head": False, "staff": False, "supervisor": False,
            "leader": False, "owner": False}


@pytest.mark.parametrize("role", MAY_MOVE)
def test_only_the_secretariat_and_the_institutions_own_people_move_a_docking(org, need, other_bank, role):
    org.other_bank = other_bank
    docking = docking_in(org, need, "recommended")

    if MAY_MOVE[role]:
        financing_services.docking_transition(docking=fresh(docking), transition="contact", actor=user(org, role))
        assert fresh(docking).state == "contacted"
    else:
        with pytest.raises(PermissionDenied):
            financing_services.docking_transition(docking=fresh(docking), transition="contact", actor=user(org, role))
        assert fresh(docking).state == "recommended"


def test_a_branch_moves_the_dockings_of_its_own_unit_and_the_head_office_those_of_its_branches(org, need):
    branch = InstitutionFactory(name="开发银行江城支行", parent=org.bank_unit)
    teller = PersonFactory(unit=branch, role=Role.INSTITUTION)
    on_branch = set_state(DockingFactory(project=need.project, need=need, institution=branch), "recommended")
    on_head_office = docking_in(org, need, "recommended")

    financing_services.docking_transition(docking=fresh(on_branch), transition="contact", actor=user(org, "bank"))
    with pytest.raises(PermissionDenied):
        financing_services.docking_transition(docking=fresh(on_head_office), transition="contact", actor=teller.user)

    assert (fresh(on_branch).state, fresh(on_head_office).state) == ("contacted", "recommended")


# Opening a docking


def test_an_institution_expresses_interest_once_and_a_docking_opens_on_the_need(org, need):
    with time_machine.travel(NOW, tick=False):
        docking = financing_services.docking_express_interest(need=need, actor=user(org, "bank"))

    stored = fresh(docking)
    assert (stored.need, stored.project, stored.institution, stored.source, stored.state, stored.last_step_at) == (
        need, need.project, org.bank_unit, "interest", "recommended", NOW
    )
    [event] = events_of(docking)
    assert event.action == AuditAction.CREATED and event.changes["source"] == [None, "interest"]
    assert Notification.objects.filter(key="docking_update", recipient=org.head.user).count() == 1
    with pytest.raises(services.Conflict):
        financing_services.docking_express_interest(need=need, actor=user(org, "bank"))
    assert Docking.objects.count() == 1


@pytest.mark.parametrize("role", ["secretariat", "head", "owner", "supervisor"])
def test_only_an_institutions_people_express_interest(org, need, role):
    with pytest.raises(PermissionDenied):
        financing_services.docking_express_interest(need=need, actor=user(org, role))

    assert not Docking.objects.exists()


@pytest.mark.parametrize("state", [NeedState.DRAFT, NeedState.SUBMITTED, NeedState.CLOSED, NeedState.WITHDRAWN])
def test_interest_in_a_need_not_on_the_white_list_is_refused(org, need, state):
    set_state(need, state)

    with pytest.raises(ValidationError) as refused:
        financing_services.docking_express_interest(need=need, actor=user(org, "bank"))

    assert list(refused.value.message_dict) == ["need"]


def test_two_institutions_each_express_interest_in_the_same_need(org, need, other_bank):
    financing_services.docking_express_interest(need=need, actor=user(org, "bank"))
    financing_services.docking_express_interest(need=need, actor=other_bank.user)

    assert set(Docking.objects.values_list("institution", flat=True)) == {org.bank_unit.pk, other_bank.unit_id}


def test_the_secretariat_recommends_a_matched_products_institution(org, need):
    product = FinancialProductFactory(institution=org.bank_unit)

    docking = financing_services.docking_recommend(need=need, product=product, actor=user(org, "secretariat"))

    stored = fresh(docking)
    assert (stored.institution, stored.product, stored.source, stored.state) == (org.bank_unit, product, "match", "recommended")
    with pytest.raises(services.Conflict):
        financing_services.docking_recommend(need=need, institution=org.bank_unit, actor=user(org, "secretariat"))
    with pytest.raises(PermissionDenied):
        financing_services.docking_recommend(need=need, product=FinancialProductFactory(), actor=user(org, "head"))


# The case guards read need-based dockings


def test_the_case_moves_to_financing_only_once_a_need_based_docking_has_a_signed_intent(org, need):
    docking = docking_in(org, need, "due_diligence")
    assert guards.secure_financing(fresh(docking).project)

    financing_services.docking_transition(
        docking=fresh(docking), transition="sign_intent", actor=user(org, "bank"), fields={"intent_amount": D("20000000")}
    )

    assert guards.secure_financing(need.project.__class__.objects.get(pk=need.project_id)) == []


def test_a_declined_docking_does_not_count_for_the_move_to_financing(org, need):
    docking = docking_in(org, need, "intent_signed")
    financing_services.docking_transition(docking=fresh(docking), transition="decline", actor=user(org, "bank"), reason="撤回")

    assert guards.secure_financing(fresh(docking).project) != []


def _ready_for_construction(project):
    PreworkItemFactory(project=project, kind="construction_permit", state="done", done_on=TODAY)
    return set_stage(project, Stage.FINANCING, actual_start=TODAY, capital_gap=D("30000000"))


def _with_credit(org, need, amount, institution=None):
    docking = DockingFactory(
        project=need.project, need=need, institution=institution or org.bank_unit, credit_approved_amount=amount
    )
    return set_state(docking, "credit_approved")


def test_credit_approved_on_two_needs_that_covers_the_gap_lets_construction_start(org, need):
    project = _ready_for_construction(need.project)
    second = publish_directly(FinancingNeedFactory(project=project, amount=D("10000000")))
    _with_credit(org, need, D("20000000"))
    _with_credit(org, second, D("10000000"))

    assert guards.start_financed_construction(type(project).objects.get(pk=project.pk)) == []


def test_credit_short_of_the_gap_blocks_construction_unless_waived(org, need):
    project = _ready_for_construction(need.project)
    _with_credit(org, need, D("20000000"))
    set_state(
        DockingFactory(project=project, need=need, institution=InstitutionFactory(), credit_approved_amount=D("10000000")),
        "declined",
    )

    reasons = guards.start_financed_construction(type(project).objects.get(pk=project.pk))
    assert len(reasons) == 1 and "does not cover" in reasons[0]

    set_stage(project, Stage.FINANCING, financing_waiver_reason="市政府专题会议同意先行开工")
    assert guards.start_financed_construction(type(project).objects.get(pk=project.pk)) == []


def test_the_case_transition_itself_reads_the_need_based_docking(org, need):
    docking_in(org, need, "intent_signed", intent_amount=D("1000"))

    services.project_transition(project_id=need.project_id, transition="secure_financing", actor=user(org, "secretariat"))

    assert type(need.project).objects.get(pk=need.project_id).stage == Stage.FINANCING


# The docking's page


def test_the_docking_page_shows_the_funnel_with_dates_and_amounts_and_the_trail(org, need, client):
    docking = docking_in(org, need, "recommended")
    with time_machine.travel(NOW, tick=False):
        for name, fields in [("contact", {}), ("sign_intent", {"intent_amount": D("25000000")})]:
            financing_services.docking_transition(docking=fresh(docking), transition=name, actor=user(org, "bank"), fields=fields)
    client.force_login(user(org, "bank"))

    response = client.get(reverse("financing:docking", args=[docking.pk]))

    assert response.status_code == 200
    funnel = {step.state: step for step in response.context["funnel"]}
    assert [s for s, step in funnel.items() if step.reached] == ["recommended", "contacted", "intent_signed"]
    assert [s for s, step in funnel.items() if step.skipped] == ["due_diligence"]
    assert funnel["intent_signed"].amount == D("25000000") and funnel["intent_signed"].at == NOW
    assert [e.transition for e in response.context["trail"]] == ["contact", "sign_intent"]
    steps = {option.name for option, form, _reasons in response.context["steps"] if form is not None}
    assert steps == {"approve_credit", "decline"}
    assert "2,500.00" in response.content.decode()  # the intent in ten-thousand yuan


FUNNELS = {
    # (state set without a trail, steps taken through the services) -> reached, skipped
    "a docking older than its trail": ("credit_approved", [], OPEN, []),
    "contacted straight to an intent": (
        "recommended", [("contact", {}), ("sign_intent", {"intent_amount": D("1000")})],
        ["recommended", "contacted", "intent_signed"], ["due_diligence"],
    ),
    "declined after the intent": (
        "intent_signed", [("decline", {})], ["recommended", "contacted", "due_diligence", "intent_signed"], []
    ),
    "declined at once": ("recommended", [("decline", {})], ["recommended"], []),
}


@pytest.mark.parametrize("case", FUNNELS)
def test_the_funnel_says_which_steps_were_reached_and_which_skipped(org, need, case):
    state, taken, reached, skipped = FUNNELS[case]
    docking = docking_in(org, need, state)
    for name, fields in taken:
        financing_services.docking_transition(
            docking=fresh(docking), transition=name, actor=user(org, "secretariat"), fields=fields, reason="不再跟进"
        )
    docking = fresh(docking)

    steps = docking_selectors.funnel(docking, docking_selectors.docking_trail(docking))

    assert [s.state for s in steps if s.reached and s.state != "declined"] == reached
    assert [s.state for s in steps if s.skipped] == skipped
    assert (steps[-1].state == "declined") is (docking.state == "declined")


def test_the_bank_takes_a_step_on_the_page_in_ten_thousand_yuan(org, need, client):
    docking = docking_in(org, need, "intent_signed", intent_amount=D("25000000"))
    client.force_login(user(org, "bank"))

    response = client.post(
        reverse("financing:docking_step", args=[docking.pk]),
        {"transition": "approve_credit", "approve_credit-credit_approved_amount": "2400", "approve_credit-version": "1"},
    )

    assert response.status_code == 302 and response["Location"] == reverse("financing:docking", args=[docking.pk])
    stored = fresh(docking)
    assert (stored.state, stored.credit_approved_amount) == ("credit_approved", D("24000000.00"))


def test_a_refused_step_on_the_page_shows_the_guard_and_changes_nothing(org, need, client):
    docking = docking_in(org, need, "credit_approved", credit_approved_amount=D("24000000"))
    client.force_login(user(org, "secretariat"))
    url = reverse("financing:docking_step", args=[docking.pk])

    missing = client.post(url, {"transition": "disburse", "disburse-version": "1"})
    blocked = client.post(
        url,
        {
            "transition": "disburse", "disburse-disbursed_amount": "2500", "disburse-disbursed_on": "2026-11-02",
            "disburse-version": "1",
        },
    )
    unversioned = client.post(url, {"transition": "decline", "decline-reason": "x"})
    stale = client.post(url, {"transition": "decline", "decline-reason": "x", "decline-version": "0"})
    wrong = client.post(url, {"transition": "contact", "contact-version": "1"})

    assert missing.status_code == 400 and "disbursed_amount" in missing.context["bound"].errors
    assert blocked.status_code == 400
    assert "The disbursed amount exceeds the approved credit." in blocked.content.decode()
    assert stale.status_code == 409 and wrong.status_code == 409
    assert unversioned.status_code == 400 and "version" in unversioned.context["bound"].errors
    assert (fresh(docking).state, fresh(docking).version) == ("credit_approved", 1)


@pytest.mark.parametrize(
    "role,status",
    [("secretariat", 200), ("bank", 200), ("head", 200), ("supervisor", 200), ("other_bank", 404), ("other_head", 404),
     ("dept_head", 404), ("owner", 403)],
)
def test_the_docking_page_is_read_by_who_may_see_the_docking(org, need, other_bank, client, role, status):
    org.other_bank = other_bank
    docking = docking_in(org, need, "recommended")
    client.force_login(user(org, role))

    assert client.get(reverse("financing:docking", args=[docking.pk])).status_code == status


@pytest.mark.parametrize("role,status", [("head", 403), ("staff", 403), ("supervisor", 403), ("other_bank", 404)])
def test_a_step_posted_by_who_may_not_move_the_docking_is_refused(org, need, other_bank, client, role, status):
    org.other_bank = other_bank
    docking = docking_in(org, need, "recommended")
    client.force_login(user(org, role))

    response = client.post(reverse("financing:docking_step", args=[docking.pk]), {"transition": "contact"})

    assert response.status_code == status
    assert fresh(docking).state == "recommended"


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_docking_page_costs_the_same_queries_with_a_short_and_a_long_trail(org, need, client):
    short = docking_in(org, need, "recommended")
    long = DockingFactory(project=need.project, need=need, institution=InstitutionFactory())
    for name, fields in [
        ("contact", {}), ("start_due_diligence", {}), ("sign_intent", {"intent_amount": D("1000")}),
        ("approve_credit", {"credit_approved_amount": D("1000")}),
    ]:
        financing_services.docking_transition(docking=fresh(long), transition=name, actor=user(org, "secretariat"), fields=fields)
    client.force_login(user(org, "secretariat"))
    _queries(client, reverse("financing:docking", args=[short.pk]))  # warm the content type cache

    assert _queries(client, reverse("financing:docking", args=[short.pk])) == _queries(
        client, reverse("financing:docking", args=[long.pk])
    )


# Recommending a match from the need's page


@pytest.fixture
def matched(org, need, other_bank):
    """The need matched with a product of the bank and one of the other bank."""
    org.other_bank = other_bank
    org.bank_product = FinancialProductFactory(institution=org.bank_unit, name="开行项目贷")
    org.other_product = FinancialProductFactory(institution=other_bank.unit, name="他行项目贷")
    matching.match_need(need)
    return org


def need_page(client, need):
    return client.get(reverse("financing:need_detail", args=[need.pk]))


def recommend_url(need, product):
    return reverse("financing:need_recommend", args=[need.pk, product.pk])


def test_the_secretariat_is_offered_to_recommend_each_match(matched, need, client):
    client.force_login(user(matched, "secretariat"))

    html = need_page(client, need).content.decode()

    for product in (matched.bank_product, matched.other_product):
        assert f'href="{recommend_url(need, product)}"' in html


@pytest.mark.parametrize("role", ["supervisor", "head", "staff", "leader", "bank", "other_head", "owner"])
def test_nobody_else_is_offered_to_recommend_a_match(matched, need, client, role):
    client.force_login(user(matched, role))

    page = need_page(client, need)

    assert page.status_code == 200
    assert "data-recommend=" not in page.content.decode()
    assert page.context["can_recommend"] is False


def test_a_match_whose_institution_has_a_docking_shows_the_docking_instead(matched, need, client):
    docking = docking_in(matched, need, "contacted")
    client.force_login(user(matched, "secretariat"))

    html = need_page(client, need).content.decode()

    assert f'href="{recommend_url(need, matched.bank_product)}"' not in html
    assert f'data-match-docking="{docking.pk}"' in html
    assert f'href="{recommend_url(need, matched.other_product)}"' in html


def test_recommending_a_match_asks_to_confirm_and_opens_nothing_yet(matched, need, client):
    client.force_login(user(matched, "secretariat"))

    page = client.get(recommend_url(need, matched.bank_product))

    assert page.status_code == 200
    html = page.content.decode()
    assert matched.bank_unit.name in html and "开行项目贷" in html and 'name="note"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert not Docking.objects.exists()


def test_recommending_a_match_opens_its_docking_and_leads_to_it(matched, need, client):
    client.force_login(user(matched, "secretariat"))

    response = client.post(recommend_url(need, matched.bank_product), {"note": "该行有同类项目经验"})

    docking = Docking.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("financing:docking", args=[docking.pk])
    assert (docking.need, docking.institution, docking.product, docking.source, docking.state) == (
        need, matched.bank_unit, matched.bank_product, "match", "recommended"
    )
    [opened] = events_of(docking)
    assert (opened.action, opened.actor, opened.reason) == (AuditAction.CREATED, user(matched, "secretariat"), "该行有同类项目经验")
    told = Notification.objects.filter(key="docking_update", link=reverse("financing:docking", args=[docking.pk]))
    assert {n.recipient for n in told} == {matched.head.user, matched.bank.user}


def test_recommending_the_same_institution_again_says_its_docking_is_open(matched, need, client):
    client.force_login(user(matched, "secretariat"))
    url = recommend_url(need, matched.bank_product)
    client.post(url, {"note": ""})
    docking = Docking.objects.get()

    again = client.post(url, {"note": "再推荐一次"}, follow=True)

    assert again.redirect_chain == [(reverse("financing:docking", args=[docking.pk]), 302)]
    assert "This institution already has a docking for this need." in again.content.decode()
    assert Docking.objects.count() == 1 and events_of(docking).count() == 1


@pytest.mark.parametrize("role", ["bank", "other_head", "head", "supervisor", "owner"])
def test_who_may_not_open_dockings_is_refused_the_recommendation_with_403(matched, need, client, role):
    client.force_login(user(matched, role))
    url = recommend_url(need, matched.bank_product)

    shown, posted = client.get(url), client.post(url, {"note": ""})

    assert (shown.status_code, posted.status_code) == (403, 403)
    assert not Docking.objects.exists()


def test_a_recommendation_posted_without_the_csrf_token_opens_nothing(matched, need):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user(matched, "secretariat"))

    response = client.post(recommend_url(need, matched.bank_product), {"note": ""})

    assert response.status_code == 403
    assert not Docking.objects.exists()


def test_a_product_that_is_not_among_the_needs_matches_is_not_recommended_here(matched, need, client):
    stranger = FinancialProductFactory(financing_type="lease")
    client.force_login(user(matched, "secretariat"))

    response = client.post(recommend_url(need, stranger), {"note": ""}, follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("financing:need_detail", args=[need.pk]))
    assert "is not among the need&#x27;s best matches" in response.content.decode()
    assert not Docking.objects.exists()


def _page_queries(client, url):
    client.get(url)  # warm the caches a running server has
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("role", ["secretariat", "head", "owner"])
def test_the_need_page_costs_the_same_queries_with_few_and_many_matches_and_dockings(org, need, client, role):
    # Given two products that fit the need, one of them docked
    products = [FinancialProductFactory() for _index in range(2)]
    matching.match_need(need)
    DockingFactory(project=need.project, need=need, institution=products[0].institution, product=products[0])
    client.force_login(user(org, role))
    url = reverse("financing:need_detail", args=[need.pk])
    few = _page_queries(client, url)

    # When ten fit it, seven of them docked by the secretariat through the page's service
    products += [FinancialProductFactory() for _index in range(8)]
    matching.match_need(need)
    for product in products[1:7]:
        financing_services.docking_recommend(need=need, product=product, actor=user(org, "secretariat"), note="推荐")

    # Then the page costs what it did
    assert _page_queries(client, url) == few
    assert Docking.objects.filter(need=need).count() == 7


# The API


@pytest.fixture
def api():
    def as_(person):
        client = APIClient()
        client.force_authenticate(person.user)
        return client

    return as_


def test_the_bank_lists_its_own_dockings_only(org, need, other_bank, api):
    mine = docking_in(org, need, "recommended")
    DockingFactory(project=need.project, need=need, institution=other_bank.unit)

    response = api(org.bank).get("/api/dockings/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]


def test_the_api_moves_a_docking_and_answers_409_for_a_wrong_state_or_a_stale_version(org, need, api):
    docking = docking_in(org, need, "recommended")
    url = f"/api/dockings/{docking.pk}/transitions/"

    moved = api(org.bank).post(url, {"transition": "contact", "version": 1}, format="json")
    stale = api(org.bank).post(url, {"transition": "start_due_diligence", "version": 1}, format="json")
    wrong = api(org.bank).post(url, {"transition": "contact"}, format="json")
    amounts = api(org.bank).post(url, {"transition": "sign_intent", "intent_amount": "0"}, format="json")

    assert moved.status_code == 200 and moved.json()["state"] == "contacted" and moved.json()["version"] == 2
    assert [step["state"] for step in moved.json()["funnel"] if step["reached"]] == ["recommended", "contacted"]
    assert stale.status_code == 409 and wrong.status_code == 409
    assert amounts.status_code == 400 and "intent_amount" in amounts.json()


@pytest.mark.parametrize("role,status", [("head", 403), ("supervisor", 403), ("other_bank", 404), ("dept_head", 404)])
def test_the_api_refuses_a_step_to_who_may_not_move_the_docking(org, need, other_bank, api, role, status):
    org.other_bank = other_bank
    docking = docking_in(org, need, "recommended")

    response = api(getattr(org, role)).post(f"/api/dockings/{docking.pk}/transitions/", {"transition": "contact"}, format="json")

    assert response.status_code == status
    assert fresh(docking).state == "recommended"


def test_the_api_opens_a_docking_on_interest_once(org, need, api):
    first = api(org.bank).post("/api/dockings/interest/", {"need": need.pk}, format="json")
    second = api(org.bank).post("/api/dockings/interest/", {"need": need.pk}, format="json")
    by_the_secretariat = api(org.secretariat).post("/api/dockings/interest/", {"need": need.pk}, format="json")

    assert first.status_code == 201 and first.json()["source"] == "interest"
    assert second.status_code == 409 and by_the_secretariat.status_code == 403
    assert Docking.objects.count() == 1


def test_the_api_recommends_a_matched_product_with_a_note_once_and_for_the_secretariat_only(matched, need, api):
    body = {"need": need.pk, "product": matched.bank_product.pk, "note": "该行有同类项目经验"}

    refused = api(matched.head).post("/api/dockings/recommend/", body, format="json")
    first = api(matched.secretariat).post("/api/dockings/recommend/", body, format="json")
    second = api(matched.secretariat).post("/api/dockings/recommend/", body, format="json")

    assert refused.status_code == 403
    assert first.status_code == 201 and (first.json()["source"], first.json()["product"]) == ("match", matched.bank_product.pk)
    assert first.json()["trail"][0]["reason"] == "该行有同类项目经验"
    assert second.status_code == 409
    assert Docking.objects.count() == 1


def test_a_non_numeric_docking_id_is_not_found(org, api):
    assert api(org.secretariat).get("/api/dockings/abc/").status_code == 404


def _api_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("role", ["secretariat", "bank", "head"])
def test_the_docking_list_costs_the_same_queries_for_two_and_twenty_dockings(org, project, api, role):
    client = api(getattr(org, role))
    for _ in range(2):
        docking_in(org, publish_directly(FinancingNeedFactory(project=project)), "contacted")
    _api_queries(client, "/api/dockings/")  # the user's institutions are read once and kept on the user
    small = _api_queries(client, "/api/dockings/")
    for _ in range(18):
        docking_in(org, publish_directly(FinancingNeedFactory(project=project)), "contacted")

    assert _api_queries(client, "/api/dockings/") == small


def test_permissions_let_an_institution_take_only_the_funnel_steps(org, need):
    docking = docking_in(org, need, "recommended")

    assert {name for name in financing_permissions.INSTITUTION_DOCKING_TRANSITIONS if permissions.can_transition(org.bank.user, docking, name)} == set(
        financing_permissions.INSTITUTION_DOCKING_TRANSITIONS
    )
