"""The scheduling meeting: the agenda drafted from the data in the design's order, carried-over
decisions, drafting again, editing with its version, publishing with an iCalendar invitation,
minutes whose decisions become tasks, who may see and do what, and constant query counts."""

import datetime
import html
import io
import re
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar
from rest_framework.test import APIClient
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases.financing.models import Docking, DockingState
from cases.models import (
    AnnualPlan,
    AuditAction,
    AuditEvent,
    Blocker,
    BlockerState,
    KeyProject,
    Stage,
)
from cases.services import Conflict
from tests.cases.factories import (
    BlockerFactory,
    DockingFactory,
    KeyProjectFactory,
    PreworkItemFactory,
    set_stage,
)
from workflow.coordination.flows import BlockerFlow
from workflow.coordination.models import BlockerProcess, Interview, Source, SupervisionOrder
from workflow.engine import clocks, selectors
from workflow.engine.calendar import WorkingCalendar
from workflow.engine.models import Escalation, EscalationStep, TaskClock, TaskKind
from workflow.engine.permissions import SECRETARIAT_TASK
from workflow.monthly import agenda, decisions, meetings
from workflow.monthly.flows import DecisionFlow
from workflow.monthly.models import (
    AgendaItem,
    AgendaSection,
    CycleStep,
    Decision,
    DecisionProcess,
    Light,
    LightSnapshot,
    Meeting,
)

D = datetime.date
AUGUST, SEPTEMBER, OCTOBER = D(2026, 8, 1), D(2026, 9, 1), D(2026, 10, 1)


def local(day, hour=0, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


NOW = local(D(2026, 11, 11), 10)  # in November's cycle, which reviews October
S = AgendaSection


@pytest.fixture(autouse=True)
def _at_now():
    with time_machine.travel(NOW, tick=False):
        yield


# Building the data the agenda is drafted from


def red(project, month=OCTOBER, consecutive=1):
    return LightSnapshot.objects.create(
        project=project,
        month=month,
        light=Light.RED,
        reasons=[{"measure": "lag", "light": "red", "value": "35.00", "comparison": "gt", "threshold": "30"}],
        expected_progress=Decimal("83.29"),
        lag=Decimal("35"),
        consecutive_red=consecutive,
        forecast=Light.RED,
        computed_at=NOW,
    )


def escalated_blocker(project, level=2):
    """An open blocker whose triage task has reached ``level`` of the ladder."""
    blocker = BlockerFactory(project=project, lead_unit=project.lead_unit)
    process = BlockerProcess.objects.create(flow_class=BlockerFlow, blocker=blocker, project=project)
    task = Task.objects.create(
        process=process, flow_task=BlockerFlow.triage, status=STATUS.NEW, owner_permission=SECRETARIAT_TASK
    )
    clock = clocks.clock_start(
        task=task, kind=TaskKind.BLOCKER_TRIAGE, project=project, unit=project.lead_unit, title=blocker.title, working_days=2
    )
    step = EscalationStep.objects.get(kind="default", level=level)
    Escalation.objects.create(
        clock=clock, step=step, level=level, action=step.action, fired_at=NOW, due_at=clock.due_at, batch=uuid.uuid4()
    )
    return blocker


def overdue_order(project, number):
    return SupervisionOrder.objects.create(
        number=number,
        project=project,
        unit=project.lead_unit,
        subject="用地报批滞后",
        source=Source.SUPERVISOR,
        issued_at=NOW - datetime.timedelta(days=20),
        respond_by=NOW - datetime.timedelta(days=10),
    )


def ready_to_complete(project):
    """A case under construction with its completion accepted: ``complete``'s guard passes."""
    return set_stage(
        project,
        Stage.CONSTRUCTION,
        actual_start=D(2025, 3, 1),
        actual_finish=D(2026, 9, 30),
        completion_accepted_on=D(2026, 10, 20),
    )


def docking_news(project, institution, state=DockingState.INTENT_SIGNED, at=None):
    at = at or local(D(2026, 10, 15), 11)
    docking = DockingFactory(project=project, institution=institution)
    Docking.objects.filter(pk=docking.pk).update(state=state, intent_amount=Decimal("20000000"))
    AuditEvent.objects.create(
        at=at,
        project=project,
        content_type=ContentType.objects.get_for_model(Docking),
        object_id=str(docking.pk),
        object_repr=str(docking),
        action=AuditAction.TRANSITION,
        transition="sign_intent",
        from_state=DockingState.CONTACTED,
        to_state=state,
    )
    return docking


def proposed_interview(project, leader):
    return Interview.objects.create(
        project=project,
        unit=project.lead_unit,
        leader=leader,
        reason="连续两个月红灯",
        source=Source.RULE,
        proposed_at=NOW - datetime.timedelta(days=2),
    )


def minuted_meeting(org, month, decisions=()):
    """A meeting of ``month`` whose minutes are recorded, with ``decisions`` as (text, state)."""
    meeting = Meeting.objects.create(
        month=month,
        number=agenda.meeting_number(month),
        title=f"meeting {month:%Y-%m}",
        scheduled_at=agenda.meeting_day(month),
        place="Room 301",
        state=Meeting.State.MINUTED,
        drafted_at=NOW,
    )
    for text, state in decisions:
        Decision.objects.create(
            meeting=meeting,
            project=org.project,
            text=text,
            owner=org.head,
            unit=org.park,
            working_days=5,
            state=state,
            done_at=meeting.scheduled_at + datetime.timedelta(days=3) if state != Decision.State.OPEN else None,
            report="已完成" if state == Decision.State.DONE else "",
            created_at=meeting.scheduled_at,
        )
    return meeting


@pytest.fixture
def data(org):
    """One record for each section of October's agenda."""
    set_stage(org.project, Stage.CONSTRUCTION, actual_start=D(2026, 3, 1))
    set_stage(org.other_project, Stage.PREWORK)
    PreworkItemFactory(project=org.other_project, approving_unit=org.department)  # still pending: not promotable
    minuted_meeting(org, SEPTEMBER, [("落实用地指标", Decision.State.OPEN), ("召开银企对接会", Decision.State.DONE)])
    red(org.project)
    blocker = escalated_blocker(org.other_project)
    order = overdue_order(org.project, "2026-00001")
    finishing = ready_to_complete(
        KeyProjectFactory(code="2026-GX-0003", region=org.district, lead_unit=org.park, responsible_leader=org.leader)
    )
    docking = docking_news(org.project, org.bank_unit)
    interview = proposed_interview(org.other_project, org.other_leader)
    return {"blocker": blocker, "order": order, "finishing": finishing, "docking": docking, "interview": interview}


def draft(month=OCTOBER, actor=None):
    return meetings.meeting_draft(month=month, actor=actor)


def sections(meeting):
    return [(item.section, item.source) for item in meeting.items.order_by("position")]


# Drafting


def test_the_agenda_is_drafted_from_the_data_in_the_designs_order(org, data):
    meeting = draft()

    open_decision, done_decision = Decision.objects.order_by("pk")
    assert sections(meeting) == [
        (S.DECISIONS, f"decision:{open_decision.pk}"),
        (S.DECISIONS, f"decision:{done_decision.pk}"),
        (S.RED, f"red:{org.project.pk}"),
        (S.ESCALATED, f"blocker:{data['blocker'].pk}"),
        (S.ESCALATED, f"order:{data['order'].pk}"),
        (S.PROMOTIONS, f"promotion:{data['finishing'].pk}"),
        (S.DOCKING, f"docking:{data['docking'].pk}"),
        (S.INTERVIEWS, f"interview:{data['interview'].pk}"),
    ]
    assert list(meeting.items.values_list("position", flat=True)) == list(range(1, 9))


def test_each_item_says_why_it_is_on_the_agenda(org, data):
    meeting = draft()
    items = {item.section + ":" + item.source.split(":")[0]: item for item in meeting.items.all()}

    assert "Status: Done" in next(i for i in meeting.items.all() if "召开银企对接会" == i.title).detail
    assert "35.00 points" in items["red:red"].detail and items["red:red"].project == org.project
    assert "level 2" in items["escalated:blocker"].detail
    assert "not answered by" in items["escalated:order"].detail
    assert "Complete" in items["promotions:promotion"].detail
    assert "Intent signed on 2026-10-15" in items["docking:docking"].detail
    assert "2,000.00 ten-thousand yuan" in items["docking:docking"].detail
    assert items["interviews:interview"].detail == "连续两个月红灯"


def test_a_new_meeting_gets_its_number_day_chair_attendees_and_units(org, data):
    meeting = draft()

    assert meeting.number == "调度〔2026〕10号" and meeting.month == OCTOBER
    # November 2026: the 2nd is the first working day, the 13th the tenth
    assert meeting.scheduled_at == local(D(2026, 11, 13), 9, 30)
    assert meeting.chair == org.leader  # a city leader, the first of the highest rank
    assert meeting.state == Meeting.State.DRAFT and meeting.version == 1
    # the responsible leaders of the cases on the agenda, their lead units and the units owing decisions
    assert set(meeting.attendees.all()) == {org.leader}
    assert set(meeting.attending_units.all()) == {org.park, org.other_unit}
    assert meeting.place == "Room 301"  # the last meeting's


def test_the_meeting_day_follows_the_timeline(org):
    CycleStep.objects.filter(kind=CycleStep.Kind.MEETING).update(working_day=3)
    assert draft().scheduled_at == local(D(2026, 11, 4), 9, 30)


def test_what_does_not_qualify_stays_off_the_agenda(org, data):
    # a blocker at level 1, a closed blocker at level 3, an order answered in time, a docking signed in September
    escalated_blocker(org.project, level=1)
    closed = escalated_blocker(org.project, level=3)
    Blocker.objects.filter(pk=closed.pk).update(state=BlockerState.CLOSED_OUT)
    answered = overdue_order(org.project, "2026-00002")
    SupervisionOrder.objects.filter(pk=answered.pk).update(state=SupervisionOrder.State.ANSWERED, fixed_by=D(2026, 12, 1))
    old = docking_news(org.other_project, org.bank_unit, at=local(D(2026, 9, 20), 10))
    red(org.other_project, month=SEPTEMBER)
    Interview.objects.filter(pk=data["interview"].pk).update(state=Interview.State.APPROVED)

    sources = {source for _section, source in sections(draft())}

    assert f"docking:{old.pk}" not in sources and f"order:{answered.pk}" not in sources
    assert f"red:{org.other_project.pk}" not in sources and f"interview:{data['interview'].pk}" not in sources
    assert [s for s in sources if s.startswith("blocker:")] == [f"blocker:{data['blocker'].pk}"]


def test_drafting_a_month_that_has_not_begun_is_refused(org):
    with pytest.raises(ValidationError):
        draft(D(2026, 12, 1))


def test_only_the_secretariat_drafts(org):
    with pytest.raises(PermissionDenied):
        draft(actor=org.head.user)
    assert draft(actor=org.secretariat.user).draft_result.created


# Drafting again


def test_drafting_twice_creates_nothing_twice(org, data):
    first = draft()
    again = draft()

    assert again.pk == first.pk and again.draft_result.added == 0 and not again.draft_result.created
    assert again.version == 1  # nothing changed: whoever is editing it is not made stale
    assert AgendaItem.objects.count() == 8 and Meeting.objects.filter(month=OCTOBER).count() == 1


def test_drafting_again_keeps_what_the_secretariat_did_and_brings_the_data_up_to_date(org, data):
    meeting = draft()
    secretariat = org.secretariat.user
    by_source = {item.source: item for item in meeting.items.all()}
    order_item, blocker_item = by_source[f"order:{data['order'].pk}"], by_source[f"blocker:{data['blocker'].pk}"]
    hand = meetings.agenda_item_add(
        meeting=meeting, actor=secretariat, version=1, section=S.OTHER, title="市长讲话"
    )
    meetings.agenda_item_move(item=order_item, actor=secretariat, version=2, direction="up")
    meetings.agenda_item_annotate(item=blocker_item, actor=secretariat, version=3, note="请自然资源局说明")
    meetings.agenda_item_drop(item=by_source[f"red:{org.project.pk}"], actor=secretariat, version=4)
    # the data changes: a second case turns red, the interview is decided, the blocker closed out
    red(org.other_project)
    Interview.objects.filter(pk=data["interview"].pk).update(state=Interview.State.APPROVED)
    Blocker.objects.filter(pk=data["blocker"].pk).update(state=BlockerState.CLOSED_OUT)

    again = draft()

    assert again.draft_result.added == 1 and again.draft_result.removed == 1
    first, second = Decision.objects.order_by("pk")
    assert sections(again) == [
        (S.DECISIONS, f"decision:{first.pk}"),
        (S.DECISIONS, f"decision:{second.pk}"),
        (S.RED, f"red:{org.project.pk}"),
        (S.RED, f"red:{org.other_project.pk}"),  # new: at the end of its section
        (S.ESCALATED, f"order:{data['order'].pk}"),  # moved up by hand
        (S.ESCALATED, f"blocker:{data['blocker'].pk}"),  # no longer escalated, but it has a note
        (S.PROMOTIONS, f"promotion:{data['finishing'].pk}"),
        (S.DOCKING, f"docking:{data['docking'].pk}"),
        (S.OTHER, ""),  # the interview was decided: its untouched item is gone
    ]
    assert AgendaItem.objects.get(pk=hand.pk).title == "市长讲话"
    assert AgendaItem.objects.get(source=f"red:{org.project.pk}").dropped
    assert AgendaItem.objects.get(pk=blocker_item.pk).note == "请自然资源局说明"
    assert again.version == 6


def test_a_published_agenda_is_not_drafted_again(org, data):
    meeting = draft()
    Meeting.objects.filter(pk=meeting.pk).update(state=Meeting.State.PUBLISHED)
    red(org.other_project)

    again = draft()

    assert not again.draft_result.redrafted and again.items.count() == 8


# Carry-over of decisions across meetings


def test_an_open_decision_carries_over_until_done_and_a_done_one_is_listed_once(org):
    set_stage(org.project, Stage.CONSTRUCTION)
    secretariat = org.secretariat.user
    august = minuted_meeting(org, AUGUST)
    Meeting.objects.filter(pk=august.pk).update(state=Meeting.State.PUBLISHED)
    august.refresh_from_db()
    with time_machine.travel(local(D(2026, 9, 14), 12), tick=False):
        meetings.meeting_record_minutes(
            meeting=august,
            actor=secretariat,
            minutes_by_item={},
            decisions=[
                {"text": "落实用地指标", "owner": org.head, "working_days": 10, "project": org.project},
                {"text": "召开银企对接会", "owner": org.head, "working_days": 5, "project": org.project},
            ],
            version=august.version,
        )
    kept_open, to_do = Decision.objects.order_by("pk")
    task = Task.objects.get(process__decisionprocess__decision=to_do, flow_task=DecisionFlow.carry_out)
    with time_machine.travel(local(D(2026, 9, 18), 16), tick=False):
        decisions.decision_done(task=task, user=org.head.user, report="9月18日已召开")

    with time_machine.travel(local(D(2026, 10, 14), 10), tick=False):
        september = draft(SEPTEMBER)
        listed = {item.source: item for item in september.items.filter(section=S.DECISIONS)}
        assert set(listed) == {f"decision:{kept_open.pk}", f"decision:{to_do.pk}"}
        assert "Status: Open" in listed[f"decision:{kept_open.pk}"].detail
        assert "Status: Done" in listed[f"decision:{to_do.pk}"].detail
        assert "9月18日已召开" in listed[f"decision:{to_do.pk}"].detail
        Meeting.objects.filter(pk=september.pk).update(state=Meeting.State.MINUTED)

    october = draft(OCTOBER)

    assert [item.source for item in october.items.filter(section=S.DECISIONS)] == [f"decision:{kept_open.pk}"]
    assert "Decided at 调度〔2026〕8号" in october.items.get(section=S.DECISIONS).detail


def test_a_decision_closed_after_the_last_meeting_is_news_at_the_next(org):
    september = minuted_meeting(org, SEPTEMBER)
    august = minuted_meeting(org, AUGUST, [("修建道路", Decision.State.OPEN)])
    decision = Decision.objects.get(meeting=august)
    Decision.objects.filter(pk=decision.pk).update(
        state=Decision.State.DONE, done_at=september.scheduled_at + datetime.timedelta(days=1)
    )

    assert sections(draft()) == [(S.DECISIONS, f"decision:{decision.pk}")]


# Editing


@pytest.fixture
def meeting(org, data):
    return draft()


def item_of(meeting, source):
    return meeting.items.get(source=source)


def test_items_move_up_and_down_within_their_section(org, data, meeting):
    secretariat = org.secretariat.user
    order = item_of(meeting, f"order:{data['order'].pk}")

    meetings.agenda_item_move(item=order, actor=secretariat, version=1, direction="up")
    assert sections(meeting)[3:5] == [(S.ESCALATED, f"order:{data['order'].pk}"), (S.ESCALATED, f"blocker:{data['blocker'].pk}")]
    # up again: it is first in its section already, nothing changes
    meetings.agenda_item_move(item=order, actor=secretariat, version=2, direction="up")
    meetings.agenda_item_move(item=order, actor=secretariat, version=2, position=2)
    assert sections(meeting)[3:5] == [(S.ESCALATED, f"blocker:{data['blocker'].pk}"), (S.ESCALATED, f"order:{data['order'].pk}")]
    assert list(meeting.items.values_list("position", flat=True)) == list(range(1, 9))
    assert Meeting.objects.get(pk=meeting.pk).version == 3


def test_items_are_added_dropped_restored_and_annotated(org, data, meeting):
    secretariat = org.secretariat.user
    added = meetings.agenda_item_add(
        meeting=meeting, actor=secretariat, version=1, section=S.RED, title="补充议题", project=org.other_project
    )
    assert sections(meeting)[3] == (S.RED, "") and added.position == 4

    interview = item_of(meeting, f"interview:{data['interview'].pk}")
    meetings.agenda_item_drop(item=interview, actor=secretariat, version=2)
    assert AgendaItem.objects.get(pk=interview.pk).dropped
    meetings.agenda_item_restore(item=interview, actor=secretariat, version=3)
    meetings.agenda_item_annotate(item=interview, actor=secretariat, version=4, note="请区长参会")
    interview.refresh_from_db()
    assert not interview.dropped and interview.note == "请区长参会"
    changes = AuditEvent.objects.filter(content_type=ContentType.objects.get_for_model(AgendaItem))
    assert changes.count() == 4


def test_a_stale_version_is_a_conflict_and_changes_nothing(org, data, meeting):
    secretariat = org.secretariat.user
    order = item_of(meeting, f"order:{data['order'].pk}")
    meetings.agenda_item_annotate(item=order, actor=secretariat, version=1, note="A")

    with pytest.raises(Conflict, match="Reload"):
        meetings.agenda_item_move(item=order, actor=secretariat, version=1, direction="up")

    assert sections(meeting)[4] == (S.ESCALATED, f"order:{data['order'].pk}")


def test_a_minuted_meeting_no_longer_changes(org, data, meeting):
    Meeting.objects.filter(pk=meeting.pk).update(state=Meeting.State.MINUTED)
    with pytest.raises(Conflict, match="minutes"):
        meetings.agenda_item_add(meeting=meeting, actor=org.secretariat.user, version=1, section=S.OTHER, title="x")


def test_only_the_secretariat_edits(org, data, meeting):
    with pytest.raises(PermissionDenied):
        meetings.agenda_item_drop(item=meeting.items.first(), actor=org.supervisor.user, version=1)


def test_the_details_are_edited(org, data, meeting):
    when = local(D(2026, 11, 16), 14, 30)
    meetings.meeting_update(
        meeting=meeting,
        actor=org.secretariat.user,
        version=1,
        scheduled_at=when,
        place="市政府第一会议室",
        chair=org.other_leader,
        attendees=[org.leader, org.dept_head],
        attending_units=[org.park, org.department],
    )
    meeting.refresh_from_db()
    assert (meeting.scheduled_at, meeting.place, meeting.chair) == (when, "市政府第一会议室", org.other_leader)
    assert set(meeting.attendees.all()) == {org.leader, org.dept_head}
    assert meeting.version == 2
    with pytest.raises(ValidationError):
        meetings.meeting_update(meeting=meeting, actor=org.secretariat.user, version=2, attendees=[org.bank])


# Publishing


def with_emails(org):
    for person in org.everyone:
        User.objects.filter(pk=person.user_id).update(email=f"{person.user.username}@example.gov.cn")


def invitations():
    """{address: the VEVENT of the invitation sent there}."""
    found = {}
    for message in mail.outbox:
        for _name, content, mimetype in message.attachments:
            if mimetype.startswith("text/calendar"):
                (event,) = Calendar.from_ical(content).walk("VEVENT")
                found[message.to[0]] = event
    return found


def test_publishing_sends_each_invitee_an_icalendar_invitation(org, data, meeting, django_capture_on_commit_callbacks):
    with_emails(org)
    with django_capture_on_commit_callbacks(execute=True):
        published = meetings.meeting_publish(meeting=meeting, actor=org.secretariat.user, version=1)

    assert published.state == Meeting.State.PUBLISHED and published.published_at == NOW
    sent = invitations()
    # the chair and attending leader, and the heads of the attending units (the park's; the other unit has none)
    assert set(sent) == {"leader@example.gov.cn", "head@example.gov.cn"}
    event = sent["head@example.gov.cn"]
    assert str(event["summary"]) == meeting.title
    assert event.decoded("dtstart") == local(D(2026, 11, 13), 9, 30)
    assert event.decoded("dtend") == local(D(2026, 11, 13), 11, 30)
    assert str(event["location"]) == "Room 301"
    assert str(event["attendee"]) == "mailto:head@example.gov.cn"
    assert str(event["uid"]) == f"meeting-{meeting.pk}@keyprojects"
    assert "落实用地指标" in str(event["description"])


def test_publishing_again_after_a_change_sends_the_updated_event_with_the_same_uid(
    org, data, meeting, django_capture_on_commit_callbacks
):
    with_emails(org)
    with django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_publish(meeting=meeting, actor=org.secretariat.user, version=1)
    meetings.meeting_update(meeting=meeting, actor=org.secretariat.user, version=2, place="二楼会议室")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_publish(meeting=meeting, actor=org.secretariat.user, version=3)

    event = invitations()["leader@example.gov.cn"]
    assert str(event["location"]) == "二楼会议室" and str(event["uid"]) == f"meeting-{meeting.pk}@keyprojects"
    assert AuditEvent.objects.filter(transition="republish").count() == 1


def test_only_the_secretariat_publishes(org, data, meeting):
    with pytest.raises(PermissionDenied):
        meetings.meeting_publish(meeting=meeting, actor=org.leader.user, version=1)


# Minutes and decisions


def record(org, meeting, decisions, **kwargs):
    meeting.refresh_from_db()
    return meetings.meeting_record_minutes(
        meeting=meeting, actor=org.secretariat.user, minutes_by_item=kwargs.get("minutes", {}),
        decisions=decisions, version=meeting.version,
    )


def test_each_decision_becomes_a_task_in_its_owners_inbox_with_a_working_day_clock(org, data, meeting):
    red_item = item_of(meeting, f"red:{org.project.pk}")
    record(
        org,
        meeting,
        [{"text": "两周内追回投资进度", "owner": org.head, "working_days": 5, "item": red_item.pk}],
        minutes={red_item.pk: "高新区汇报了进度"},
    )

    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.MINUTED and AgendaItem.objects.get(pk=red_item.pk).minutes == "高新区汇报了进度"
    decision = Decision.objects.get(meeting=meeting)
    assert (decision.project, decision.unit, decision.item) == (org.project, org.park, red_item)
    (task,) = selectors.inbox(org.head.user)
    assert task.flow_task == DecisionFlow.carry_out and task.status == STATUS.ASSIGNED
    clock = TaskClock.objects.get(task=task)
    # 5 working days from Wednesday 11 November: the end of Wednesday 18 November
    assert clock.kind == TaskKind.DECISION and clock.working_days == 5 and clock.unit == org.park
    assert clock.due_at == WorkingCalendar.load().add_working_days(NOW, 5) == local(D(2026, 11, 19))
    assert decision.due_at == clock.due_at and clock.next_fire_at is not None


def test_completing_the_task_marks_the_decision_done(org, data, meeting, client):
    record(org, meeting, [{"text": "两周内追回投资进度", "owner": org.head, "working_days": 5, "project": org.project}])
    task = selectors.inbox(org.head.user)[0]
    url = f"/workflow/flows/decision/{task.process_id}/carry_out/{task.pk}/execute/"
    client.force_login(org.head.user)

    page = client.get(url)
    assert page.status_code == 200 and "两周内追回投资进度" in page.content.decode()
    done = client.post(url, {"report": "已协调落实资金"})

    assert done.status_code == 302
    decision = Decision.objects.get(meeting=meeting)
    assert decision.state == Decision.State.DONE and decision.report == "已协调落实资金" and decision.done_at == NOW
    assert TaskClock.objects.get(task=task).closed_at is not None
    assert DecisionProcess.objects.get(decision=decision).finished is not None


def test_the_task_api_completes_a_decision(org, data, meeting):
    record(org, meeting, [{"text": "报送整改方案", "owner": org.head, "working_days": 3, "project": org.project}])
    task = selectors.inbox(org.head.user)[0]
    client = api(org.head)

    detail = client.get(f"/api/tasks/{task.pk}/")
    assert detail.status_code == 200 and detail.json()["completable_by_api"]
    assert client.post(f"/api/tasks/{task.pk}/complete/", {"report": ""}, format="json").status_code == 400
    done = client.post(f"/api/tasks/{task.pk}/complete/", {"report": "已报送"}, format="json")

    assert done.status_code == 200, done.content
    assert Decision.objects.get(meeting=meeting).state == Decision.State.DONE


def test_an_owner_who_cannot_log_in_leaves_the_task_in_the_units_queue(org, data, meeting):
    User.objects.filter(pk=org.staff.user_id).update(is_active=False)
    org.staff.refresh_from_db()
    record(org, meeting, [{"text": "报送整改方案", "owner": org.staff, "working_days": 3}])

    (task,) = selectors.queue(org.head.user)
    assert task.status == STATUS.NEW and task.owner_id is None
    assert not selectors.queue(org.dept_head.user)


def test_a_decision_about_no_case_gets_a_clock_of_its_working_days_on_its_unit(org, data, meeting):
    record(org, meeting, [{"text": "研究出台支持政策", "owner": org.dept_head, "working_days": 10}])

    decision = Decision.objects.get(meeting=meeting)
    (task,) = selectors.inbox(org.dept_head.user)
    clock = TaskClock.objects.get(task=task)
    # 10 working days from Wednesday 11 November: the end of Wednesday 25 November
    assert decision.project is None and decision.due_at == clock.due_at == local(D(2026, 11, 26))
    assert (clock.kind, clock.project, clock.unit, clock.working_days) == (
        TaskKind.DECISION, None, org.department, 10
    )
    assert clock.next_fire_at is not None  # it escalates like any task


def test_minutes_refuse_a_decision_without_a_government_owner(org, data, meeting):
    with pytest.raises(ValidationError):
        record(org, meeting, [{"text": "x", "owner": org.bank, "working_days": 3}])
    with pytest.raises(ValidationError):
        record(org, meeting, [{"text": "x", "owner": org.head, "working_days": 0}])
    assert Meeting.objects.get(pk=meeting.pk).state == Meeting.State.DRAFT


def test_a_dropped_decision_no_longer_carries_over(org, data, meeting):
    record(org, meeting, [{"text": "x", "owner": org.head, "working_days": 3, "project": org.project}])
    decision = Decision.objects.get(meeting=meeting)
    meetings.decision_drop(decision=decision, actor=org.secretariat.user, reason="情况变化")

    decision.refresh_from_db()
    assert decision.state == Decision.State.DROPPED
    assert not selectors.inbox(org.head.user)
    assert TaskClock.objects.get(task__process__decisionprocess__decision=decision).closed_at is not None


# Pages


def test_the_secretariat_drafts_moves_publishes_and_minutes_through_the_pages(org, data, client):
    client.force_login(org.secretariat.user)
    drafted = client.post("/workflow/meetings/", {"month": "2026-10"})
    meeting = Meeting.objects.get(month=OCTOBER)
    assert drafted.status_code == 302 and drafted["Location"] == f"/workflow/meetings/{meeting.pk}/"

    page = client.get(f"/workflow/meetings/{meeting.pk}/").content.decode()
    order = item_of(meeting, f"order:{data['order'].pk}")
    for selector in (f'id="item-{order.pk}-up"', 'id="publish-meeting"', 'id="add-item-submit"', 'id="record-minutes"'):
        assert selector in page
    assert "nothing is missing, only somebody" in page
    client.post(f"/workflow/meetings/{meeting.pk}/", {"action": "up", "item": order.pk, "version": 1})
    stale = client.post(f"/workflow/meetings/{meeting.pk}/", {"action": "drop", "item": order.pk, "version": 1}, follow=True)
    assert "Reload" in stale.content.decode()
    client.post(f"/workflow/meetings/{meeting.pk}/", {"action": "add", "title": "其他事项", "section": "other", "version": 2})
    client.post(f"/workflow/meetings/{meeting.pk}/", {"action": "publish", "version": 3})
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.PUBLISHED and meeting.items.count() == 9
    assert sections(meeting)[3] == (S.ESCALATED, f"order:{data['order'].pk}")

    edit = client.get(f"/workflow/meetings/{meeting.pk}/edit/")
    assert edit.status_code == 200
    minutes = client.post(
        f"/workflow/meetings/{meeting.pk}/minutes/",
        {
            "version": meeting.version,
            f"item_{order.pk}": "限期整改",
            "decisions-TOTAL_FORMS": 2,
            "decisions-INITIAL_FORMS": 0,
            "decisions-0-text": "限期答复督办单",
            "decisions-0-owner": org.head.pk,
            "decisions-0-working_days": 3,
            "decisions-0-item": order.pk,
        },
    )
    assert minutes.status_code == 302
    assert Meeting.objects.get(pk=meeting.pk).state == Meeting.State.MINUTED
    assert Decision.objects.get(meeting=meeting).project == org.project


def test_the_details_form_saves_the_date_place_and_people(org, data, meeting, client):
    client.force_login(org.secretariat.user)
    saved = client.post(
        f"/workflow/meetings/{meeting.pk}/edit/",
        {
            "version": 1,
            "title": meeting.title,
            "scheduled_at": "2026-11-16 14:30",
            "duration_minutes": 90,
            "place": "市政府第一会议室",
            "chair": org.other_leader.pk,
            "attendees": [org.leader.pk, org.dept_head.pk],
            "attending_units": [org.park.pk],
        },
    )
    stale = client.post(
        f"/workflow/meetings/{meeting.pk}/edit/",
        {"version": 1, "title": "x", "scheduled_at": "2026-11-17 09:00", "duration_minutes": 60, "place": "y"},
    )

    assert saved.status_code == 302
    meeting.refresh_from_db()
    assert meeting.scheduled_at == local(D(2026, 11, 16), 14, 30) and meeting.duration_minutes == 90
    assert meeting.chair == org.other_leader and set(meeting.attending_units.all()) == {org.park}
    assert stale.status_code == 200 and "Reload" in stale.content.decode() and meeting.version == 2


def value_of(page, name):
    """The value attribute of the field ``name`` as the page renders it, which the browser sends back."""
    found = re.search(rf'<(?:vf-field-[a-z-]+|input) [^>]*name="{name}" [^>]*value="([^"]*)"', page)
    assert found, f"no field {name} with a value"
    return html.unescape(found.group(1))


LOCAL_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?")


def sent_by_a_browser(value):
    """What a browser sends for an <input type=datetime-local> given ``value``: HTML's value
    sanitization empties a value that is not a local date and time string (such as 2026/11/13 09:30)."""
    return value if LOCAL_DATE_TIME.fullmatch(value) else ""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_details_form_shows_the_date_and_time_the_browser_picker_reads(org, data, meeting, client, language):
    client.force_login(org.secretariat.user)
    client.cookies["django_language"] = language
    page = client.get(f"/workflow/meetings/{meeting.pk}/edit/").content.decode()

    field = re.search(r'<vf-field-[a-z-]+ [^>]*name="scheduled_at"[^>]*>', page).group(0)
    assert 'type="datetime-local"' in field
    assert value_of(page, "scheduled_at") == "2026-11-13T09:30"  # what <input type=datetime-local> accepts


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_saving_the_details_without_retyping_keeps_the_date_and_time(org, data, meeting, client, language):
    client.force_login(org.secretariat.user)
    client.cookies["django_language"] = language
    url = f"/workflow/meetings/{meeting.pk}/edit/"
    shown = client.get(url)
    page = shown.content.decode()
    initial = shown.context["form"].initial
    body = {name: value_of(page, name) for name in ("version", "title", "duration_minutes", "place")}
    body["scheduled_at"] = sent_by_a_browser(value_of(page, "scheduled_at"))
    body.update({"chair": initial["chair"] or "", "attendees": initial["attendees"], "attending_units": initial["attending_units"]})
    body["place"] = "市政府第二会议室"  # the one change

    saved = client.post(url, body)

    assert saved.status_code == 302, saved.content.decode()[:3000]
    meeting.refresh_from_db()
    assert meeting.scheduled_at == local(D(2026, 11, 13), 9, 30) and meeting.place == "市政府第二会议室"


def test_the_details_form_takes_the_date_and_time_the_browser_picker_sends(org, data, meeting, client):
    client.force_login(org.secretariat.user)
    saved = client.post(
        f"/workflow/meetings/{meeting.pk}/edit/",
        {"version": 1, "title": meeting.title, "scheduled_at": "2026-11-16T14:30", "duration_minutes": 90, "place": "y"},
    )

    assert saved.status_code == 302
    meeting.refresh_from_db()
    assert meeting.scheduled_at == local(D(2026, 11, 16), 14, 30)


def test_the_draft_form_refuses_a_month_that_has_not_begun(org, client):
    client.force_login(org.secretariat.user)
    response = client.post("/workflow/meetings/", {"month": "2027-01"})
    assert response.status_code == 200 and "YYYY-MM" in response.content.decode()
    assert not Meeting.objects.exists()


# Who may see and do what

ROLES = [
    # (who, sees a published meeting with org.project on its agenda)
    ("secretariat", True),
    ("supervisor", True),
    ("leader", True),  # attends: responsible for org.project
    ("other_leader", False),
    ("head", True),  # the park attends
    ("staff", True),
    ("dept_head", False),
    ("other_head", True),  # its unit leads other_project, on the agenda: it attends
]


@pytest.fixture
def published(org, data, meeting):
    return meetings.meeting_publish(meeting=meeting, actor=org.secretariat.user, version=1)


@pytest.mark.parametrize(("who", "sees"), ROLES)
def test_pages_follow_role_and_unit(org, published, client, who, sees):
    client.force_login(getattr(org, who).user)
    url = f"/workflow/meetings/{published.pk}/"

    listed = client.get("/workflow/meetings/")
    detail = client.get(url)
    acted = client.post(url, {"action": "publish", "version": published.version})
    edit = client.get(url + "edit/")

    assert listed.status_code == 200 and (published.number in listed.content.decode()) is sees
    assert detail.status_code == (200 if sees else 404)
    if who == "secretariat":
        assert acted.status_code == 302 and edit.status_code == 200
    else:
        assert acted.status_code == (403 if sees else 404)
        assert edit.status_code == (403 if sees else 404)


@pytest.mark.parametrize("who", ["bank", "owner"])
def test_institutions_and_owners_have_no_meeting_pages_nor_api(org, published, client, who):
    client.force_login(getattr(org, who).user)
    api = APIClient()
    api.force_login(getattr(org, who).user)

    assert client.get("/workflow/meetings/").status_code == 403
    assert client.get(f"/workflow/meetings/{published.pk}/").status_code == 403
    assert api.get("/api/meetings/").status_code == 403
    assert api.get(f"/api/meetings/{published.pk}/").status_code == 403


def test_the_owner_of_a_decision_sees_its_meeting(org, data, meeting, client):
    client.force_login(org.dept_head.user)
    assert client.get(f"/workflow/meetings/{meeting.pk}/").status_code == 404
    record(org, meeting, [{"text": "研究出台支持政策", "owner": org.dept_head, "working_days": 10}])

    page = client.get(f"/workflow/meetings/{meeting.pk}/")

    assert page.status_code == 200 and "研究出台支持政策" in page.content.decode()
    assert 'id="publish-meeting"' not in page.content.decode()


def test_a_draft_is_the_secretariats_and_supervisors_only(org, meeting, client):
    for who, status in (("secretariat", 200), ("supervisor", 200), ("leader", 404), ("head", 404)):
        client.force_login(getattr(org, who).user)
        assert client.get(f"/workflow/meetings/{meeting.pk}/").status_code == status, who


# API


def api(person):
    client = APIClient()
    client.force_login(person.user)
    return client


def test_the_api_drafts_edits_publishes_and_minutes(org, data):
    secretariat = api(org.secretariat)

    def post(action, body, expected=200):
        response = secretariat.post(f"/api/meetings/{meeting_id}/{action}/", body, format="json")
        assert response.status_code == expected, response.content
        return response.json()

    created = secretariat.post("/api/meetings/draft/", {"month": "2026-10"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    meeting_id, items = body["id"], {item["source"]: item for item in body["items"]}
    assert [item["section"] for item in body["items"]][:3] == ["decisions", "decisions", "red"]
    again = secretariat.post("/api/meetings/draft/", {"month": "2026-10"}, format="json")
    assert again.status_code == 200 and again.json()["version"] == 1  # nothing changed
    assert secretariat.post("/api/meetings/draft/", {"month": "2027-01"}, format="json").status_code == 400

    order = items[f"order:{data['order'].pk}"]["id"]
    moved = post("move", {"version": 1, "item": order, "direction": "up"})
    assert [i["source"] for i in moved["items"]][3] == f"order:{data['order'].pk}" and moved["version"] == 2
    assert post("drop", {"version": 1, "item": order}, 409)["code"] == "conflict"
    post("drop", {"version": 2, "item": order})
    post("restore", {"version": 3, "item": order})
    post("annotate", {"version": 4, "item": order, "note": "重点"})
    added = post("add", {"version": 5, "section": "other", "title": "其他", "project": org.project.pk})
    assert added["version"] == 6 and added["items"][-1]["project"]["code"] == org.project.code
    assert "item" in post("drop", {"version": 6, "item": 999999}, 400)
    assert post("details", {"version": 6, "place": "三楼"})["place"] == "三楼"
    assert post("publish", {"version": 7})["state"] == "published"
    minuted = post(
        "minutes",
        {
            "version": 8,
            "minutes": [{"item": order, "text": "限期整改"}],
            "decisions": [{"text": "限期答复", "owner": org.head.pk, "working_days": 3, "item": order}],
        },
    )
    assert minuted["state"] == "minuted" and minuted["decisions"][0]["owner"]["id"] == org.head.pk
    assert minuted["decisions"][0]["due_at"] is not None and minuted["decisions"][0]["project"]["id"] == org.project.pk
    post("publish", {"version": 9}, 409)
    assert secretariat.post("/api/meetings/draft/", {"month": "2026-10"}, format="json").status_code == 409


@pytest.mark.parametrize(("who", "sees"), ROLES)
def test_the_api_follows_role_and_unit(org, published, who, sees):
    client = api(getattr(org, who))

    listed = client.get("/api/meetings/")
    detail = client.get(f"/api/meetings/{published.pk}/")
    write = client.post(f"/api/meetings/{published.pk}/publish/", {"version": published.version}, format="json")
    drafting = client.post("/api/meetings/draft/", {"month": "2026-08"}, format="json")

    assert listed.status_code == 200
    assert (published.pk in [row["id"] for row in listed.json()["results"]]) is sees
    assert detail.status_code == (200 if sees else 404)
    if who == "secretariat":
        assert write.status_code == 200 and drafting.status_code == 201
    else:
        assert write.status_code == (403 if sees else 404) and drafting.status_code == 403


def test_the_api_answers_404_for_an_unknown_or_enormous_id(org):
    client = api(org.secretariat)
    assert client.get("/api/meetings/4242/").status_code == 404
    assert client.get("/api/meetings/99999999999999999999/").status_code == 404


# The command


def test_the_command_drafts_last_months_agenda_and_says_what_it_did(org, data):
    out = io.StringIO()
    call_command("draft_agenda", stdout=out)
    call_command("draft_agenda", "--month", "2026-10", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("2026-10: meeting 调度〔2026〕10号 created for 2026-11-13 09:30; 8 items added")
    assert "drafted again" in lines[1] and "0 items added" in lines[1]


# Query counts


def make_cases(org, count, month, start):
    """``count`` cases, each with one record for every section of ``month``'s agenda."""
    projects = KeyProject.objects.bulk_create(
        [
            KeyProject(
                code=f"2026-QC-{start + n:04d}",
                name=f"项目{start + n}",
                industry="new_materials",
                region=org.district,
                lead_unit=org.park,
                responsible_leader=org.leader,
                total_investment=Decimal("100000000"),
                stage=Stage.CONSTRUCTION,
                actual_start=D(2025, 3, 1),
                actual_finish=D(2026, 9, 30),
                completion_accepted_on=D(2026, 10, 20),
            )
            for n in range(count)
        ]
    )
    AnnualPlan.objects.bulk_create(
        [AnnualPlan(project=p, year=2026, planned_investment=Decimal("1000000")) for p in projects]
    )
    at = local(month + datetime.timedelta(days=14), 10)
    for n, project in enumerate(projects):
        red(project, month)
        escalated_blocker(project)
        overdue_order(project, f"Q-{start + n}")
        docking_news(project, org.bank_unit, at=at)
        proposed_interview(project, org.leader)
    return projects


def count_draft(month):
    with CaptureQueriesContext(connection) as queries:
        meeting = draft(month)
    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "workflow_agendaitem"')]
    fields = [f for f in AgendaItem._meta.concrete_fields if not f.primary_key]
    batches = -(-meeting.items.count() // connection.ops.bulk_batch_size(fields, list(meeting.items.all())))
    assert len(inserts) == batches
    return meeting, len(queries) - len(inserts)


def count_page(client, meeting):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/workflow/meetings/{meeting.pk}/")
    assert response.status_code == 200
    return len(queries)


def test_drafting_and_the_meeting_page_cost_the_same_queries_for_20_and_200_cases(org, client):
    minuted_meeting(org, AUGUST, [("落实用地指标", Decision.State.OPEN)])
    ContentType.objects.get_for_model(Meeting)  # cached per process: both measures start alike
    client.force_login(org.secretariat.user)
    make_cases(org, 20, SEPTEMBER, 0)
    small, small_queries = count_draft(SEPTEMBER)
    small_page = count_page(client, small)

    make_cases(org, 180, OCTOBER, 1000)  # October's agenda: the 200 cases' records (20 + 180)
    for project in KeyProject.objects.filter(code__startswith="2026-QC-0")[:20]:
        red(project, OCTOBER)
    large, large_queries = count_draft(OCTOBER)
    large_page = count_page(client, large)

    assert small.items.count() >= 5 * 20 and large.items.count() >= 5 * 200
    assert large_queries == small_queries
    assert large_page == small_page
