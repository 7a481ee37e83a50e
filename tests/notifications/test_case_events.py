"""What the cases services tell people: a stage change, a blocker assigned, through their units' robots."""

import datetime

import pytest
from django.core import mail

from cases import services
from cases.models import PreworkKind, PreworkState, Stage
from notifications.models import Delivery, Notification
from notifications.services import set_preferences
from tests.cases.factories import PreworkItemFactory, set_stage, set_state
from tests.notifications.factories import WebhookFactory


def told(key):
    """The users told a message of kind ``key``."""
    return set(Notification.objects.filter(key=key).values_list("recipient_id", flat=True))


def with_email(*people):
    for person in people:
        person.user.email = f"{person.user.username}@example.org"
        person.user.save(update_fields=["email"])


def withdraw(org):
    return services.project_transition(
        project_id=org.project.pk, transition="withdraw", actor=org.secretariat.user, reason="计划调整"
    )


# A stage changed


def test_a_stage_change_tells_the_responsible_leader_and_the_lead_units_head(org):
    withdraw(org)

    assert told("stage_changed") == {org.leader.user_id, org.head.user_id}


def test_a_stage_change_does_not_tell_its_actor(org):
    """The lead unit's head opens the docking: the responsible leader is told, the head is not."""
    project = set_stage(org.project, Stage.PREWORK)
    set_state(PreworkItemFactory(project=project, kind=PreworkKind.LAND), PreworkState.DONE)

    services.project_transition(project_id=project.pk, transition="open_docking", actor=org.head.user)

    assert told("stage_changed") == {org.leader.user_id}


def test_a_stage_change_links_to_the_case_and_says_what_happened(org):
    withdraw(org)

    notification = Notification.objects.get(key="stage_changed", recipient=org.head.user)
    assert notification.link == org.project.get_absolute_url()
    assert notification.context["case"] == f"{org.project.code} {org.project.name}"
    assert notification.context["reason"] == "计划调整"


def test_a_stage_change_reads_in_each_recipients_language(org, django_capture_on_commit_callbacks):
    with_email(org.leader, org.head)
    set_preferences(user=org.leader.user, language="zh-hans")
    set_preferences(user=org.head.user, language="en")

    with django_capture_on_commit_callbacks(execute=True):
        withdraw(org)

    subjects = {m.to[0]: m.subject for m in mail.outbox}
    case = f"{org.project.code} {org.project.name}"
    assert subjects == {
        "leader@example.org": f"[重点项目] {case} 转入退出阶段",
        "head@example.org": f"[Key projects] {case} moved to Withdrawn",
    }
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert f"secretariat 将 {case} 由储备转入退出。计划调整" in bodies["leader@example.org"]
    assert f"secretariat moved {case} from Reserve to Withdrawn. 计划调整" in bodies["head@example.org"]


def test_a_refused_stage_change_tells_nobody(org):
    """Selecting a case without its planned dates is refused by its guard."""
    with pytest.raises(services.TransitionBlocked):
        services.project_transition(project_id=org.project.pk, transition="select", actor=org.secretariat.user)

    assert not Notification.objects.exists()


# A blocker assigned


@pytest.fixture
def reported(org):
    project = set_stage(org.project, Stage.PREWORK)
    return services.blocker_report(
        project=project, actor=org.staff.user, data={"title": "用地指标不足", "category": "land"}
    )


def assign(org, blocker):
    return services.blocker_transition(
        blocker=blocker,
        transition="assign",
        actor=org.secretariat.user,
        fields={"lead_unit": org.park, "cooperating_units": [org.department], "due_on": datetime.date(2026, 6, 30)},
    )


def test_assigning_a_blocker_tells_the_lead_units_people_and_the_cooperating_units_heads(org, reported):
    assign(org, reported)

    assert told("blocker_assigned") == {org.head.user_id, org.staff.user_id, org.dept_head.user_id}


def test_assigning_a_blocker_says_which_blocker_unit_and_due_date(org, reported):
    assign(org, reported)

    notification = Notification.objects.get(key="blocker_assigned", recipient=org.head.user)
    assert notification.context["blocker"] == "用地指标不足"
    assert notification.context["unit"] == org.park.name
    assert notification.context["due"] == "2026-06-30"
    assert notification.link == f"{org.project.get_absolute_url()}#blockers"


def test_a_blocker_with_a_two_line_title_still_reaches_its_lead_unit_by_email(
    org, django_capture_on_commit_callbacks
):
    with_email(org.head)
    blocker = services.blocker_report(
        project=set_stage(org.project, Stage.PREWORK),
        actor=org.staff.user,
        data={"title": "用地指标不足\n请自然资源局协调", "category": "land"},
    )

    with django_capture_on_commit_callbacks(execute=True):
        assign(org, blocker)

    assert [m.to for m in mail.outbox] == [["head@example.org"]]
    assert Delivery.objects.get(notification__recipient=org.head.user, channel="email").state == "sent"


def test_reporting_a_blocker_tells_nobody_yet(org, reported):
    assert not Notification.objects.filter(key="blocker_assigned").exists()


# The units' robots


def test_a_units_webhook_gets_a_delivery_for_each_of_its_people_told(org, reported):
    robot = WebhookFactory()
    org.park.webhooks.add(robot)

    assign(org, reported)

    rows = Delivery.objects.filter(webhook=robot)
    assert sorted(rows.values_list("notification__recipient_id", flat=True)) == sorted(
        [org.head.user_id, org.staff.user_id]
    )
    assert set(rows.values_list("channel", flat=True)) == {f"webhook:{robot.pk}"}


def test_people_of_a_unit_without_a_webhook_get_no_webhook_delivery(org, reported):
    org.park.webhooks.add(WebhookFactory())

    assign(org, reported)

    assert not Delivery.objects.filter(notification__recipient=org.dept_head.user, webhook__isnull=False).exists()


def test_a_switched_off_webhook_of_a_unit_gets_nothing(org, reported):
    robot = WebhookFactory(is_active=False)
    org.park.webhooks.add(robot)

    assign(org, reported)

    assert not Delivery.objects.filter(webhook=robot).exists()
    assert told("blocker_assigned") == {org.head.user_id, org.staff.user_id, org.dept_head.user_id}


def test_a_stage_change_reaches_the_lead_units_webhook(org):
    robot = WebhookFactory()
    org.park.webhooks.add(robot)

    withdraw(org)

    assert list(Delivery.objects.filter(webhook=robot).values_list("notification__recipient_id", flat=True)) == [
        org.head.user_id
    ]
