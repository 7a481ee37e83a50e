"""The toolbar after an event: the messages icon shows the new message, whose link opens the case, and
the bell counts the work it brought, as My work does."""

import re

import pytest
from django.db import transaction
from playwright.sync_api import expect

from cases import services
from cases.models import Stage
from tests.cases.factories import BlockerFactory, set_stage
from workflow.coordination import launch

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_bell_shows_a_new_blocker_and_its_link_opens_the_case(org, log_in):
    # Given the head of the park at work, with nothing unread
    project = set_stage(org.project, Stage.PREWORK)
    blocker = BlockerFactory(project=project, title="红线内征迁户尚未签约", category="demolition")
    launch.start_blocker_flow(blocker)  # as the blocker's creation does
    page = log_in(org.head)
    page.goto("/")
    expect(page.locator(".kp-messages")).to_be_visible()
    expect(page.locator(".kp-messages__count")).to_have_count(0)
    work_before = page.locator(".kp-bell__count").count() and int(page.locator(".kp-bell__count").inner_text())

    # When the secretariat assigns the blocker to the park
    with transaction.atomic():
        services.blocker_transition(
            blocker=type(blocker).objects.select_related("project").get(pk=blocker.pk),
            transition="assign",
            actor=org.secretariat.user,
            fields={"lead_unit": org.park},
        )

    # Then the head's toolbar shows one unread message on the next page, and one more item of work
    page.goto("/cases/projects/")
    expect(page.locator(".kp-messages__count")).to_have_text("1")
    expect(page.locator(".kp-bell__count")).to_have_text(str(work_before + 1))

    # and the message, opened from the inbox, leads to the case's blockers
    page.locator(".kp-messages").click()
    page.wait_for_url(re.compile(r"/notifications/$"))
    message = page.locator(".kp-inbox__item--unread").first
    expect(message).to_contain_text("A blocker for your unit: 红线内征迁户尚未签约")
    message.locator("button").click()
    page.wait_for_url(re.compile(rf"/cases/projects/{project.pk}/detail/#blockers$"))
    expect(page.locator(f"tr[data-blocker='{blocker.pk}']")).to_contain_text("红线内征迁户尚未签约")
    expect(page.locator(".kp-messages__count")).to_have_count(0)
