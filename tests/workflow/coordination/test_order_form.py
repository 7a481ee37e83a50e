"""The supervisor's order form: an urgency and the day the answer is due (a working day after
today, by default 5 working days on), stored on the order and the answer step's deadline."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from workflow.coordination import orders
from workflow.coordination.flows import SupervisionFlow
from workflow.coordination.forms import IssueOrderForm
from workflow.coordination.models import SupervisionOrder
from workflow.engine import services
from workflow.engine.models import Holiday, TaskClock

D = datetime.date

# Wednesday 30 September 2026, the eve of the National Day week (1 to 7 October off, Saturday
# 10 October worked in lieu).
TODAY = D(2026, 9, 30)


def local(day, hour=0, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def form(org, **data):
    return IssueOrderForm(data={"subject": "用地报批滞后", "unit": org.park.pk, **data})


@pytest.fixture
def today():
    with time_machine.travel(local(TODAY, 10), tick=False):
        yield


def test_the_answer_is_due_five_working_days_from_today_unless_chosen(org, today):
    # 8, 9, 10 (the make-up Saturday), 12 and 13 October
    assert IssueOrderForm().fields["respond_by"].initial == D(2026, 10, 13)
    assert IssueOrderForm().fields["urgency"].initial == SupervisionOrder.Urgency.NORMAL
    left_out = form(org)
    assert left_out.is_valid(), left_out.errors
    assert left_out.cleaned_data["respond_by"] == D(2026, 10, 13)
    assert left_out.cleaned_data["urgency"] == SupervisionOrder.Urgency.NORMAL


@pytest.mark.parametrize(
    "day, error",
    [
        (TODAY, "The answer day must be after today."),
        (D(2026, 9, 1), "The answer day must be after today."),
        (D(2026, 10, 5), "2026-10-05 is not a working day: choose a working day."),  # National Day week
        (D(2026, 10, 11), "2026-10-11 is not a working day: choose a working day."),  # a Sunday
    ],
)
def test_an_answer_day_not_a_working_day_after_today_is_refused(org, today, day, error):
    chosen = form(org, respond_by=day.isoformat())
    assert not chosen.is_valid()
    assert chosen.errors["respond_by"] == [error]


def test_a_holiday_entered_in_the_table_is_not_an_answer_day(org, today):
    Holiday.objects.create(date=D(2026, 10, 9), name="城市纪念日")
    assert not form(org, respond_by="2026-10-09").is_valid()
    assert form(org, respond_by="2026-10-10").is_valid()  # the make-up Saturday is a working day


def test_an_unknown_urgency_is_refused(org, today):
    assert "urgency" in form(org, urgency="7").errors


def test_the_service_refuses_an_answer_day_in_the_past(org, today):
    with pytest.raises(ValidationError) as refused:
        orders.order_create(
            project=org.project, unit=org.park, subject="用地报批滞后", actor=org.supervisor.user, respond_by=D(2026, 9, 29)
        )
    assert refused.value.message_dict == {"respond_by": ["The answer day must be after today."]}
    assert not SupervisionOrder.objects.exists()


def test_the_chosen_urgency_and_day_are_the_orders_and_its_answer_steps_deadline(
    client, org, django_capture_on_commit_callbacks
):
    client.force_login(org.supervisor.user)
    with time_machine.travel(local(TODAY, 10), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/workflow/projects/{org.project.pk}/order/",
                {
                    "unit": org.park.pk,
                    "subject": "用地报批滞后",
                    "urgency": str(SupervisionOrder.Urgency.VERY_URGENT),
                    "respond_by": "2026-10-09",
                },
            )
        order = SupervisionOrder.objects.get()
        page = client.get(f"/workflow/orders/{order.pk}/").content.decode()

    assert response.status_code == 302
    # due at the end of Friday 9 October: the midnight that begins the 10th
    assert order.urgency == SupervisionOrder.Urgency.VERY_URGENT
    assert timezone.localtime(order.respond_by) == local(D(2026, 10, 10))
    respond = services.open_task(order.process, SupervisionFlow.respond)
    assert TaskClock.objects.get(task=respond).due_at == order.respond_by
    assert "Very urgent" in page and "2026-10-09 (end of day)" in page


def test_the_order_form_offers_the_urgency_and_the_default_answer_day(client, org, today):
    client.force_login(org.supervisor.user)
    page = client.get(f"/workflow/projects/{org.project.pk}/order/").content.decode()
    assert 'name="urgency"' in page and 'name="respond_by"' in page and "2026-10-13" in page
