"""Stateful schemathesis against the live app, as the secretariat and as the head of one unit.

The app runs as a real server in a thread (pytest-django's ``live_server``) on the test
database; the schema is the one it serves at /api/schema/. The schema declares no links, so
schemathesis infers them by dependency analysis (a list's or a create's ids feed the detail,
update and transition operations of the same resource) and by the Location headers it sees.
Its state machine then chains the operations: each scenario starts at a root operation and
follows links, so updates and transitions reach the records earlier responses returned. Every
response must not be a server error, must have a documented content type and match the schema.

A role's run is bounded (``SCENARIOS`` scenarios of at most ``STEPS`` steps, derandomized) and
fails if no link was inferred or none was followed, so it cannot pass by doing nothing.
"""

import collections
import datetime
import time

import pytest
import schemathesis
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from cases import services as case_services
from cases.financing import matching
from cases.financing.models import EventInvitation, MatchmakingEvent
from cases.models import BlockerState, PreworkKind, PreworkState, Stage
from notifications.models import Notification
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
from workflow.coordination import launch as coordination_launch
from workflow.monthly import bulletin as bulletins
from workflow.monthly import launch as monthly_launch
from workflow.monthly import services as monthly_services
from workflow.monthly.meetings import meeting_draft
from workflow.monthly.models import MonthlyReport

MONTH = datetime.date(2026, 10, 1)

SCENARIOS = 50
STEPS = 10
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]

CONFIG = SchemathesisConfig.from_dict(
    {
        "phases": {
            "stateful": {
                "max-steps": STEPS,
                "inference": {"algorithms": ["location-headers", "dependency-analysis"]},
            }
        }
    }
)


@pytest.fixture
def world(org):
    """Cases in several stages with their pre-work items (and approval flows), blockers (and
    triage flows), needs, dockings (and follow-ups), products, an event, the month's reports
    (and their flows), a draft agenda and bulletin, an exemption and notifications: each list
    the state machine starts from has something in it for both roles."""
    reserve = ready_to_select(org.project, leader=org.leader)
    prework = set_stage(
        KeyProjectFactory(region=org.district, lead_unit=org.park, responsible_leader=org.leader),
        Stage.PREWORK,
    )
    docking = set_stage(KeyProjectFactory(region=org.district, lead_unit=org.park), Stage.DOCKING)
    set_stage(
        KeyProjectFactory(region=org.other_unit, lead_unit=org.other_unit),
        Stage.SUSPENDED,
        stage_before_suspension=Stage.PREWORK,
    )
    land = PreworkItemFactory(project=prework, kind=PreworkKind.LAND, approving_unit=org.park)
    coordination_launch.start_prework_flow(land)
    set_state(PreworkItemFactory(project=prework, kind=PreworkKind.EIA), PreworkState.IN_PROGRESS)
    PreworkItemFactory(project=reserve, kind=PreworkKind.OTHER, title="其他审批", required=False)
    case_services.blocker_report(
        project=prework, actor=org.staff.user, data={"title": "用地指标不足", "category": "land"}
    )
    BlockerFactory(project=prework, lead_unit=org.park)
    set_state(BlockerFactory(project=docking, lead_unit=org.park), BlockerState.ASSIGNED)
    followed_up = DockingFactory(project=docking, institution=org.bank_unit)
    coordination_launch.start_follow_ups([followed_up.pk], "event")
    FinancialProductFactory(institution=org.bank_unit)
    publish_directly(FinancingNeedFactory(project=docking))
    FinancingNeedFactory(project=docking)
    matching.rematch_all()
    coordination_launch.issue_order(
        project=prework, unit=org.park, subject="用地手续逾期", actor=org.supervisor.user
    )
    monthly_services.reports_open(month=MONTH, enqueue=False)
    monthly_launch.start_report_flows(list(MonthlyReport.objects.values_list("pk", flat=True)))
    meeting_draft(month=MONTH, actor=org.secretariat.user)
    bulletins.bulletin_compute(month=MONTH)
    bulletins.exemption_grant(
        unit=org.park, month=MONTH, measure="reports_on_time", reason="不可抗力",
        actor=org.secretariat.user, project=prework,
    )
    now = timezone.now()
    event = MatchmakingEvent.objects.create(
        title="路演专场",
        chain="new_materials",
        starts_at=now + datetime.timedelta(days=10),
        ends_at=now + datetime.timedelta(days=10, hours=2),
        place="市民中心",
        organiser=org.commission,
        created_by=org.secretariat.user,
    )
    EventInvitation.objects.create(event=event, institution=org.bank_unit, invited_at=now)
    for person in (org.secretariat, org.head):
        Notification.objects.create(
            recipient=person.user, key="reminder", context={"task": "月报", "case": "新材料基地", "due": "明天"}
        )
    return org


def _machine(schema, token, tally, world_rows):
    """The schema's state machine, calling the live server with ``token`` and counting. Each
    scenario starts from the same world (``world_rows``, the database serialized): Hypothesis
    draws a scenario's steps from what earlier responses returned, and refuses to go on
    ("inconsistent data generation") when the same choices meet a world that earlier scenarios
    changed."""
    base = schema.as_state_machine()

    class AsRole(base):
        def setup(self):
            super().setup()
            call_command("flush", verbosity=0, interactive=False, reset_sequences=False, inhibit_post_migrate=True)
            connection.creation.deserialize_db_from_string(world_rows)
            tally["scenarios"] += 1

        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Token {token}"}}

        def step(self, input):
            output = super().step(input)
            tally["steps"] += 1
            tally["statuses"][output.response.status_code] += 1
            if input.transition is not None and input.is_applied:
                tally["transitions"][input.transition.id] += 1
            elif input.transition is not None:
                tally["unapplied"] += 1
            return output

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                checks=CHECKS,
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )

    return AsRole


@pytest.mark.once
@pytest.mark.parametrize("role", ["secretariat", "head"])
def test_stateful_scenarios_make_no_server_error_and_match_the_schema(role, world, live_server):
    token = Token.objects.create(user=getattr(world, role).user).key
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/", config=CONFIG)
    schema.config.update(base_url=live_server.url)
    tally = {
        "scenarios": 0,
        "steps": 0,
        "unapplied": 0,
        "statuses": collections.Counter(),
        "transitions": collections.Counter(),
    }
    machine = _machine(schema, token, tally, connection.creation.serialize_db_to_string())
    links = schema.statistic.transitions.total
    assert links > 0, "dependency analysis inferred no links: the state machine would only fuzz roots"

    started = time.monotonic()
    machine.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    followed = sum(tally["transitions"].values())
    print(
        f"\n{role}: {links} links inferred, {len(machine.root_rules)} root operations; {tally['scenarios']} scenarios, "
        f"{tally['steps']} calls in {time.monotonic() - started:.0f}s, {followed} along "
        f"{len(tally['transitions'])} distinct links with the linked value applied "
        f"({tally['unapplied']} more along a link without); "
        f"responses by status {dict(sorted(tally['statuses'].items()))}"
    )
    for link, count in tally["transitions"].most_common(10):
        print(f"  {count:3d}  {link}")
    assert tally["steps"] >= SCENARIOS, "fewer calls than scenarios: the machine hardly ran"
    assert followed > 0, "no scenario followed a link with its value: the run was stateless"

