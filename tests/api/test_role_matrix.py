"""The API permission matrix: every role against every endpoint and every object it must not reach.

The world is the organisation of ``OrgFactory`` with one pre-work item, one blocker, one
docking and one draft financing need on each of its two projects. ``org.project`` is led by the park, owned by the
enterprise, with ``org.leader`` responsible; ``org.other_project`` is led by the other
district, for which ``org.other_leader`` answers. Both are in pre-work with a capital gap,
so the lead unit's head may open financing docking.

Each row says what a role gets: the data it may see, 403 where its role or unit may not act,
404 (or, for an object named in a request body, "does not exist") where the object is
outside what it may see, and never the data of an object it must not reach. A refused write
changes nothing.
"""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases.financing.models import Docking, FinancingNeed
from cases.models import AuditEvent, Blocker, KeyProject, Person, PreworkItem, Unit
from tests.cases.factories import (
    PASSWORD,
    BlockerFactory,
    DockingFactory,
    OrgFactory,
    PreworkItemFactory,
    set_stage,
    set_state,
)
from tests.cases.financing.factories import FinancingNeedFactory

ROLES = [
    "secretariat",
    "supervisor",
    "leader",
    "other_leader",
    "head",
    "staff",
    "dept_head",
    "other_head",
    "bank",
    "owner",
]
# Callers who are no role at all: nobody logged in, and a login without a person record.
NOT_ROLES = ["anonymous", "no_person"]
TARGETS = ["project", "other_project"]

# The projects each role may see (every record follows its project); None: no case access.
VISIBLE = {
    "secretariat": {"project", "other_project"},
    "supervisor": {"project", "other_project"},
    "leader": {"project"},
    "other_leader": {"other_project"},
    "head": {"project"},
    "staff": {"project"},
    "dept_head": set(),
    "other_head": {"other_project"},
    "bank": None,
    "owner": {"project"},
    "anonymous": None,
    "no_person": None,
}
# Who may read the organisation directory (units and people).
DIRECTORY = {
    "secretariat",
    "supervisor",
    "leader",
    "other_leader",
    "head",
    "staff",
    "dept_head",
    "other_head",
}
# What each role may do, per write, on which project's objects.
MAY = {
    "create_project": {"secretariat"},
    "edit_project": {
        "secretariat": {"project", "other_project"},
        "head": {"project"},
        "staff": {"project"},
        "other_head": {"other_project"},
    },
    "open_docking": {
        "secretariat": {"project", "other_project"},
        "head": {"project"},
        "other_head": {"other_project"},
    },
    "suspend": {"secretariat": {"project", "other_project"}},
    "add_prework": {
        "secretariat": {"project", "other_project"},
        "head": {"project"},
        "staff": {"project"},
        "other_head": {"other_project"},
    },
    "edit_prework": {
        "secretariat": {"project", "other_project"},
        "head": {"project"},
        "staff": {"project"},
        "other_head": {"other_project"},
    },
    "start_prework": {
        "secretariat": {"project", "other_project"},
        "head": {"project"},
        "staff": {"project"},
        "other_head": {"other_project"},
    },
    "report_blocker": {
        "secretariat": {"project", "other_project"},
        "head": {"project"},
        "staff": {"project"},
        "other_head": {"other_project"},
        "owner": {"project"},
    },
    # The world's blockers were reported by nobody in it: only the secretariat may edit them.
    "edit_blocker": {"secretariat": {"project", "other_project"}},
    # The blockers are assigned to the projects' lead units, whose people may resolve them.
    "resolve_blocker": {
        "secretariat": {"project", "other_project"},
        "head": {"project"},
        "staff": {"project"},
        "other_head": {"other_project"},
    },
    "contact_docking": {"secretariat": {"project", "other_project"}, "bank": {"project", "other_project"}},
    # The needs' cases are in pre-work: their lead units and owners write needs only once a case
    # is in financing docking or financing, the secretariat always.
    "withdraw_need": {"secretariat": {"project", "other_project"}},
}

OK, DENIED, HIDDEN, HIDDEN_IN_BODY = "ok", "denied", "hidden", "hidden_in_body"

# Every test runs in its own savepoint inside the module's world.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at its end.

    Each test runs in a savepoint inside it, so the writes of one test never reach another.
    """
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with override_settings(
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
            ):
                yield _build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _build_world():
    org = OrgFactory.create()
    w = SimpleNamespace(org=org, users={}, tokens={})
    for role in ROLES:
        user = getattr(org, role).user
        w.users[role] = user
        w.tokens[role] = Token.objects.create(user=user).key
    no_person = User.objects.create_user("no_person", password=PASSWORD)
    w.users["no_person"] = no_person
    w.tokens["no_person"] = Token.objects.create(user=no_person).key

    lead_units = {"project": org.park, "other_project": org.other_unit}
    w.projects, w.codes, w.blocker_titles = {}, {}, {}
    w.prework, w.blockers, w.dockings, w.needs = {}, {}, {}, {}
    for target in TARGETS:
        project = set_stage(getattr(org, target), "prework")
        w.projects[target] = project.pk
        w.codes[target] = project.code
        # Not required, so that it does not hold the case back from financing docking.
        w.prework[target] = PreworkItemFactory(
            project=project, approving_unit=lead_units[target], required=False
        ).pk
        blocker = BlockerFactory(
            project=project, lead_unit=lead_units[target], title=f"{project.code} 用地问题"
        )
        w.blockers[target] = set_state(blocker, "assigned").pk
        w.blocker_titles[target] = blocker.title
        w.dockings[target] = DockingFactory(project=project, institution=org.bank_unit).pk
        w.needs[target] = FinancingNeedFactory(project=project, purpose=f"{project.code} 设备购置").pk
    w.unit_ids = set(Unit.objects.values_list("pk", flat=True))
    w.person_ids = set(Person.objects.values_list("pk", flat=True))
    return w


def client_for(w, role):
    client = APIClient()
    if role != "anonymous":
        client.credentials(HTTP_AUTHORIZATION=f"Token {w.tokens[role]}")
    return client


def visible_to(role, dockings=False, needs=False):
    """The targets ``role`` may see; both dockings are with the bank's institution, so the bank
    reads and moves them (its own), and nothing else of the cases. The bank reads the white list,
    but the needs are drafts: none of them is in its sight."""
    if dockings and role == "bank":
        return set(TARGETS)
    if needs and role == "bank":
        return set()
    return VISIBLE[role]


def expected(role, target, permission=None, in_body=False, dockings=False, needs=False):
    """What ``role`` should get from an endpoint on ``target``'s objects."""
    visible = visible_to(role, dockings, needs)
    if visible is None:
        return DENIED
    if target not in visible:
        return HIDDEN_IN_BODY if in_body else HIDDEN
    if permission is None:
        return OK
    allowed = MAY[permission]
    if isinstance(allowed, set):
        return OK if role in allowed else DENIED
    return OK if target in allowed.get(role, set()) else DENIED


def state_of_world(w):
    """Everything a refused request must leave as it was."""
    return {
        "projects": sorted(KeyProject.objects.values_list("pk", "version", "stage", "name")),
        "prework": sorted(PreworkItem.objects.values_list("pk", "version", "state", "note")),
        "blockers": sorted(Blocker.objects.values_list("pk", "version", "state", "description")),
        "dockings": sorted(Docking.objects.values_list("pk", "version", "state")),
        "needs": sorted(FinancingNeed.objects.values_list("pk", "version", "state", "amount")),
        "audit": AuditEvent.objects.count(),
    }


def assert_outcome(response, outcome, *, w, target, ok_status=200):
    body = response.content.decode()
    if outcome == OK:
        assert response.status_code == ok_status, body
        return
    if outcome == DENIED:
        assert response.status_code == 403, body
    elif outcome == HIDDEN:
        assert response.status_code == 404, body
    elif outcome == HIDDEN_IN_BODY:
        # Answered exactly as for a project that does not exist: nothing tells them apart.
        assert response.status_code == 400, body
        pk = w.projects[target]
        assert response.json() == {"project": [f'Invalid pk "{pk}" - object does not exist.']}
    if target is not None:
        assert w.codes[target] not in body
        assert w.blocker_titles[target] not in body


def results(response):
    data = response.json()
    return data["results"] if isinstance(data, dict) else data


ALL_ROLES = ROLES + NOT_ROLES


# Reads: lists


LISTS = {
    "projects": ("/api/projects/", lambda w, row: row["code"], lambda w: w.codes),
    "prework-items": ("/api/prework-items/", lambda w, row: row["id"], lambda w: w.prework),
    "blockers": ("/api/blockers/", lambda w, row: row["id"], lambda w: w.blockers),
    "dockings": ("/api/dockings/", lambda w, row: row["id"], lambda w: w.dockings),
    "needs": ("/api/needs/?state=draft", lambda w, row: row["id"], lambda w: w.needs),
}


@pytest.mark.parametrize("endpoint", LISTS)
@pytest.mark.parametrize("role", ALL_ROLES)
def test_a_list_shows_exactly_the_objects_of_the_projects_the_role_may_see(world, role, endpoint):
    url, key_of, keys = LISTS[endpoint]
    visible = visible_to(role, dockings=endpoint == "dockings", needs=endpoint == "needs")

    response = client_for(world, role).get(url)

    if visible is None:
        assert_outcome(response, DENIED, w=world, target=None)
        for target in TARGETS:
            assert world.codes[target] not in response.content.decode()
        return
    assert response.status_code == 200
    shown = {key_of(world, row) for row in results(response)}
    assert shown == {keys(world)[target] for target in visible}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ALL_ROLES)
def test_searching_the_project_list_for_a_code_finds_it_only_within_scope(world, role, target):
    response = client_for(world, role).get("/api/projects/", {"search": world.codes[target]})

    outcome = expected(role, target)
    if outcome == DENIED:
        assert_outcome(response, DENIED, w=world, target=target)
        return
    assert response.status_code == 200
    codes = [row["code"] for row in results(response)]
    assert codes == ([world.codes[target]] if outcome == OK else [])


RECORD_FILTERS = {
    "prework-items": ("/api/prework-items/", lambda w: w.prework),
    "blockers": ("/api/blockers/", lambda w: w.blockers),
    "dockings": ("/api/dockings/", lambda w: w.dockings),
}


@pytest.mark.parametrize("endpoint", RECORD_FILTERS)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ALL_ROLES)
def test_filtering_records_by_a_project_out_of_scope_is_refused_like_a_missing_one(
    world, role, target, endpoint
):
    url, ids = RECORD_FILTERS[endpoint]
    client = client_for(world, role)

    response = client.get(url, {"project": world.projects[target]})

    outcome = expected(role, target, dockings=endpoint == "dockings")
    if outcome == DENIED:
        assert_outcome(response, DENIED, w=world, target=target)
        return
    if outcome == OK:
        assert response.status_code == 200
        assert [row["id"] for row in results(response)] == [ids(world)[target]]
        return
    # Out of scope: the same 400 as for a project that does not exist, so nothing leaks.
    missing = client.get(url, {"project": 987654321})
    assert response.status_code == missing.status_code == 400
    assert response.json()["project"][0].replace(str(world.projects[target]), "ID") == missing.json()[
        "project"
    ][0].replace("987654321", "ID")


# Reads: one object


DETAILS = {
    "project": lambda w, t: f"/api/projects/{w.projects[t]}/",
    "project transitions": lambda w, t: f"/api/projects/{w.projects[t]}/transitions/",
    "project timeline": lambda w, t: f"/api/projects/{w.projects[t]}/timeline/",
    "prework item": lambda w, t: f"/api/prework-items/{w.prework[t]}/",
    "blocker": lambda w, t: f"/api/blockers/{w.blockers[t]}/",
    "docking": lambda w, t: f"/api/dockings/{w.dockings[t]}/",
    "need": lambda w, t: f"/api/needs/{w.needs[t]}/",
    "need transitions": lambda w, t: f"/api/needs/{w.needs[t]}/transitions/",
}


@pytest.mark.parametrize("endpoint", DETAILS)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ALL_ROLES)
def test_an_object_is_readable_only_within_the_roles_scope(world, role, target, endpoint):
    response = client_for(world, role).get(DETAILS[endpoint](world, target))

    outcome = expected(role, target, dockings=endpoint == "docking", needs=endpoint.startswith("need"))
    assert_outcome(response, outcome, w=world, target=target)


# The organisation directory


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_unit_list_is_for_government_people_only(world, role):
    response = client_for(world, role).get("/api/units/")

    if role in DIRECTORY:
        assert response.status_code == 200
        assert {row["id"] for row in results(response)} == world.unit_ids
    else:
        assert response.status_code == 403
        assert world.org.park.name not in response.content.decode()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_a_unit_is_readable_by_government_people_only(world, role):
    response = client_for(world, role).get(f"/api/units/{world.org.park.pk}/")

    if role in DIRECTORY:
        assert response.status_code == 200
        assert response.json()["name"] == world.org.park.name
    else:
        assert response.status_code == 403
        assert world.org.park.name not in response.content.decode()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_people_list_is_for_government_people_only(world, role):
    response = client_for(world, role).get("/api/people/")

    if role in DIRECTORY:
        assert response.status_code == 200
        assert {row["id"] for row in results(response)} == world.person_ids
    else:
        assert response.status_code == 403
        assert "dept_head" not in response.content.decode()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_a_person_is_readable_by_government_people_only(world, role):
    response = client_for(world, role).get(f"/api/people/{world.org.dept_head.pk}/")

    if role in DIRECTORY:
        assert response.status_code == 200
        assert response.json()["name"] == "dept_head"
    else:
        assert response.status_code == 403
        assert "dept_head" not in response.content.decode()


# Writes


def _project_body(w):
    org = w.org
    return {
        "code": "2026-MX-0001",
        "name": "矩阵项目",
        "industry": "biotech",
        "region": org.district.pk,
        "lead_unit": org.park.pk,
        "total_investment": "50000000.00",
        "capital_gap": "10000000.00",
    }


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_the_secretariat_may_add_a_key_project(world, role):
    before = state_of_world(world)

    response = client_for(world, role).post("/api/projects/", _project_body(world), format="json")

    if role in MAY["create_project"]:
        assert response.status_code == 201, response.content
        assert KeyProject.objects.filter(code="2026-MX-0001").exists()
    else:
        assert response.status_code == 403, response.content
        assert state_of_world(world) == before


WRITES = {
    # name: (permission, method, url, body, status on success, whether the object is named in the body)
    "edit project": (
        "edit_project",
        "patch",
        lambda w, t: f"/api/projects/{w.projects[t]}/",
        lambda w, t: {"name": "改过的名字"},
        200,
        False,
    ),
    "open docking": (
        "open_docking",
        "post",
        lambda w, t: f"/api/projects/{w.projects[t]}/transitions/",
        lambda w, t: {"transition": "open_docking"},
        200,
        False,
    ),
    "suspend project": (
        "suspend",
        "post",
        lambda w, t: f"/api/projects/{w.projects[t]}/transitions/",
        lambda w, t: {"transition": "suspend", "reason": "资金链紧张"},
        200,
        False,
    ),
    "add prework item": (
        "add_prework",
        "post",
        lambda w, t: "/api/prework-items/",
        lambda w, t: {
            "project": w.projects[t],
            "kind": "eia",
            "approving_unit": w.org.department.pk,
            "statutory_days": 20,
        },
        201,
        True,
    ),
    "edit prework item": (
        "edit_prework",
        "patch",
        lambda w, t: f"/api/prework-items/{w.prework[t]}/",
        lambda w, t: {"note": "补充材料"},
        200,
        False,
    ),
    "start prework item": (
        "start_prework",
        "post",
        lambda w, t: f"/api/prework-items/{w.prework[t]}/transitions/",
        lambda w, t: {"transition": "start"},
        200,
        False,
    ),
    "report blocker": (
        "report_blocker",
        "post",
        lambda w, t: "/api/blockers/",
        lambda w, t: {"project": w.projects[t], "title": "新的问题", "category": "funds"},
        201,
        True,
    ),
    "edit blocker": (
        "edit_blocker",
        "patch",
        lambda w, t: f"/api/blockers/{w.blockers[t]}/",
        lambda w, t: {"description": "补充说明"},
        200,
        False,
    ),
    "resolve blocker": (
        "resolve_blocker",
        "post",
        lambda w, t: f"/api/blockers/{w.blockers[t]}/transitions/",
        lambda w, t: {"transition": "resolve", "resolution": "已协调解决"},
        200,
        False,
    ),
    "contact docking": (
        "contact_docking",
        "post",
        lambda w, t: f"/api/dockings/{w.dockings[t]}/transitions/",
        lambda w, t: {"transition": "contact"},
        200,
        False,
    ),
    "withdraw need": (
        "withdraw_need",
        "post",
        lambda w, t: f"/api/needs/{w.needs[t]}/transitions/",
        lambda w, t: {"transition": "withdraw", "reason": "企业调整融资计划"},
        200,
        False,
    ),
}


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ALL_ROLES)
def test_a_write_succeeds_only_for_whom_it_is_allowed_and_a_refused_one_changes_nothing(
    world, role, target, write
):
    permission, method, url, body, ok_status, in_body = WRITES[write]
    before = state_of_world(world)

    response = getattr(client_for(world, role), method)(
        url(world, target), body(world, target), format="json"
    )

    outcome = expected(
        role, target, permission, in_body=in_body, dockings=write == "contact docking", needs=write == "withdraw need"
    )
    assert_outcome(response, outcome, w=world, target=target, ok_status=ok_status)
    after = state_of_world(world)
    if outcome == OK:
        assert after["audit"] == before["audit"] + 1
    else:
        assert after == before


@pytest.mark.parametrize(
    "method,url",
    [
        ("post", "/api/units/"),
        ("post", "/api/people/"),
        ("post", "/api/dockings/"),
        ("delete", "/api/projects/{project}/"),
        ("delete", "/api/prework-items/{prework}/"),
        ("delete", "/api/blockers/{blocker}/"),
    ],
)
def test_what_the_api_does_not_offer_is_refused_even_to_the_secretariat(world, method, url):
    before = state_of_world(world)
    url = url.format(
        project=world.projects["project"],
        prework=world.prework["project"],
        blocker=world.blockers["project"],
    )

    response = getattr(client_for(world, "secretariat"), method)(url, {}, format="json")

    assert response.status_code == 405
    assert state_of_world(world) == before
