"""The people of the design at work in a real browser: log in, find the case, act on it."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import expect

from cases.models import PreworkKind, Stage
from tests.cases.factories import KeyProjectFactory, PreworkItemFactory, ready_to_select, set_stage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHINESE_CATALOG = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"


def test_head_finds_the_case_and_reads_why_financing_docking_is_blocked(org, log_in):
    # Given a case of the head's park in pre-work, with money missing and the land pending
    project = set_stage(org.project, Stage.PREWORK)
    assert project.capital_gap > 0
    PreworkItemFactory(project=project, kind=PreworkKind.LAND, required=True)

    # When the head logs in, finds the case in the list and opens it
    page = log_in(org.head)
    page.goto("/cases/projects/")
    page.get_by_role("link", name=project.code).first.click()
    page.wait_for_url(re.compile(rf"/cases/projects/{project.pk}/detail/$"))

    # Then the page says why financing docking cannot be opened, naming the pending item
    open_docking = page.locator("li.kp-transition[data-transition=open_docking]")
    expect(open_docking.locator(".kp-reasons")).to_contain_text(
        "Required pre-work items are neither done nor waived"
    )
    expect(open_docking.locator(".kp-reasons")).to_contain_text("Land")
    expect(open_docking.get_by_role("button", name="Open financing docking")).to_be_disabled()
    # and a step that is not the head's to take says so and cannot be clicked
    withdraw = page.locator("li.kp-transition[data-transition=withdraw]")
    expect(withdraw).to_contain_text("Not yours to take.")
    expect(withdraw.get_by_role("button", name="Withdraw")).to_be_disabled()
    expect(withdraw.get_by_role("link")).to_have_count(0)


def test_secretariat_selects_a_reserve_case_into_the_key_list(org, log_in):
    # Given a reserve case with everything the selection asks for
    project = ready_to_select(org.project, leader=org.leader)
    assert project.stage == Stage.RESERVE

    # When the secretariat opens it, chooses "Select into the key list" and confirms
    page = log_in(org.secretariat)
    page.goto(f"/cases/projects/{project.pk}/detail/")
    expect(page.locator("[data-stage=reserve]")).to_be_visible()
    page.locator("li.kp-transition[data-transition=select]").get_by_role(
        "link", name="Select into the key list"
    ).click()
    page.wait_for_url(re.compile(rf"/cases/projects/{project.pk}/transition/select/$"))
    page.get_by_role("button", name="Confirm").click()

    # Then the case page shows it in pre-work, and the timeline records the step
    page.wait_for_url(re.compile(rf"/cases/projects/{project.pk}/detail/$"))
    expect(page.locator("[data-stage=prework]")).to_have_text("Pre-work")
    step = page.locator(".kp-timeline__event--transition").filter(
        has_text="Select into the key list"
    )
    expect(step).to_have_count(1)
    expect(step).to_contain_text("secretariat")
    expect(step.locator(".kp-timeline__states")).to_have_text(re.compile(r"Reserve\s*→\s*Pre-work"))
    project.refresh_from_db()
    assert project.stage == Stage.PREWORK


def test_the_language_switch_turns_the_interface_into_chinese(org, log_in):
    # Given the English interface, and the Chinese words for what the case page shows
    with translation.override("zh-hans"):
        next_steps_zh = translation.gettext("Next steps")
        key_projects_zh = translation.gettext("Key projects")
    assert next_steps_zh != "Next steps", f"no Chinese catalog compiled at {CHINESE_CATALOG}"
    page = log_in(org.head)
    page.goto(f"/cases/projects/{org.project.pk}/detail/")
    expect(page.locator("h3.kp-subtitle")).to_have_text("Next steps")

    # When the head clicks 简体中文 in the toolbar
    page.locator(".mdc-top-app-bar").get_by_role("button", name="简体中文").click()

    # Then the same page comes back in Chinese
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h3.kp-subtitle")).to_have_text(next_steps_zh)
    expect(page.locator(".vf-card__breadcrumbs").first).to_contain_text(key_projects_zh)
    expect(page.get_by_role("button", name="简体中文")).to_have_attribute("aria-current", "true")


def test_head_gets_not_found_for_a_case_of_another_unit(org, log_in):
    # Given a case led by another district, and one of the head's own
    own = org.project
    foreign = KeyProjectFactory(region=org.other_unit, lead_unit=org.other_unit)

    page = log_in(org.head)
    # When the head types in the address of the foreign case, Then the answer is 404
    assert page.goto(f"/cases/projects/{foreign.pk}/detail/").status == 404
    assert page.goto(f"/cases/projects/{org.other_project.pk}/detail/").status == 404
    # while the head's own case opens
    assert page.goto(f"/cases/projects/{own.pk}/detail/").status == 200
