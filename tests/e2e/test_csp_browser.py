"""The Content Security Policy runs no inline script, and the site still works under it: its own
pages, viewflow's, the API's documentation and the admin raise no violation in Chromium."""

import pytest
from playwright.sync_api import expect

from tests.cases.factories import BlockerFactory, set_stage
from tests.e2e.conftest import log_in_on
from workflow.coordination import launch

pytestmark = pytest.mark.e2e

PAGES = [
    "/",
    "/my-work/",
    "/cases/projects/",
    "/cases/projects/{project}/detail/",
    "/cases/projects/import/",
    "/workflow/overdue/",
    "/workflow/inbox/",
    "/workflow/queue/",
    "/workflow/flows/blocker/{process}/",
    "/workflow/flows/blocker/{process}/chart/",
    "/financing/",
    "/api/docs/",
    "/admin/",
]


def watch_policy(page):
    """The console's Content Security Policy messages of ``page``, as they come."""
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    return refused


@pytest.fixture
def blocker_process(org):
    from cases.models import Stage

    set_stage(org.project, Stage.PREWORK)
    return launch.start_blocker_flow(BlockerFactory(project=org.project, lead_unit=org.park))


def test_the_secretariats_pages_raise_no_policy_violation(page, org, blocker_process):
    refused = watch_policy(page)
    log_in_on(page, org.secretariat)
    visited = []
    for pattern in PAGES:
        path = pattern.format(project=org.project.pk, process=blocker_process.pk)
        response = page.goto(path)
        page.wait_for_load_state("networkidle")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        visited.append(path)
    assert refused == [], refused
    assert len(visited) == len(PAGES)

    # The watch sees what the policy refuses: an inline script added to the page is reported.
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.kpInline = 1'; document.head.appendChild(s); }")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.kpInline") is None
    assert len(refused) == 1


def test_the_api_documentation_renders_under_the_policy(page, org):
    refused = watch_policy(page)
    log_in_on(page, org.secretariat)
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title").first).to_contain_text("Key projects API")
    assert refused == []


def test_the_import_form_shows_its_progress_from_the_sites_script(page, org):
    refused = watch_policy(page)
    log_in_on(page, org.secretariat)
    page.goto("/cases/projects/import/")
    form = page.locator(".kp-import-form")
    expect(form.locator(".kp-progress")).to_be_hidden()
    # Sent without leaving the page (the form's own listener stops it), the site's script still
    # disables the button and shows the progress.
    page.evaluate("() => document.querySelector('.kp-import-form').addEventListener('submit', e => e.preventDefault())")
    form.locator("input[type=file]").set_input_files(
        files=[{"name": "p.xlsx", "mimeType": "application/octet-stream", "buffer": b"x"}]
    )
    form.locator("button[type=submit]").click()
    expect(form.locator(".kp-progress")).to_be_visible()
    expect(form.locator("button[type=submit]")).to_be_disabled()
    assert refused == []


def test_issuing_the_bulletin_asks_first_and_a_no_leaves_it_a_draft(page, org):
    from tests.workflow.monthly.test_documents import make_bulletin
    from workflow.monthly.models import Bulletin

    bulletin = make_bulletin(org, state=Bulletin.State.DRAFT)
    refused = watch_policy(page)
    log_in_on(page, org.secretariat)
    page.goto("/workflow/bulletin/?month=2026-10")
    issue = page.locator("button[name=action][value=issue]")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    issue.click()
    page.wait_for_timeout(500)
    bulletin.refresh_from_db()
    assert bulletin.state == Bulletin.State.DRAFT and len(questions) == 1

    page.once("dialog", lambda dialog: answer(dialog, True))
    with page.expect_navigation():
        issue.click()
    bulletin.refresh_from_db()
    assert bulletin.state == Bulletin.State.ISSUED
    assert questions[1].startswith("Issue the bulletin?")
    assert refused == []
