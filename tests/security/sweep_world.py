"""The security sweep's world: two of everything, one on each side, and who must not see which.

Side A is ``OrgFactory``'s park (head and staff), its case ``org.project`` owned by enterprise A,
with ``org.leader`` responsible and bank A (``org.bank_unit``); side B is the other district
(``org.other_unit``), its case ``org.other_project`` owned by enterprise B, with
``org.other_leader`` responsible and bank B. Each case has a pre-work item with its approval
task, a blocker with its triage task, a draft financing need, a docking with its side's bank and
that docking's follow-up task, a monthly report with its writing task, a supervision order and a
proposed interview. Each bank has a product; a matchmaking event invites bank B only; the month's
meeting agenda and bulletin are drafts; an exemption, an acceptance of reports, and a notification
to side B's head complete it.

Every object carries a marker, a string no other object's page or answer contains, and
``forbidden(role)`` says which objects a role must not see: the sweep asks for those.
"""

import datetime
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.contrib.auth.models import User
from django.test import Client, TestCase
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from viewflow.workflow.models import Process

from cases import services as case_services
from cases.factors import services as factor_services
from cases.financing.models import EventInvitation, MatchmakingEvent
from cases.models import PreworkItem, Role, Stage, UnitKind
from notifications.models import Notification
from tests.cases.factories import (
    DockingFactory,
    OrgFactory,
    PersonFactory,
    PreworkItemFactory,
    UnitFactory,
    set_stage,
)
from tests.cases.financing.factories import (
    FinancialProductFactory,
    FinancingNeedFactory,
    InstitutionFactory,
)
from workflow.coordination import launch as coordination_launch
from workflow.monthly import bulletin as bulletins
from workflow.monthly import launch as monthly_launch
from workflow.monthly import services as monthly_services
from workflow.monthly.meetings import meeting_draft
from workflow.monthly.models import MonthlyReport, ReportAcceptance, ReportAttachment

# The roles swept: the brief's seven and nobody logged in.
ROLES = ["secretariat", "supervisor", "leader", "head", "staff", "bank", "owner", "anonymous"]
SIDES = ("A", "B")
# Kinds of objects that belong to a case (and so to a side).
CASE_KINDS = {
    "project",
    "prework",
    "blocker",
    "need",
    "docking",
    "report",
    "attachment",
    "order",
    "interview",
    "exemption",
}
# The flows whose processes the world starts, by the name of their pages' URL segment.
FLOWS = ("blocker", "prework", "report", "supervision", "interview", "dockingfollowup")
OUTSIDERS = {"bank", "owner", "anonymous"}
SIDE_A_ROLES = {"leader", "head", "staff", "bank", "owner"}


@dataclass
class Obj:
    """One object of the world: its kind, its side ("A", "B" or None for none), pk and markers."""

    kind: str
    side: str | None
    pk: int
    markers: tuple = ()
    flow: str | None = None  # for processes and tasks: the flow's URL segment
    node: str | None = None  # for tasks: the node's name
    extra: dict = field(default_factory=dict)

    def __str__(self):
        where = f"{self.flow}.{self.node}" if self.node else (self.flow or "")
        return (
            f"{self.kind}{'[' + where + ']' if where else ''} of side {self.side or '-'} #{self.pk}"
        )


MONTH = datetime.date(2026, 10, 1)


def _person(username, unit, role):
    return PersonFactory(user__username=username, name=username, unit=unit, role=role)


def build():
    """Make the world (inside the caller's transaction); returns a namespace, see the module."""
    org = OrgFactory.create()
    enterprise_b = UnitFactory(name="远东实业", kind=UnitKind.ENTERPRISE)
    owner_b = _person("owner_b", enterprise_b, Role.OWNER)
    bank_b_unit = InstitutionFactory(name="汇通银行")
    bank_b = _person("bank_b", bank_b_unit, Role.INSTITUTION)
    org.other_project.owner = enterprise_b
    org.other_project.responsible_leader = org.other_leader
    org.other_project.name = "东湖物流园项目"
    org.other_project.save()
    org.project.name = "高新新材料基地"
    org.project.save()

    w = SimpleNamespace(org=org, objects=[], users={}, owner_b=owner_b, bank_b=bank_b)
    side = {
        "A": SimpleNamespace(
            project=org.project,
            unit=org.park,
            reporter=org.staff,
            bank=org.bank_unit,
            leader=org.leader,
            head=org.head,
        ),
        "B": SimpleNamespace(
            project=org.other_project,
            unit=org.other_unit,
            reporter=org.other_head,
            bank=bank_b_unit,
            leader=org.other_leader,
            head=org.other_head,
        ),
    }
    w.side = side

    def add(kind, s, pk, *markers, **kw):
        obj = Obj(kind, s, pk, tuple(m for m in markers if m), **kw)
        w.objects.append(obj)
        return obj

    # Processes started by the services run their first steps on commit: run them here.
    with TestCase.captureOnCommitCallbacks(execute=True):
        for s in SIDES:
            p = side[s]
            project = set_stage(p.project, Stage.DOCKING)
            add("project", s, project.pk, project.code, project.name)
            item = PreworkItemFactory(
                project=project,
                approving_unit=p.unit,
                title=f"前期{s}-土地预审-{project.code}",
                required=True,
            )
            coordination_launch.start_prework_flow(
                PreworkItem.objects.select_related("project").get(pk=item.pk)
            )
            add("prework", s, item.pk, item.title)
            if s == "A":  # one land ledger, kept by a department of neither side
                ledger = factor_services.ledger_open(
                    factor="land", year=2026, bureau=org.department, actor=org.secretariat.user
                )
                factor_services.ledger_receive(
                    ledger=ledger, quantity=100, reason="省下达指标", actor=org.secretariat.user
                )
                add("ledger", None, ledger.pk)
            factor_request = factor_services.factor_request(
                item=item, factor="land", year=2026, quantity=30, actor=org.secretariat.user,
                note=f"要素{s}-用地指标申请",
            )
            add("factor_request", s, factor_request.pk, factor_request.note)
            blocker = case_services.blocker_report(
                project=project,
                actor=p.reporter.user,
                data={"title": f"问题{s}-用地指标不足", "category": "land"},
            )
            add("blocker", s, blocker.pk, blocker.title)
            need = FinancingNeedFactory(project=project, purpose=f"融资{s}-设备购置用途")
            add("need", s, need.pk, need.purpose)
            docking = DockingFactory(project=project, institution=p.bank, need=need)
            add("docking", s, docking.pk, extra={"institution": p.bank.pk})
            product = FinancialProductFactory(institution=p.bank, name=f"产品{s}-科创贷")
            add("product", s, product.pk, product.name)
            order = coordination_launch.issue_order(
                project=project,
                unit=p.unit,
                subject=f"督办{s}-用地手续逾期",
                actor=org.supervisor.user,
            )
            add("order", s, order.pk, order.subject)
            interview = coordination_launch.propose_interview(
                project=project,
                leader=p.leader,
                reason=f"约谈{s}-推进滞后",
                actor=org.supervisor.user,
            )
            add("interview", s, interview.pk, interview.reason)
            coordination_launch.start_follow_ups([docking.pk], "event")
        monthly_services.reports_open(month=MONTH, enqueue=False)
        monthly_launch.start_report_flows(list(MonthlyReport.objects.values_list("pk", flat=True)))
    for s in SIDES:
        report = MonthlyReport.objects.get(project=side[s].project, month=MONTH)
        add("report", s, report.pk)
        # Its record only: no file behind it, so a download that gets this far answers 404 too.
        attachment = ReportAttachment.objects.create(
            report=report,
            kind=ReportAttachment.Kind.FILE,
            file=f"reports/2026/10/sweep-{s}.pdf",
            name=f"附件{s}-现场照片说明.pdf",
            uploaded_by=side[s].reporter.user,
            uploaded_at=timezone.now(),
        )
        add("attachment", s, attachment.pk, attachment.name, extra={"report": report.pk})

    # What belongs to no side: the draft agenda and bulletin, an event, an acceptance, a notification.
    meeting = meeting_draft(month=MONTH, actor=org.secretariat.user)
    add("meeting", None, meeting.pk, meeting.number)
    bulletins.bulletin_compute(month=MONTH)
    bulletin = bulletins.Bulletin.objects.get(month=MONTH)
    add("bulletin", None, bulletin.pk)
    for s in SIDES:
        exemption = bulletins.exemption_grant(
            unit=side[s].unit,
            month=MONTH,
            measure="reports_on_time",
            reason=f"豁免{s}-不可抗力",
            actor=org.secretariat.user,
            project=side[s].project,
        )
        add("exemption", s, exemption.pk, exemption.reason)
    now = timezone.now()
    event = MatchmakingEvent.objects.create(
        title="路演-汇通银行专场",
        chain="new_materials",
        starts_at=now + datetime.timedelta(days=10),
        ends_at=now + datetime.timedelta(days=10, hours=2),
        place="市民中心",
        organiser=org.commission,
        created_by=org.secretariat.user,
    )
    EventInvitation.objects.create(event=event, institution=bank_b_unit, invited_at=now)
    add("event", "B", event.pk, event.title)
    acceptance = ReportAcceptance.objects.create(
        month=MONTH,
        requested_by=org.secretariat.user,
        requested_at=now,
        updated_at=now,
        report_ids=[],
    )
    add("acceptance", None, acceptance.pk)
    note = Notification.objects.create(
        recipient=org.other_head.user,
        key="bulletin_issued",
        context={"title": "通知B-仅东湖区负责人可见"},
    )
    add("notification", "B", note.pk, "通知B-仅东湖区负责人可见")
    own_notes = {}
    for role in ("secretariat", "supervisor", "leader", "head", "staff", "bank", "owner"):
        own = Notification.objects.create(
            recipient=getattr(org, role).user,
            key="bulletin_issued",
            context={"title": f"通知-{role}自己的"},
        )
        own_notes[role] = own.pk
    w.own_notifications = own_notes

    # The directory: side B's unit and head.
    add("unit", "B", org.other_unit.pk)
    add("person", "B", org.other_head.pk)

    # Processes and tasks, by flow and node, of each side's case.
    for s in SIDES:
        project = side[s].project
        for flow, processes in _processes_of(project).items():
            for process in processes:
                add("process", s, process.pk, flow=flow)
                for task in process.task_set.all():
                    add(
                        "task",
                        s,
                        task.pk,
                        flow=flow,
                        node=task.flow_task.name,
                        extra={"process": process.pk},
                    )

    # The annual plan: each side's unit's task "propose projects" (processes of no case).
    _propose_tasks(w, org, side, add)

    # Each role's clients: pages through a session, the API through a token.
    for role in ROLES:
        # A server error is answered (500), not raised: the sweep reports it with the request.
        pages, api = Client(raise_request_exception=False), APIClient(raise_request_exception=False)
        if role != "anonymous":
            user = getattr(org, role).user
            pages.force_login(user)
            api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
            w.users[role] = user
        w.__dict__.setdefault("pages", {})[role] = pages
        w.__dict__.setdefault("api", {})[role] = api
    w.no_person = User.objects.create_user("sweep_no_person")
    return w


def _propose_tasks(w, org, side, add):
    from decimal import Decimal

    from workflow.planning import services as planning_services
    from workflow.planning.flows import ProposeFlow
    from workflow.planning.models import ProposeProcess

    today = timezone.localdate()
    compilation = planning_services.compilation_open(
        actor=org.secretariat.user, year=today.year + 1, deadline=today + datetime.timedelta(days=30),
        target_total=Decimal("1"),
    )
    for s in SIDES:
        unit = side[s].unit
        if not ProposeProcess.objects.filter(compilation=compilation, unit=unit).exists():
            ProposeFlow.start.run(compilation=compilation, unit=unit)
        for process in ProposeProcess.objects.filter(compilation=compilation, unit=unit):
            add("process", s, process.pk, flow="propose")
            for task in process.task_set.all():
                add("task", s, task.pk, flow="propose", node=task.flow_task.name, extra={"process": process.pk})


def _processes_of(project):
    """The viewflow processes about ``project``, by their flow's URL segment."""
    from workflow.coordination.models import (
        BlockerProcess,
        DockingProcess,
        InterviewProcess,
        PreworkProcess,
        SupervisionProcess,
    )
    from workflow.monthly.models import ReportProcess

    found = {
        "blocker": BlockerProcess.objects.filter(blocker__project=project),
        "prework": PreworkProcess.objects.filter(item__project=project),
        "supervision": SupervisionProcess.objects.filter(order__project=project),
        "interview": InterviewProcess.objects.filter(interview__project=project),
        "dockingfollowup": DockingProcess.objects.filter(docking__project=project),
        "report": ReportProcess.objects.filter(report__project=project),
    }
    return {flow: [Process.objects.get(pk=p.pk) for p in qs] for flow, qs in found.items()}


# Who must not see what.


def forbidden(role, obj):
    """Must ``role`` not see ``obj``? (Not seeing it implies not changing it.)"""
    if role == "anonymous":
        return True
    kind, s = obj.kind, obj.side
    if kind == "notification":
        return True  # side B's head's, none of the swept roles'
    if role in ("secretariat", "supervisor"):
        return False
    if kind == "ledger":
        return role != "leader"  # the keeping bureau's and the secretariat's; supervisors and leaders read
    if kind == "factor_request" and role in ("bank", "owner"):
        return True  # banks and owners see nothing of the factor ledgers
    if kind == "acceptance":
        return True  # the secretariat's alone
    if role == "leader" and kind in ("bulletin", "exemption"):
        return False  # leaders read every bulletin, drafts and exemptions included (bulletin_scope)
    if (
        role == "leader"
        and kind in ("process", "task")
        and obj.flow == "interview"
        and obj.node in (None, "approve")
    ):
        return (
            False  # a city leader approves interviews, the other leaders' too (INTERVIEW_APPROVER)
        )
    if kind in ("meeting", "bulletin"):
        return True  # drafts: the secretariat's and supervisors' (and the bulletin the leaders')
    if kind in ("unit", "person"):
        return role in OUTSIDERS
    if kind == "event":
        return role == "owner" or role == "bank"  # bank B is invited, bank A is not
    if kind == "product":
        return role == "owner" or (role == "bank" and s == "B")
    if role == "bank":
        return not (kind == "docking" and s == "A")
    if s == "B":
        return True
    # Side A's case, and a role of side A.
    if kind == "exemption":
        return role in ("head", "staff", "owner")  # the month's bulletin is a draft
    if role == "owner":
        # An owner sees its case and its records, and of the flows only its monthly reports.
        return kind in ("order", "interview", "report", "attachment") or (
            kind in ("process", "task") and obj.flow != "report"
        )
    return False


def name_known(role, obj):
    """Does ``role`` legitimately read the name of ``obj``, which it must not open? A bank reads
    its docking's case; a city leader the case of an interview it approves."""
    if obj.kind != "project":
        return False
    return (role == "bank" and obj.side == "A") or (role == "leader" and obj.side == "B")


def find(w, kind, side=None, flow=None, node=None):
    """The world's objects of ``kind`` (and side, flow, node)."""
    return [
        o
        for o in w.objects
        if o.kind == kind
        and (side is None or o.side == side)
        and (flow is None or o.flow == flow)
        and (node is None or o.node == node)
    ]
