"""Schemathesis over the whole API, as a logged-in secretariat: no request makes a server error.

The schema is the one the API serves at /api/schema/; every operation in it becomes a test,
called through the WSGI application inside the test's database transaction. A little data
is seeded first, and generated ids are sometimes swapped for ids that exist, so that the
detail, update and transition endpoints reach real records and not only 404.
"""

import itertools

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from cases.financing import matching
from cases.financing.models import Docking, DockingState
from cases.models import BlockerState, KeyProject, Person, PreworkKind, PreworkState, Stage, Unit
from config.wsgi import application
from tests.cases.factories import (
    BlockerFactory,
    DockingFactory,
    KeyProjectFactory,
    PreworkItemFactory,
    ready_to_select,
    set_stage,
    set_state,
)
from tests.cases.financing.factories import (
    FinancialProductFactory,
    FinancingNeedFactory,
    publish_directly,
)

# The coverage phase walks every property of every body in each of the three media types
# the API takes; its positive cases (boundary values that pass validation) reach the
# services, its negative ones only the serializers, so they are left to the fuzzing phase,
# which generates both, 25 examples an operation. That keeps the run under two minutes.
CONFIG = SchemathesisConfig.from_dict(
    {"phases": {"coverage": {"generation": {"mode": "positive"}}}}
)

schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)

# The ids of the seeded records, by the resource of the path or the field of the body
# that names them; filled by the ``seeded`` fixture before each operation's examples run.
SEEDED = {}

RESOURCE_OF_PATH = {
    "/api/units/": "units",
    "/api/people/": "people",
    "/api/projects/": "projects",
    "/api/prework-items/": "prework-items",
    "/api/blockers/": "blockers",
    "/api/dockings/": "dockings",
    "/api/needs/": "needs",
    "/api/products/": "products",
}
RESOURCE_OF_FIELD = {
    "project": "projects",
    "region": "districts",
    "owner": "units",
    "lead_unit": "units",
    "approving_unit": "units",
    "institution": "units",
    "responsible_leader": "people",
}


def _resource(path):
    return next(
        (name for prefix, name in RESOURCE_OF_PATH.items() if path.startswith(prefix)), None
    )


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _aim_at_seeded_records(case):
    """Let the coverage phase's cases reach real records and the services behind them.

    That phase sends 0 for every id, which no record has: a seeded id is sent instead. It
    also repeats one project code, which after the first case only meets the unique check:
    a fresh code is sent instead. (The fuzzing phase gets seeded ids through the hooks
    above.) Seeded ids and fresh codes are taken in turn, so a run is the same every time.
    """
    turn = next(SEEDED["turns"])
    ids = SEEDED.get(_resource(case.operation.path))
    params = case.path_parameters
    if (
        ids
        and isinstance(params, dict)
        and params.get("id") in (0, "0")
        and params.get("id") is not False
    ):
        case.path_parameters = {**params, "id": ids[turn % len(ids)]}
    if not isinstance(case.body, dict):
        return
    replaced = {}
    for field, value in case.body.items():
        ids = SEEDED.get(RESOURCE_OF_FIELD.get(field))
        if ids and _is_id(value) and value == 0:
            replaced[field] = ids[turn % len(ids)]
    code = case.body.get("code")
    if isinstance(code, str) and KeyProject.objects.filter(code=code).exists():
        replaced["code"] = f"2099-ST-{turn:04d}"
    if replaced:
        case.body = {**case.body, **replaced}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Keep the generated id, or take the id of a seeded record of the path's resource."""
    ids = SEEDED.get(_resource(context.operation.path))
    if not ids or not isinstance(path_parameters, dict) or not _is_id(path_parameters.get("id")):
        return st.just(path_parameters)
    existing = st.sampled_from(ids).map(lambda pk: {**path_parameters, "id": pk})
    return st.one_of(existing, st.just(path_parameters))


@schema.hook
def flatmap_body(context, body):
    """Keep the generated references, or point some of them at seeded records."""
    if not isinstance(body, dict):
        return st.just(body)
    choices = {}
    for field, value in body.items():
        ids = SEEDED.get(RESOURCE_OF_FIELD.get(field))
        if ids and _is_id(value):
            choices[field] = st.one_of(st.sampled_from(ids), st.just(value))
        elif field == "cooperating_units" and isinstance(value, list) and SEEDED.get("units"):
            choices[field] = st.one_of(
                st.lists(st.sampled_from(SEEDED["units"]), max_size=2), st.just(value)
            )
    if not choices:
        return st.just(body)
    return st.fixed_dictionaries(choices).map(lambda chosen: {**body, **chosen})


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _one_connection_for_all_requests():
    """Keep the test's connection (and its transaction) open across the app's requests.

    Django's own test client does the same: a request's start and end would otherwise
    close the connection that holds the test transaction.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(org):
    """Cases in several stages, with pre-work items, blockers and dockings."""
    reserve = ready_to_select(org.project, leader=org.leader)
    prework = set_stage(
        KeyProjectFactory(region=org.district, lead_unit=org.park, responsible_leader=org.leader),
        Stage.PREWORK,
    )
    docking = set_stage(KeyProjectFactory(region=org.district, lead_unit=org.park), Stage.DOCKING)
    suspended = set_stage(
        KeyProjectFactory(region=org.other_unit, lead_unit=org.other_unit),
        Stage.SUSPENDED,
        stage_before_suspension=Stage.PREWORK,
    )
    items = [
        PreworkItemFactory(project=prework, kind=PreworkKind.LAND, approving_unit=org.department),
        set_state(
            PreworkItemFactory(project=prework, kind=PreworkKind.EIA), PreworkState.IN_PROGRESS
        ),
        PreworkItemFactory(
            project=reserve, kind=PreworkKind.OTHER, title="其他审批", required=False
        ),
    ]
    blockers = [
        BlockerFactory(project=prework, lead_unit=org.department),
        set_state(BlockerFactory(project=docking, lead_unit=org.park), BlockerState.ASSIGNED),
    ]
    dockings = [
        DockingFactory(project=docking, institution=org.bank_unit),
        set_state(DockingFactory(project=docking), DockingState.INTENT_SIGNED),
    ]
    product = FinancialProductFactory(institution=org.bank_unit)
    needs = [publish_directly(FinancingNeedFactory(project=docking)), FinancingNeedFactory(project=docking)]
    matching.rematch_all()
    SEEDED.clear()
    SEEDED.update(
        {
            "needs": [need.pk for need in needs],
            "products": [product.pk, FinancialProductFactory(institution=org.bank_unit, is_active=False).pk],
            "units": list(Unit.objects.values_list("pk", flat=True)),
            "districts": [org.district.pk, org.other_unit.pk],
            "people": list(Person.objects.values_list("pk", flat=True)),
            "projects": [reserve.pk, prework.pk, docking.pk, suspended.pk, org.other_project.pk],
            "prework-items": [item.pk for item in items],
            "blockers": [blocker.pk for blocker in blockers],
            "dockings": [d.pk for d in dockings],
            "turns": itertools.count(),
        }
    )
    assert KeyProject.objects.count() == 5 and Docking.objects.count() == 2
    yield SEEDED
    SEEDED.clear()


@pytest.fixture
def secretariat_token(org):
    return Token.objects.create(user=org.secretariat.user).key


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_request_of_the_secretariat_makes_a_server_error(case, seeded, secretariat_token):
    _aim_at_seeded_records(case)
    case.call_and_validate(
        headers={"Authorization": f"Token {secretariat_token}"},
        checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
    )
