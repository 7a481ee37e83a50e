"""An institution's people against every address of the system: they reach their portal, the white
list, their own dockings and products, their notifications and their account, and nothing else.

Every URL pattern the resolver knows is requested (each export in each of its formats): pages with
GET and POST, API endpoints with GET, POST, PATCH and DELETE. A pattern needs a decision here, in
``OPEN`` (an institution's people may open it) or ``DENIED`` (403 or 404, 401 from the API, 405
for a method it does not take, or a redirect to a login page or to their portal, whatever the
method): a new pattern without one fails the test, and so does a decision left for a pattern that
is gone. Patterns with ids are filled with objects that are not the institution's: the
other bank's docking and product, a draft need, an internal blocker, a supervision order, a case, a
report, a meeting, a bulletin, an event it is not invited to, someone else's notification. Only
Django's admin and viewflow's per-node pages of the coordination flows (generated, hundreds of
them) are decided by their namespace; they are all requested too.

No answer an institution's person gets, open or refused, shows any of the world's secrets (the
blocker, the order, the other bank, its docking and product, the draft need, the event), and the
refused writes change nothing.
"""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone
from viewflow.workflow.models import Process, Task

from cases import services
from cases.financing import services as financing_services
from cases.financing.models import (
    Docking,
    DockingState,
    EventInvitation,
    FinancialProduct,
    FinancingNeed,
    MatchmakingEvent,
)
from cases.models import AuditEvent, Blocker, KeyProject, PreworkItem, Role, Stage, UnitKind
from notifications.models import Notification
from tests.cases.factories import PersonFactory, PreworkItemFactory, UnitFactory, set_stage
from workflow.coordination import launch as coordination_launch
from workflow.coordination.models import Interview, SupervisionOrder
from workflow.monthly import bulletin, meetings
from workflow.monthly import launch as monthly_launch
from workflow.monthly import services as monthly_services
from workflow.monthly.models import Bulletin, Meeting, MonthlyReport

pytestmark = pytest.mark.django_db

# Strings only the world's internal records and the other bank's own records carry.
SECRETS = {
    "blocker": "机密-用地指标缺口",
    "order": "机密-督办事项",
    "interview": "机密-约谈事由",
    "draft_need": "机密-草稿融资用途",
    "other_bank": "城市商业银行",
    "other_product": "机密-他行产品",
    "event": "机密-未邀请的路演",
}

# What an institution's people may open (their own records are reached through these pages'
# links; with someone else's id the same patterns are in DENIED).
OPEN = {
    # their home, the white list, their dockings and products, the events they are invited to, figures
    "index", "financing:index", "financing:portal", "financing:portal_dockings", "financing:portal_needs",
    "financing:white_list", "financing:products", "financing:product_add", "financing:events",
    "financing:statistics", "financing:statistics_xlsx",
    # their notifications and their account (the admin's login page tells them they are not staff)
    "admin:login", "admin:logout", "notifications:inbox", "notifications:read_all", "notifications:preferences",
    "login", "logout", "password_change", "password_change_done", "password_reset", "password_reset_done",
    "password_reset_confirm", "password_reset_complete", "set_language", "javascript-catalog",
    # the API of the same
    "api:api-root", "api:schema", "api:docs", "api:token", "api:portal",
    "api:financing-statistics", "api:financing-statistics-xlsx",
    "api:need-list", "api:product-list", "api:docking-list", "api:docking-interest", "api:event-list",
    "api:notification-list", "api:notification-read-all", "api:notification-unread-count",
    "api:notification-preferences",
    # their work: their dockings waiting for a step
    "my_work", "workflow_api:my_work",
}

# Everything else, with the object an address with an id is tried with.
DENIED = {
    # financing pages: another bank's docking and product, a need not published, an event not theirs
    "financing:need_detail": "draft_need", "financing:need_add": "project", "financing:need_change": "draft_need",
    "financing:need_transition": "draft_need", "financing:need_recommend": "draft_need", "financing:own_needs": None,
    "financing:product_detail": "product", "financing:product_change": "product", "financing:product_deactivate": "product",
    "financing:docking": "docking", "financing:docking_step": "docking",
    "financing:event": "event", "financing:event_add": None, "financing:event_edit": "event",
    "financing:event_invite": "event", "financing:event_attendance": "event", "financing:event_sign": "event",
    "financing:portal_need": "draft_need", "financing:portal_interest": "draft_need",
    "notifications:open": "notification",
    # the financing API
    "api:need-detail": "draft_need", "api:need-transitions": "draft_need", "api:need-matches": "draft_need",
    "api:product-detail": "product", "api:product-deactivate": "product", "api:product-needs": "product",
    "api:docking-detail": "docking", "api:docking-transitions": "docking", "api:docking-recommend": None,
    "api:event-detail": "event", "api:event-attendance": "event", "api:event-close": "event",
    "api:event-invite": "event", "api:event-sign": "event", "api:event-suggestions": "event",
    "api:notification-detail": "notification", "api:notification-read": "notification",
    # the cases, their records and the organisation: government people's
    "api:unit-list": None, "api:unit-detail": "unit", "api:person-list": None, "api:person-detail": "person",
    "api:project-list": None, "api:project-detail": "project", "api:project-timeline": "project",
    "api:project-transitions": "project", "api:project-approvals-import": None, "api:prework-item-list": None, "api:prework-item-detail": "prework",
    "api:prework-item-transitions": "prework", "api:blocker-list": None, "api:blocker-detail": "blocker",
    "api:blocker-transitions": "blocker",
    "cases:index": None, "cases:projects:index": None, "cases:projects:list": None, "cases:projects:add": None,
    "cases:projects:detail": "project", "cases:projects:change": "project", "cases:projects:transition": "project",
    "cases:projects:add_prework": "project", "cases:projects:report_blocker": "project",
    "cases:projects:add_docking": "project", "cases:projects:import": None, "cases:projects:import_template": None,
    "cases:projects:import_approvals": None, "cases:projects:approvals_template": None,
    "cases:projects:export": None,
    "cases:prework:index": None, "cases:prework:list": None, "cases:prework:add": None,
    "cases:pool:index": None, "cases:pool:list": None, "cases:pool:propose_idea": None,
    "cases:prework:change": "prework", "cases:prework:transition": "prework",
    "cases:blockers:index": None, "cases:blockers:list": None, "cases:blockers:add": None,
    "cases:blockers:change": "blocker", "cases:blockers:transition": "blocker",
    "cases:dockings:transition": "docking",
    "org:index": None, "org:units:index": None, "org:units:list": None, "org:units:detail": "unit",
    "org:people:index": None, "org:people:list": None, "org:people:detail": "person",
    # the coordination engine: tasks, orders, interviews, the monthly cycle and its documents
    "workflow:index": None, "workflow:inbox": None, "workflow:queue": None, "workflow:archive": None,
    "workflow:tasks_assign": None, "workflow:tasks_unassign": None, "workflow:overdue": None,
    "my_work_take": "task",
    "workflow:overdue_export": None, "workflow:task_clock": "task", "workflow:task_pause": "task",
    "workflow:lights": None, "workflow:cycle": None, "workflow:reports": None, "workflow:report": "report",
    "workflow:bulletin": None, "workflow:bulletin_exemptions": None, "workflow:dashboard": None,
    "workflow:meetings": None, "workflow:meeting": "meeting", "workflow:meeting_edit": "meeting",
    "workflow:meeting_minutes": "meeting", "workflow:orders": None, "workflow:order": "order",
    "workflow:interviews": None, "workflow:interview": "interview", "workflow:issue_order": "project",
    "workflow:propose_interview": "project", "workflow:issue_task_order": "task", "workflow:agenda_document": "meeting",
    "workflow:minutes_document": "meeting", "workflow:bulletin_document": "bulletin",
    "workflow:report_status_document": None, "workflow:flows:index": None,
    "workflow_api:task-list": None, "workflow_api:task-overdue": None, "workflow_api:task-queue": None,
    "workflow_api:task-detail": "task", "workflow_api:task-claim": "task", "workflow_api:task-complete": "task",
    "workflow_api:task-pause": "task", "workflow_api:task-release": "task", "workflow_api:task-resume": "task",
    "workflow_api:light-list": None, "workflow_api:light-compute": None,
    "workflow_api:meeting-list": None, "workflow_api:meeting-draft": None, "workflow_api:meeting-detail": "meeting",
    "workflow_api:meeting-add": "meeting", "workflow_api:meeting-annotate": "meeting",
    "workflow_api:meeting-details": "meeting", "workflow_api:meeting-drop": "meeting",
    "workflow_api:meeting-minutes": "meeting", "workflow_api:meeting-move": "meeting",
    "workflow_api:meeting-publish": "meeting", "workflow_api:meeting-restore": "meeting",
    "workflow_api:bulletin-exemption-list": None, "workflow_api:bulletin-exemption-detail": "exemption",
    "workflow_api:bulletin-list": None, "workflow_api:bulletin-compute": None,
    "workflow_api:bulletin-detail": "bulletin", "workflow_api:bulletin-issue": "bulletin",
    "workflow_api:cycle-list": None, "workflow_api:cycle-run": None,
    "workflow_api:report-list": None, "workflow_api:report-open-reports": None, "workflow_api:report-detail": "report",
    "workflow_api:report-accept": None, "workflow_api:report-acceptance": None,
    "workflow_api:report-review": "report", "workflow_api:report-submit": "report",
    "workflow_api:meeting-document-agenda": "meeting", "workflow_api:meeting-document-minutes": "meeting",
    "workflow_api:bulletin-document-detail": "bulletin", "workflow_api:report-status-document-status": None,
    "workflow_api:dashboard": None,
    "workflow:report_attachment": "report", "workflow_api:report-attachment-detail": "report",
    # the pipeline, the factor ledgers and the annual plan's compilation are the government's (an
    # address with an id is tried with a case's: whatever it names, it is refused)
    "api:factor-ledger-detail": "generated",
    "api:factor-ledger-lines": "generated",
    "api:factor-ledger-list": "generated",
    "api:factor-request-detail": "generated",
    "api:factor-request-list": "generated",
    "api:factor-request-raise-blocker": "generated",
    "api:factor-request-steps": "generated",
    "api:idea-list": "generated",
    "api:pool-list": "generated",
    "factors:index": "generated",
    "factors:ledger": "generated",
    "factors:ledger_open": "generated",
    "factors:ledger_xlsx": "generated",
    "factors:request_add": "generated",
    "factors:request_raise": "generated",
    "factors:request_step": "generated",
    "factors:requests": "generated",
    "planning:adjust": "generated",
    "planning:compilation": "generated",
    "planning:decide": "generated",
    "planning:diff": "generated",
    "planning:index": "generated",
    "planning:propose": "generated",
    "planning:publish": "generated",
    "planning:version": "generated",
    "planning:window": "generated",
    "workflow_api:planning-adjust": "generated",
    "workflow_api:planning-check": "generated",
    "workflow_api:planning-diff": "generated",
    "workflow_api:planning-versions": "generated",
    "workflow_api:planning-window": "generated",
    "workflow_api:planning-decide": "generated",
    "workflow_api:planning-list": "generated",
    "workflow_api:planning-proposals": "generated",
    "workflow_api:planning-propose": "generated",
    "workflow_api:planning-publish": "generated",
    # single sign-on's pages (not found while it is off; outsiders log in with a password)
    "oidc_authentication_init": None, "oidc_authentication_callback": None,
}

# Generated by Django's admin and by viewflow for each node of each flow: decided by namespace.
DENIED_NAMESPACES = ("admin:", "workflow:flows:")
# Each export in each of its formats.
FORMATS = ("docx", "xlsx", "pdf")
# A transition's name where a pattern takes one.
TRANSITION_NAMES = {
    "cases:projects:transition": "select", "cases:prework:transition": "start", "cases:blockers:transition": "assign",
    "cases:dockings:transition": "contact", "financing:need_transition": "publish",
}
DENIED_STATUSES = {401, 403, 404, 405}
LOGIN_PAGES = ("/accounts/login/", "/admin/login/")
PORTAL = "/financing/portal/"


@dataclass(frozen=True)
class Route:
    parts: tuple
    name: str | None
    callback: object

    @property
    def text(self):
        return "".join(str(part) for part in self.parts)

    @property
    def is_api(self):
        return self.text.startswith("api/")


def every_route():
    def walk(resolver, parts, namespace):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry, (*parts, entry.pattern), inner)
            else:
                name = f"{namespace}{entry.name}" if entry.name else None
                yield Route((*parts, entry.pattern), name, entry.callback)

    return list(walk(get_resolver(), (), ""))


def decision_of(route):
    """("open", None), ("denied", target), or None when nobody decided."""
    name = route.name
    if name in OPEN:
        return "open", None
    if name in DENIED:
        return "denied", DENIED[name]
    if route.text.startswith("admin/") or (name and name.startswith(DENIED_NAMESPACES)):
        return "denied", "generated"
    return None


def _regex_groups(text, value_of):
    """Replace each named group ``(?P<name>...)`` of a regex with its value."""
    out, index = [], 0
    while True:
        start = text.find("(?P<", index)
        if start < 0:
            out.append(text[index:])
            break
        out.append(text[index:start])
        name = text[start + 4 : text.index(">", start)]
        depth, position = 0, start
        while True:
            if text[position] == "(" and text[position - 1] != "\\":
                depth += 1
            elif text[position] == ")" and text[position - 1] != "\\":
                depth -= 1
                if depth == 0:
                    break
            position += 1
        out.append(str(value_of(name, None)))
        index = position + 1
    return "".join(out).replace("/?", "").lstrip("^").rstrip("$").replace("\\.", ".")


def urls_of(route, values):
    """The addresses to request for ``route``, its ids filled by ``values`` (one per export format)."""
    formats = FORMATS if any("<str:fmt>" in str(part) for part in route.parts) else (None,)
    urls = []
    for fmt in formats:

        def value_of(name, converter, fmt=fmt):
            if name == "fmt":
                return fmt
            if converter == "drf_format_suffix":
                return ".json"
            return values(route, name)

        path = ""
        for part in route.parts:
            if isinstance(part, RoutePattern):
                path += re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: str(value_of(m.group(2), m.group(1))), str(part))
            elif isinstance(part, RegexPattern):
                path += _regex_groups(str(part), value_of)
            else:
                path += str(part)
        urls.append("/" + path)
    return urls


# The world


def publish_need(org, project, amount, purpose):
    need = financing_services.need_create(
        project=project,
        actor=org.secretariat.user,
        data={
            "amount": Decimal(amount),
            "financing_type": "loan",
            "purpose": purpose,
            "term_months": 36,
            "deadline": timezone.localdate() + datetime.timedelta(days=120),
            "collateral": "厂房抵押",
        },
    )
    financing_services.need_transition(need=need, transition="submit", actor=org.secretariat.user)
    return financing_services.need_transition(need=FinancingNeed.objects.get(pk=need.pk), transition="publish", actor=org.secretariat.user)


def product(org, institution, name):
    return financing_services.product_create(
        actor=org.secretariat.user,
        data={
            "institution": institution, "name": name, "financing_type": "loan",
            "amount_min": Decimal("1000000"), "amount_max": Decimal("500000000"),
            "rate_min": Decimal("3.10"), "rate_max": Decimal("4.20"), "term_months_min": 12, "term_months_max": 120,
        },
    )


def build_world():
    from tests.cases.factories import OrgFactory

    org = OrgFactory.create()
    w = SimpleNamespace(org=org)
    w.bank = org.bank.user
    w.other_bank = UnitFactory(name=SECRETS["other_bank"], kind=UnitKind.INSTITUTION)
    w.other_banker = PersonFactory(user__username="other_banker", unit=w.other_bank, role=Role.INSTITUTION)
    project = set_stage(org.project, Stage.DOCKING)
    w.project = project

    w.need = publish_need(org, project, "30000000", "新建产线设备购置")
    w.draft_need = financing_services.need_create(
        project=project, actor=org.secretariat.user,
        data={"amount": Decimal("9000000"), "financing_type": "bond", "purpose": SECRETS["draft_need"],
              "term_months": 24, "deadline": timezone.localdate() + datetime.timedelta(days=90)},
    )
    w.own_product = product(org, org.bank_unit, "科技成果转化贷")
    w.other_product = product(org, w.other_bank, SECRETS["other_product"])
    w.own_docking = financing_services.docking_express_interest(need=w.need, actor=w.bank)
    w.other_docking = financing_services.docking_express_interest(need=w.need, actor=w.other_banker.user)
    financing_services.docking_transition(docking=Docking.objects.get(pk=w.other_docking.pk), transition="contact", actor=w.other_banker.user)

    w.blocker = services.blocker_report(
        project=project, actor=org.staff.user, data={"title": SECRETS["blocker"], "category": "land"}
    )
    other = set_stage(org.other_project, Stage.PREWORK)
    w.prework = PreworkItemFactory(project=other, approving_unit=org.department, title="用地预审")
    coordination_launch.start_prework_flow(PreworkItem.objects.select_related("project").get(pk=w.prework.pk))
    w.order = coordination_launch.issue_order(project=project, unit=org.park, subject=SECRETS["order"], actor=org.supervisor.user)
    w.interview = coordination_launch.propose_interview(
        project=project, leader=org.leader, reason=SECRETS["interview"], actor=org.supervisor.user
    )
    month = timezone.localdate().replace(day=1)
    w.month = month
    w.meeting = meetings.meeting_draft(month=month, actor=org.secretariat.user)
    w.bulletin = bulletin.bulletin_compute(month=month)
    w.exemption = bulletin.exemption_grant(
        unit=org.park, month=month, measure="reports_on_time", reason="不可抗力", actor=org.secretariat.user
    )
    set_stage(project, Stage.DOCKING)
    monthly_services.reports_open(month=month, enqueue=False)
    monthly_launch.start_report_flows(list(MonthlyReport.objects.values_list("pk", flat=True)))
    w.report = MonthlyReport.objects.order_by("pk").first()

    w.event = MatchmakingEvent.objects.create(
        title=SECRETS["event"], chain="new_materials", starts_at=timezone.now() + datetime.timedelta(days=7),
        ends_at=timezone.now() + datetime.timedelta(days=7, hours=3), place="会展中心",
    )
    EventInvitation.objects.create(event=w.event, institution=w.other_bank)
    w.notification = Notification.objects.create(recipient=org.head.user, key="docking_update", context={}, link="/")
    w.no_person = User.objects.create_user("matrix_no_person", password="x")
    return w


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once inside a transaction rolled back at the end; each test runs in a savepoint."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def values_for(w):
    targets = {
        "project": w.project.pk, "prework": w.prework.pk, "blocker": w.blocker.pk, "docking": w.other_docking.pk,
        "draft_need": w.draft_need.pk, "product": w.other_product.pk, "event": w.event.pk,
        "notification": w.notification.pk, "unit": w.org.district.pk, "person": w.org.head.pk,
        "task": Task.objects.filter(process__blockerprocess__blocker=w.blocker).order_by("pk").first().pk,
        "meeting": w.meeting.pk, "bulletin": w.bulletin.pk, "report": w.report.pk, "order": w.order.pk,
        "interview": w.interview.pk, "exemption": w.exemption.pk, "generated": w.project.pk,
    }

    processes = {}
    for process in Process.objects.exclude(task__isnull=True).order_by("pk"):
        processes.setdefault(process.flow_class.app_name, process)
    any_process = next(iter(processes.values()))

    def flow_process(route):
        """For workflow:flows:<flow>:...: a process of that flow (any, for a flow nobody started)."""
        flow = route.name.split(":")[2] if route.name and route.name.count(":") >= 3 else None
        return processes.get(flow, any_process)

    def value(route, name):
        decision = decision_of(route)
        target = decision[1] if decision else None
        if name in ("process_pk", "task_pk"):
            process = flow_process(route)
            return process.pk if name == "process_pk" else process.task_set.order_by("pk").first().pk
        if name in ("project", "project_pk"):
            return w.project.pk
        if name == "month":
            return w.month.strftime("%Y-%m")
        if name == "name":
            return TRANSITION_NAMES.get(route.name, "contact")
        if name == "uidb64":
            return "MQ"
        if name == "token":
            return "set-password"
        if name == "url":
            return "nowhere/"
        if name == "format":
            return "json"
        if name == "app_label":
            return "cases"
        return targets[target or "generated"]

    return value


def fingerprint():
    """Everything a refused write could have changed."""
    models = [
        KeyProject, Blocker, PreworkItem, Docking, FinancingNeed, FinancialProduct, MatchmakingEvent, EventInvitation,
        SupervisionOrder, Interview, Meeting, Bulletin, MonthlyReport, Process, Task, AuditEvent, Notification,
    ]
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


def is_login_redirect(response):
    return response.status_code in (301, 302) and response["Location"].startswith(LOGIN_PAGES)


def is_sent_home(response):
    """A login page, or their portal."""
    return is_login_redirect(response) or (
        response.status_code in (301, 302) and response["Location"].startswith(PORTAL)
    )


def leaked(response):
    if response.get("Content-Type", "").startswith(("text/", "application/json")):
        content = response.content.decode(errors="replace")
        return [key for key, secret in SECRETS.items() if secret in content]
    return []


def test_every_pattern_has_a_decision_and_every_decision_a_pattern():
    routes = every_route()
    undecided = sorted({route.name or route.text for route in routes if decision_of(route) is None})
    assert undecided == [], f"decide whether an institution's people may open these: {undecided}"
    names = {route.name for route in routes}
    assert sorted((OPEN | set(DENIED)) - names) == [], "decisions for patterns that are gone"


def test_an_institution_reaches_nothing_it_was_not_given(world):
    client = Client(raise_request_exception=False)  # a server error is one more failure to list
    client.force_login(world.bank)
    value = values_for(world)
    before = fingerprint()
    failures = []
    requested = 0
    for route in every_route():
        decision = decision_of(route)
        if decision is None:
            continue
        kind, _target = decision
        for url in urls_of(route, value):
            match = resolve(url.split("?")[0])
            assert match.func == route.callback, (url, route.text)
            methods = ["get"]
            if kind == "denied":
                methods += ["post", "patch", "delete"] if route.is_api else ["post"]
            for method in methods:
                requested += 1
                kwargs = {"content_type": "application/json", "data": "{}"} if method in ("patch",) else {}
                response = getattr(client, method)(url, **kwargs)
                problems = leaked(response)
                if kind == "open":
                    reachable = response.status_code in (200, 405) or (
                        response.status_code in (301, 302) and not is_login_redirect(response)
                    )
                    if not reachable:
                        problems.append(f"not reachable: {response.status_code}")
                elif not (response.status_code in DENIED_STATUSES or is_sent_home(response)):
                    problems.append(f"answered {response.status_code}")
                if problems:
                    failures.append((method.upper(), url, route.name or route.text, problems))
    assert failures == [], "\n".join(" ".join(map(str, failure)) for failure in failures)
    assert requested > 1500  # every pattern, with its methods
    assert fingerprint() == before, "a refused write changed something"


def test_another_banks_docking_cannot_be_opened_by_its_address(world):
    client = Client()
    client.force_login(world.bank)
    other, own = world.other_docking.pk, world.own_docking.pk

    assert client.get(f"/financing/dockings/{other}/").status_code == 404
    assert client.get(f"/api/dockings/{other}/").status_code == 404
    step = client.post(f"/financing/dockings/{other}/step/", {"transition": "start_due_diligence"})
    api_step = client.post(f"/api/dockings/{other}/transitions/", {"transition": "start_due_diligence"})
    assert step.status_code == 404 and api_step.status_code == 404
    assert Docking.objects.get(pk=other).state == DockingState.CONTACTED
    # while its own opens
    assert client.get(f"/financing/dockings/{own}/").status_code == 200
    assert client.get(f"/api/dockings/{own}/").json()["id"] == own
    assert [row["id"] for row in client.get("/api/dockings/").json()["results"]] == [own]


def test_a_refused_role_gets_the_same_answers_as_nobody(world):
    # a login without a person record has no role: not even the portal
    client = Client()
    client.force_login(world.no_person)
    assert client.get("/financing/portal/").status_code == 403
    assert client.get("/api/portal/").status_code == 403
    assert client.get("/financing/statistics/").status_code == 403


# The portal


def bank_client(world):
    client = Client()
    client.force_login(world.bank)
    return client


def test_an_institution_lands_on_its_portal(world):
    response = bank_client(world).get("/")
    assert response.status_code == 302 and response["Location"] == "/financing/portal/"


def test_government_people_keep_their_home_and_have_no_portal(world):
    client = Client()
    client.force_login(world.org.secretariat.user)
    assert client.get("/").status_code == 200
    assert client.get("/financing/portal/").status_code == 403
    assert client.get("/api/portal/").status_code == 403


def test_the_portal_shows_the_institutions_dockings_products_and_the_white_list(world):
    page = bank_client(world).get("/financing/portal/")

    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-docking="{world.own_docking.pk}"' in html
    assert f'data-docking="{world.other_docking.pk}"' not in html
    assert f'data-product="{world.own_product.pk}"' in html and "科技成果转化贷" in html
    assert f'data-need="{world.need.pk}"' in html
    assert f'data-need="{world.draft_need.pk}"' not in html
    assert 'data-figure="open_dockings">1<' in html


def test_the_portal_lists_every_docking_of_the_institution_by_state(world):
    client = bank_client(world)
    everything = client.get("/financing/portal/dockings/").content.decode()
    contacted = client.get("/financing/portal/dockings/", {"state": "contacted"}).content.decode()

    assert f'data-docking="{world.own_docking.pk}"' in everything
    assert f'data-docking="{world.other_docking.pk}"' not in everything
    assert f'data-docking="{world.own_docking.pk}"' not in contacted  # it is still recommended


def test_the_white_list_in_the_portal_shows_published_needs_and_the_institutions_docking(world):
    html = bank_client(world).get("/financing/portal/needs/").content.decode()

    assert f'data-need="{world.need.pk}"' in html and f'href="/financing/dockings/{world.own_docking.pk}/"' in html
    assert f'data-need="{world.draft_need.pk}"' not in html


def test_a_published_need_shows_what_is_needed_and_nothing_internal(world):
    page = bank_client(world).get(f"/financing/portal/needs/{world.need.pk}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "新建产线设备购置" in html and "厂房抵押" in html
    assert f'href="/financing/dockings/{world.own_docking.pk}/"' in html
    assert 'id="express-interest"' not in html  # it has its docking already
    assert not leaked(page)


def test_expressing_interest_opens_a_docking_once(world):
    need = publish_need(world.org, world.project, "12000000", "智能仓储改造")
    client = bank_client(world)
    page = client.get(f"/financing/portal/needs/{need.pk}/").content.decode()
    assert 'id="express-interest"' in page

    response = client.post(f"/financing/portal/needs/{need.pk}/interest/")

    docking = Docking.objects.get(need=need)
    assert (docking.institution_id, docking.source, docking.state) == (world.org.bank_unit.pk, "interest", "recommended")
    assert response.status_code == 302 and response["Location"] == f"/financing/dockings/{docking.pk}/"
    again = client.post(f"/financing/portal/needs/{need.pk}/interest/", follow=True)
    assert again.redirect_chain[0][0] == f"/financing/portal/needs/{need.pk}/"
    assert "already expressed interest" in again.content.decode()
    assert Docking.objects.filter(need=need).count() == 1


def test_the_portal_api_sums_up_the_institution(world):
    body = bank_client(world).get("/api/portal/").json()

    assert body["institutions"] == [{"id": world.org.bank_unit.pk, "name": world.org.bank_unit.name}]
    assert body["open_dockings"] == 1 and body["products"] == 1 and body["white_list"] == 1
    by_state = {row["state"]: row["count"] for row in body["dockings"]}
    assert by_state["recommended"] == 1 and sum(by_state.values()) == 1


def many_dockings(world, size):
    """``size`` more published needs, each with a docking of the bank, and one with the other bank's."""
    now = timezone.now()
    needs = FinancingNeed.objects.bulk_create(
        FinancingNeed(
            project=world.project, amount=Decimal(2000000 + index), financing_type="loan", purpose="流动资金",
            term_months=12, deadline=datetime.date(2030, 1, 1), state="published", published_at=now,
            industry=world.project.industry, stage=world.project.stage, region_id=world.project.region_id,
        )
        for index in range(size)
    )
    Docking.objects.bulk_create(
        Docking(project=world.project, need=need, institution=bank, state=state, last_step_at=now)
        for index, need in enumerate(needs)
        for bank, state in ((world.org.bank_unit, ["recommended", "contacted", "intent_signed"][index % 3]),
                            (world.other_bank, "contacted"))
    )
    return needs


PORTAL_PAGES = {
    "portal": "/financing/portal/",
    "dockings": "/financing/portal/dockings/",
    "needs": "/financing/portal/needs/",
    "api": "/api/portal/",
}


@pytest.mark.parametrize("size", [30, 600])
def test_the_portal_costs_the_same_queries_at_any_size(world, size):
    needs = many_dockings(world, size)
    client = bank_client(world)
    counts = {}
    pages = {**PORTAL_PAGES, "need": f"/financing/portal/needs/{needs[-1].pk}/"}
    for name, url in pages.items():
        client.get(url)  # warm the caches a running server has
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, name
        counts[name] = len(queries)
    assert counts == PORTAL_QUERIES


# Seven for any request: its session (read, and saved in three), user and person, and the
# institution's branches; a page adds its toolbar's unread count and bell. Then the dockings and the white
# list count and read a page of rows, a need reads itself and its matches, the summary takes five
# (institutions, dockings by state, products, the white list, matched needs) and the home adds its
# four short lists to it and the count of its work (the dockings waiting for it).
PORTAL_QUERIES = {"portal": 19, "dockings": 11, "needs": 11, "need": 11, "api": 12}
