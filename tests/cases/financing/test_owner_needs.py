"""A project owner (an enterprise) and its financing needs (DESIGN 1 and 7): it reads its own cases'
needs in every state from the case page and its own list, drafts and submits them while the case
is in financing docking or financing, takes them back before they are published, and reads the
note of a need sent back; the secretariat reviews. It reaches no other enterprise's needs, no
products or matches, no docking page, nothing of the white list, on the pages and in the API.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cases.financing import matching
from cases.financing import services as financing_services
from cases.financing.models import Docking, FinancialProduct, FinancingNeed, NeedMatch, NeedState
from cases.models import AuditEvent, KeyProject, Stage, UnitKind
from notifications.models import Notification
from tests.cases.factories import DockingFactory, KeyProjectFactory, UnitFactory, set_stage
from tests.cases.financing.factories import (
    FinancialProductFactory,
    FinancingNeedFactory,
    publish_directly,
)

M = Decimal("1000000")
# What only the other enterprise's need and the world's product say: never shown to the owner.
OTHER_PURPOSE = "机密-他家企业的融资用途"
PRODUCT_NAME = "机密-开行项目贷"


@pytest.fixture
def world(org):
    """``org.project`` (owned by the enterprise, led by the park) and ``org.other_project`` (owned by
    another enterprise), both in financing docking; a published need of the other, a product of the
    bank that fits needs."""
    set_stage(org.project, Stage.DOCKING)
    org.other_enterprise = UnitFactory(name="他家企业", kind=UnitKind.ENTERPRISE)
    KeyProject.objects.filter(pk=org.other_project.pk).update(owner=org.other_enterprise)
    set_stage(org.other_project, Stage.DOCKING)
    org.other_need = publish_directly(FinancingNeedFactory(project=org.other_project, purpose=OTHER_PURPOSE))
    org.other_draft = FinancingNeedFactory(project=org.other_project, purpose=OTHER_PURPOSE)
    org.product = FinancialProductFactory(institution=org.bank_unit, name=PRODUCT_NAME)
    return org


def need_data(**overrides):
    data = {
        "amount": 20 * M,
        "financing_type": "loan",
        "purpose": "新建产线设备购置",
        "term_months": 36,
        "deadline": timezone.localdate() + datetime.timedelta(days=90),
        "collateral": "厂房抵押",
    }
    data.update(overrides)
    return data


def form_data(**overrides):
    """The need form as a person fills it in: the amount in ten-thousand yuan."""
    data = {**need_data(), "amount": "2000", "deadline": need_data()["deadline"].isoformat()}
    data.update(overrides)
    return data


def reload(need):
    return FinancingNeed.objects.select_related("project").get(pk=need.pk)


def owners_draft(world, **overrides):
    return financing_services.need_create(project=world.project, actor=world.owner.user, data=need_data(**overrides))


def in_state(world, state):
    need = FinancingNeedFactory(project=world.project)
    if state == NeedState.PUBLISHED:
        return publish_directly(need)
    FinancingNeed.objects.filter(pk=need.pk).update(state=state)
    return reload(need)


def as_owner(client, world):
    client.force_login(world.owner.user)
    return client


# The case page and the need's page


def test_an_owner_opens_its_cases_needs_from_the_case_page(world, client):
    # Given a published need of its case, matched, with a docking of the bank
    need = in_state(world, NeedState.PUBLISHED)
    matching.match_need(need)
    docking = DockingFactory(project=world.project, need=need, institution=world.bank_unit)
    client = as_owner(client, world)

    # When the owner reads its case page and follows the need's link
    case_page = client.get(reverse("cases:projects:detail", args=[world.project.pk])).content.decode()
    page = client.get(reverse("financing:need_detail", args=[need.pk]))

    # Then the need opens with its state and its dockings, and nothing of the products or the review
    assert f'href="{reverse("financing:need_detail", args=[need.pk])}"' in case_page
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-state="published"' in html and world.bank_unit.name in html
    assert f'data-docking="{docking.pk}"' in html
    assert reverse("financing:docking", args=[docking.pk]) not in html  # the docking page is not theirs
    assert 'id="matches"' not in html and PRODUCT_NAME not in html
    assert 'id="timeline"' not in html and 'id="need-lead-unit"' not in html
    assert f'href="{reverse("financing:own_needs")}"' in html
    assert page.context["case_url"] == reverse("cases:projects:detail", args=[world.project.pk])


def test_an_owner_drafts_and_submits_a_need_on_the_pages_and_the_secretariat_is_asked_to_review(world, client):
    client = as_owner(client, world)
    case_page = client.get(reverse("cases:projects:detail", args=[world.project.pk])).content.decode()
    assert f'href="{reverse("financing:need_add", args=[world.project.pk])}"' in case_page

    # When the owner drafts a need, changes it, and submits it
    drafted = client.post(reverse("financing:need_add", args=[world.project.pk]), form_data())
    need = FinancingNeed.objects.get(project=world.project)
    changed = client.post(
        reverse("financing:need_change", args=[need.pk]), form_data(amount="2500", version=need.version)
    )
    submitted = client.post(
        reverse("financing:need_transition", args=[need.pk, "submit"]), {"version": reload(need).version}
    )

    # Then the need is submitted as the owner wrote it, audited, and the secretariat is asked to review it
    assert (drafted.status_code, changed.status_code, submitted.status_code) == (302, 302, 302)
    need = reload(need)
    assert (need.state, need.amount, need.created_by) == (NeedState.SUBMITTED, 25 * M, world.owner.user)
    trail = AuditEvent.objects.filter(object_id=str(need.pk), content_type__model="financingneed").order_by("pk")
    assert [(e.action, e.transition, e.actor) for e in trail] == [
        ("created", "", world.owner.user),
        ("updated", "", world.owner.user),
        ("transition", "submit", world.owner.user),
    ]
    assert Notification.objects.filter(recipient=world.secretariat.user, key="need_submitted").exists()


def test_the_owner_is_told_when_its_need_is_sent_back_and_reads_the_note(world, client):
    # Given a need the owner drafted and submitted
    need = owners_draft(world)
    financing_services.need_transition(need=reload(need), transition="submit", actor=world.owner.user)

    # When the secretariat sends it back with a note
    financing_services.need_transition(
        need=reload(need), transition="return", actor=world.secretariat.user, reason="请补充抵押物评估价值"
    )

    # Then the owner is told, and its need's page shows the note and lets it change the draft
    assert Notification.objects.filter(recipient=world.owner.user, key="need_reviewed").exists()
    page = as_owner(client, world).get(reverse("financing:need_detail", args=[need.pk]))
    assert "请补充抵押物评估价值" in page.content.decode()
    assert page.context["can_change"] is True


# Who may take which step: the owner drafts, submits and takes back before publication.
OWNER_STEPS = [
    ("submit", NeedState.DRAFT, True),
    ("withdraw", NeedState.DRAFT, True),
    ("withdraw", NeedState.SUBMITTED, True),
    ("publish", NeedState.SUBMITTED, False),
    ("return", NeedState.SUBMITTED, False),
    ("close", NeedState.PUBLISHED, False),
    ("withdraw", NeedState.PUBLISHED, False),
]


@pytest.mark.parametrize("step, state, allowed", OWNER_STEPS, ids=[f"{s}-{st}" for s, st, _a in OWNER_STEPS])
def test_the_steps_an_owner_may_take_on_its_own_need(world, step, state, allowed):
    # Given its case's need in the step's starting state
    need = in_state(world, state)

    # When the owner takes the step
    if allowed:
        after = financing_services.need_transition(need=reload(need), transition=step, actor=world.owner.user, reason="企业调整")
        # Then it is taken
        assert after.state == financing_services.needs.NEED_STEPS[step].target
    else:
        with pytest.raises(PermissionDenied):
            financing_services.need_transition(need=reload(need), transition=step, actor=world.owner.user, reason="企业调整")
        # Then it is refused and nothing changed
        assert reload(need).state == state
        assert not AuditEvent.objects.filter(object_id=str(need.pk), transition=step).exists()


def test_an_owner_changes_its_need_only_while_it_is_a_draft(world):
    need = in_state(world, NeedState.SUBMITTED)

    with pytest.raises(financing_services.WrongState):
        financing_services.need_update(need=reload(need), actor=world.owner.user, data={"amount": 30 * M})

    assert reload(need).amount == 20 * M


def test_an_owner_writes_needs_only_while_its_case_seeks_financing(world, client):
    set_stage(world.project, Stage.PREWORK)
    client = as_owner(client, world)

    case_page = client.get(reverse("cases:projects:detail", args=[world.project.pk])).content.decode()
    form = client.get(reverse("financing:need_add", args=[world.project.pk]))
    with pytest.raises(PermissionDenied):
        owners_draft(world)

    assert 'id="need-add"' not in case_page and form.status_code == 403
    assert not FinancingNeed.objects.filter(project=world.project).exists()


def test_another_enterprises_needs_are_out_of_an_owners_reach(world, client):
    client = as_owner(client, world)
    before = list(FinancingNeed.objects.order_by("pk").values())

    answers = [
        client.get(reverse("financing:need_detail", args=[world.other_need.pk])).status_code,
        client.get(reverse("financing:need_change", args=[world.other_draft.pk])).status_code,
        client.post(reverse("financing:need_transition", args=[world.other_draft.pk, "submit"])).status_code,
        client.get(reverse("financing:need_add", args=[world.other_project.pk])).status_code,
        client.post(reverse("financing:need_add", args=[world.other_project.pk]), form_data()).status_code,
    ]
    with pytest.raises(PermissionDenied):
        financing_services.need_create(project=world.other_project, actor=world.owner.user, data=need_data())

    assert answers == [404] * 5
    assert list(FinancingNeed.objects.order_by("pk").values()) == before


# The owner's own list of needs


def test_the_financing_menu_leads_an_owner_to_its_own_needs(world, client):
    client = as_owner(client, world)

    home = client.get("/").content.decode()
    index = client.get(reverse("financing:index"))
    page = client.get(reverse("financing:own_needs")).content.decode()

    assert 'href="/financing/"' in home
    assert index.status_code == 302 and index["Location"] == reverse("financing:own_needs")
    assert 'id="menu-own-needs"' in page
    assert 'id="menu-white-list"' not in page and 'id="menu-products"' not in page


def test_an_owners_list_holds_its_cases_needs_in_every_state_and_where_it_may_add_one(world, client):
    # Given needs of its case in several states, and a case of its enterprise still in pre-work
    mine = [in_state(world, state) for state in (NeedState.DRAFT, NeedState.SUBMITTED, NeedState.PUBLISHED)]
    in_prework = set_stage(KeyProjectFactory(owner=world.enterprise, lead_unit=world.park), Stage.PREWORK)

    page = as_owner(client, world).get(reverse("financing:own_needs"))

    assert {need.pk for need in page.context["page"].object_list} == {need.pk for need in mine}
    assert [project.pk for project in page.context["projects"]] == [world.project.pk]
    html = page.content.decode()
    assert OTHER_PURPOSE not in html and in_prework.code not in html
    assert 'data-state="submitted"' in html


@pytest.mark.parametrize("role", ["secretariat", "head", "bank", "supervisor"])
def test_the_own_needs_list_is_for_owners_only(world, client, role):
    client.force_login(getattr(world, role).user)

    assert client.get(reverse("financing:own_needs")).status_code == 403


def _queries(client, url):
    client.get(url)  # warm the caches a running server has
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_own_needs_list_costs_the_same_queries_with_few_and_many_needs_and_cases(world, client):
    client = as_owner(client, world)
    in_state(world, NeedState.DRAFT)
    few = _queries(client, reverse("financing:own_needs"))

    for _index in range(12):
        project = set_stage(KeyProjectFactory(owner=world.enterprise, lead_unit=world.park), Stage.FINANCING)
        for state in (NeedState.DRAFT, NeedState.PUBLISHED, NeedState.WITHDRAWN):
            FinancingNeed.objects.filter(pk=FinancingNeedFactory(project=project).pk).update(state=state)

    assert _queries(client, reverse("financing:own_needs")) == few


# Every page of the Financing application


OWNER_OPEN = {
    # route: the objects its address names
    "financing:index": {},
    "financing:own_needs": {},
    "financing:need_detail": {"pk": "draft"},
    "financing:need_add": {"project_pk": "project"},
    "financing:need_change": {"pk": "draft"},
    "financing:need_transition": {"pk": "draft", "name": "submit"},
}
# The same addresses with the other enterprise's objects.
OTHERS = {"draft": "other_draft", "project": "other_project"}


def financing_routes():
    """(name, its parameters) of every route of the Financing application."""

    def find(resolver):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "financing":
                    return entry
                found = find(entry)
                if found is not None:
                    return found
        return None

    def routes(resolver, converters):
        for entry in resolver.url_patterns:
            found = {**converters, **entry.pattern.converters}
            if isinstance(entry, URLResolver):
                yield from routes(entry, found)
            else:
                yield f"financing:{entry.name}", list(found)

    return list(routes(find(get_resolver()), {}))


def denied_kwargs(name, params, objects):
    """An address of a route an owner may not use, named with what is closest to its own: its case's
    docking, the bank's product, an event, its case's published need."""
    kind = "docking" if "docking" in name else "product" if "product" in name else "event" if "event" in name else "need"
    values = {"pk": objects[kind], "product_pk": objects["product"], "project_pk": objects["project"], "name": "submit"}
    return {param: values[param] for param in params}


def test_an_owner_reaches_its_own_needs_pages_and_nothing_else_of_financing(world, client):
    from cases.financing.models import MatchmakingEvent

    need = in_state(world, NeedState.PUBLISHED)
    matching.match_need(need)
    objects = {
        "draft": in_state(world, NeedState.DRAFT).pk,
        "project": world.project.pk,
        "other_draft": world.other_draft.pk,
        "other_project": world.other_project.pk,
        "need": need.pk,
        "docking": DockingFactory(project=world.project, need=need, institution=world.bank_unit).pk,
        "product": world.product.pk,
        "event": MatchmakingEvent.objects.create(
            title="路演", chain="new_materials", starts_at=timezone.now(), ends_at=timezone.now(), place="会展中心"
        ).pk,
    }
    client = as_owner(client, world)
    fingerprint = [
        list(model.objects.order_by("pk").values()) for model in (FinancingNeed, Docking, FinancialProduct, NeedMatch)
    ]
    failures = []
    routes = financing_routes()
    assert set(OWNER_OPEN) <= {name for name, _params in routes}
    for name, params in routes:
        if name in OWNER_OPEN:
            own = reverse(name, kwargs={k: objects.get(v, v) for k, v in OWNER_OPEN[name].items()})
            response = client.get(own)
            if response.status_code not in (200, 302):
                failures.append(("GET", own, response.status_code))
            if params:
                others = {k: objects.get(OTHERS.get(v, v), v) for k, v in OWNER_OPEN[name].items()}
                other = reverse(name, kwargs=others)
                for method in ("get", "post"):
                    response = getattr(client, method)(other)
                    if response.status_code not in (404, 405) or OTHER_PURPOSE in response.content.decode():
                        failures.append((method.upper(), other, response.status_code))
            continue
        url = reverse(name, kwargs=denied_kwargs(name, params, objects))
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            body = response.content.decode(errors="replace")
            if response.status_code not in (403, 404, 405) or OTHER_PURPOSE in body or PRODUCT_NAME in body:
                failures.append((method.upper(), url, response.status_code))

    assert failures == []
    assert [
        list(model.objects.order_by("pk").values()) for model in (FinancingNeed, Docking, FinancialProduct, NeedMatch)
    ] == fingerprint


# The API


@pytest.fixture
def api(world):
    client = APIClient()
    client.force_authenticate(world.owner.user)
    return client


def test_the_api_gives_an_owner_its_own_cases_needs_in_every_state_and_nothing_more(world, api):
    draft = owners_draft(world)
    financing_services.need_transition(need=reload(draft), transition="submit", actor=world.owner.user)
    financing_services.need_transition(need=reload(draft), transition="return", actor=world.secretariat.user, reason="补充材料")
    published = in_state(world, NeedState.PUBLISHED)

    white_list = api.get("/api/needs/").json()["results"]
    drafts = api.get("/api/needs/", {"state": "draft"}).json()["results"]
    mine = api.get(f"/api/needs/{draft.pk}/").json()

    assert [row["id"] for row in white_list] == [published.pk]  # not the other enterprise's published need
    assert [row["id"] for row in drafts] == [draft.pk]
    assert (mine["review_note"], mine["lead_unit_name"]) == ("补充材料", None)
    assert api.get(f"/api/needs/{world.other_need.pk}/").status_code == 404
    assert api.get(f"/api/needs/{published.pk}/matches/").status_code == 403
    assert api.get("/api/products/").status_code == 403


def test_an_owner_drafts_changes_and_submits_its_need_through_the_api(world, api):
    body = {**need_data(), "deadline": need_data()["deadline"].isoformat()}

    elsewhere = api.post("/api/needs/", {**body, "project": world.other_project.pk}, format="json")
    created = api.post("/api/needs/", {**body, "project": world.project.pk}, format="json")
    url = f"/api/needs/{created.json()['id']}/"
    changed = api.patch(url, {"amount": "25000000.00", "version": created.json()["version"]}, format="json")
    submitted = api.post(f"{url}transitions/", {"transition": "submit", "version": changed.json()["version"]}, format="json")
    published = api.post(f"{url}transitions/", {"transition": "publish"}, format="json")

    assert elsewhere.status_code == 400 and "project" in elsewhere.json()
    assert (created.status_code, changed.status_code, submitted.status_code) == (201, 200, 200)
    assert submitted.json()["state"] == NeedState.SUBMITTED and published.status_code == 403
    assert FinancingNeed.objects.get(pk=created.json()["id"]).amount == 25 * M
