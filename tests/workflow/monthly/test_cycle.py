"""The monthly cycle as data: its steps on working days of the month across the National Day
holidays and their make-up Saturday, run once each by the daily tick, retried after a failure,
edited in the admin; the beat entry the admin can change; the page, the API and the command."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from cases.models import AnnualPlan, Stage
from tests.cases.factories import set_stage
from workflow.engine.calendar import WorkingCalendar
from workflow.engine.models import Holiday
from workflow.monthly import runner, timeline
from workflow.monthly.models import CycleRun, CycleStep, LightSnapshot, MonthlyReport

D = datetime.date
OCTOBER, SEPTEMBER = D(2026, 10, 1), D(2026, 9, 1)
K = CycleStep.Kind


def at(day, hour=8):
    return time_machine.travel(timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour))), tick=False)


@pytest.fixture
def case(org):
    set_stage(org.project, Stage.CONSTRUCTION, planned_start=D(2026, 3, 1), actual_start=D(2026, 3, 10))
    AnnualPlan.objects.update_or_create(project=org.project, year=2026, defaults={"planned_investment": Decimal("1000000")})
    return org.project


@pytest.fixture
def quiet_steps(monkeypatch):
    """The agenda and bulletin steps record that they ran without drafting anything: their own
    tests are elsewhere; here the timeline is under test."""
    ran = []
    for kind in (K.AGENDA, K.BULLETIN):
        monkeypatch.setitem(runner.HANDLERS, kind, lambda period, kind=kind: ran.append((kind, period)) or {"ok": 1})
    return ran


# The days, with the National Day week of 2026 (1 to 7 October off, 8 October the first working day,
# Saturday 10 October a make-up working day)


@pytest.mark.parametrize(
    ("kind", "day"),
    [
        (K.REPORTS_OPEN, D(2026, 10, 8)),
        (K.REPORTS_DUE, D(2026, 10, 13)),  # 8, 9, 10 (Saturday, worked), 12, 13
        (K.LIGHTS, D(2026, 10, 14)),
        (K.AGENDA, D(2026, 10, 16)),
        (K.MEETING, D(2026, 10, 20)),
        (K.BULLETIN, D(2026, 10, 22)),
    ],
)
def test_each_default_step_falls_on_its_working_day_of_october(db, kind, day):
    assert timeline.step_date(OCTOBER, kind, WorkingCalendar.load()) == day


def test_a_holiday_entered_in_the_table_moves_the_steps(db):
    Holiday.objects.create(date=D(2026, 10, 9), is_working_day=False, name="Typhoon day")
    assert timeline.step_date(OCTOBER, K.REPORTS_DUE, WorkingCalendar.load()) == D(2026, 10, 14)


def test_the_working_days_are_data_the_admin_changes(db):
    CycleStep.objects.filter(kind=K.LIGHTS).update(working_day=7)
    assert timeline.step_date(OCTOBER, K.LIGHTS, WorkingCalendar.load()) == D(2026, 10, 15)


def test_the_daily_tick_runs_each_step_once_on_its_day(case, quiet_steps, django_capture_on_commit_callbacks):
    ran_on = {}
    day = D(2026, 10, 1)
    while day <= D(2026, 10, 31):
        with at(day), django_capture_on_commit_callbacks(execute=True):
            for kind in runner.cycle_tick():
                ran_on[kind] = day
            assert runner.cycle_tick() == []  # a second tick the same day does nothing
        day += datetime.timedelta(days=1)
    assert ran_on == {
        K.REPORTS_OPEN: D(2026, 10, 8),
        K.REPORTS_DUE: D(2026, 10, 13),
        K.LIGHTS: D(2026, 10, 14),
        K.AGENDA: D(2026, 10, 16),
        K.MEETING: D(2026, 10, 20),
        K.BULLETIN: D(2026, 10, 22),
    }
    assert CycleRun.objects.filter(month=OCTOBER).count() == 6
    # The October cycle reports on September.
    assert MonthlyReport.objects.get().month == SEPTEMBER
    assert LightSnapshot.objects.get().month == SEPTEMBER
    assert quiet_steps == [(K.AGENDA, SEPTEMBER), (K.BULLETIN, SEPTEMBER)]
    assert CycleRun.objects.get(kind=K.REPORTS_DUE).result == {"reports": 1, "not_submitted": 1}


def test_a_late_tick_catches_up_in_order(case, quiet_steps):
    with at(D(2026, 10, 21)):
        assert runner.cycle_tick() == [K.REPORTS_OPEN, K.REPORTS_DUE, K.LIGHTS, K.AGENDA, K.MEETING]


def test_a_failed_step_is_kept_with_its_error_and_retried_by_the_next_tick(case, quiet_steps, monkeypatch):
    def broken(period):
        raise RuntimeError("database went away")

    monkeypatch.setitem(runner.HANDLERS, K.LIGHTS, broken)
    with at(D(2026, 10, 14)):
        runner.cycle_tick()
    run = CycleRun.objects.get(kind=K.LIGHTS)
    assert run.finished_at is None and "database went away" in run.error
    assert [s.status for s in timeline.timeline(OCTOBER, D(2026, 10, 14)) if s.kind == K.LIGHTS] == ["failed"]
    monkeypatch.setitem(runner.HANDLERS, K.LIGHTS, lambda period: {"cases": 0})
    with at(D(2026, 10, 15)):
        assert K.LIGHTS in runner.cycle_tick()
    run.refresh_from_db()
    assert run.finished_at is not None and run.error == ""


def test_a_step_switched_off_does_not_run(case, quiet_steps):
    CycleStep.objects.filter(kind=K.LIGHTS).update(is_active=False)
    with at(D(2026, 10, 30)):
        assert K.LIGHTS not in runner.cycle_tick()
    assert [s.status for s in timeline.timeline(OCTOBER, D(2026, 10, 30)) if s.kind == K.LIGHTS] == ["inactive"]


def test_the_timeline_says_what_is_done_next_and_late(case, quiet_steps):
    with at(D(2026, 10, 8)):
        runner.run_step(K.REPORTS_OPEN, OCTOBER)
    states = {s.kind: s.status for s in timeline.timeline(OCTOBER, D(2026, 10, 15))}
    assert states == {
        K.REPORTS_OPEN: "done",
        K.REPORTS_DUE: "late",
        K.LIGHTS: "late",
        K.AGENDA: "next",
        K.MEETING: "upcoming",
        K.BULLETIN: "upcoming",
    }


def test_the_tick_is_a_beat_entry_the_admin_can_change(db):
    entry = PeriodicTask.objects.get(name="workflow-monthly-cycle")
    assert entry.task == "workflow.tasks.cycle_tick" and entry.enabled
    assert (entry.crontab.hour, entry.crontab.minute) == ("7", "15")
    assert not PeriodicTask.objects.filter(name="workflow-monthly-lights").exists()


# Page, API, command


def test_the_page_shows_the_cycle_and_the_secretariat_runs_a_step(org, case, client, django_capture_on_commit_callbacks):
    client.force_login(org.secretariat.user)
    page = client.get("/workflow/cycle/?month=2026-10")
    assert page.status_code == 200
    assert 'data-step="lights"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/workflow/cycle/", {"month": "2026-10", "step": "lights"})
    assert response.status_code == 302
    assert LightSnapshot.objects.filter(month=SEPTEMBER).count() == 1
    assert 'data-status="done"' in client.get("/workflow/cycle/?month=2026-10").content.decode()


def test_others_read_the_cycle_but_do_not_run_it(org, client):
    client.force_login(org.head.user)
    page = client.get("/workflow/cycle/")
    assert page.status_code == 200 and "Run now" not in page.content.decode()
    assert client.post("/workflow/cycle/", {"month": "2026-10", "step": "lights"}).status_code == 403
    client.force_login(org.owner.user)
    assert client.get("/workflow/cycle/").status_code == 403


def test_the_api_lists_the_steps_and_runs_one_for_the_secretariat(org, case, django_capture_on_commit_callbacks):
    api = APIClient()
    api.force_authenticate(org.head.user)
    steps = api.get("/api/cycle/", {"month": "2026-10"})
    assert steps.status_code == 200
    assert [row["kind"] for row in steps.json()] == [K.REPORTS_OPEN, K.REPORTS_DUE, K.LIGHTS, K.AGENDA, K.MEETING, K.BULLETIN]
    assert api.get("/api/cycle/", {"month": "October"}).status_code == 400
    assert api.post("/api/cycle/run/", {"step": "lights", "month": "2026-10"}, format="json").status_code == 403
    api.force_authenticate(org.secretariat.user)
    assert api.post("/api/cycle/run/", {"step": "dance", "month": "2026-10"}, format="json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post("/api/cycle/run/", {"step": "lights", "month": "2026-10"}, format="json")
    assert started.status_code == 202
    assert LightSnapshot.objects.filter(month=SEPTEMBER).exists()


def test_the_command_runs_what_is_due_and_one_step_on_request(case, quiet_steps):
    out = io.StringIO()
    with at(D(2026, 10, 14)):
        call_command("cycle", "--month", "2026-10", stdout=out)
        assert "lights" in out.getvalue()
        call_command("cycle", "--month", "2026-10", "--step", "lights", stdout=out)
        assert "has run already" in out.getvalue()
        call_command("cycle", "--month", "2026-10", "--step", "lights", "--force", stdout=out)
        with pytest.raises(CommandError):
            call_command("cycle", "--month", "2031-01")


# Reading the page: statuses, results and links in words


MID_OCTOBER = D(2026, 10, 15)


def cycle_page(client, person, language="en"):
    client.force_login(person.user)
    client.cookies["django_language"] = language
    with at(MID_OCTOBER, 10):
        return client.get("/workflow/cycle/?month=2026-10").content.decode()


def row_of(page, kind):
    start = page.index(f'data-step="{kind}"')
    return page[start : page.index("</tr>", start)]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_step_that_runs_next_is_called_a_step_not_a_page(org, case, quiet_steps, client, language):
    with at(D(2026, 10, 8)):
        runner.run_step(K.REPORTS_OPEN, OCTOBER)

    row = row_of(cycle_page(client, org.secretariat, language), K.AGENDA)

    assert 'data-status="next"' in row and "下一页" not in row
    with translation.override(language):
        assert f'<span class="kp-step kp-step--next">{translation.gettext("Runs next")}</span>' in row


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_link_to_the_month_before_says_previous_month(org, client, language):
    page = cycle_page(client, org.head, language)

    link = page[page.index('id="cycle-previous-month"') :]
    link = link[: link.index("</a>")]
    assert 'href="?month=2026-09"' in link and "前序" not in link
    with translation.override(language):
        assert link.endswith(translation.gettext("Previous month"))


def test_a_steps_result_reads_as_sentences(org, case, quiet_steps, client):
    with at(D(2026, 10, 8)):
        runner.run_step(K.REPORTS_OPEN, OCTOBER)

    row = row_of(cycle_page(client, org.secretariat), K.REPORTS_OPEN)

    assert "1 report created. 1 report task handed to the workers to start." in row
    assert "created:" not in row and "pending" not in row and "batches" not in row


@pytest.mark.parametrize(
    ("kind", "result", "sentences"),
    [
        (K.REPORTS_OPEN, {"created": 59, "pending": 59, "batches": 1},
         ["59 reports created.", "59 report tasks handed to the workers to start."]),
        (K.REPORTS_OPEN, {"created": 0, "pending": 0, "batches": 0}, ["No report was missing."]),
        (K.REPORTS_DUE, {"reports": 59, "not_submitted": 3}, ["3 of 59 reports not submitted by the due day."]),
        (K.REPORTS_DUE, {"reports": 1, "not_submitted": 0}, ["0 of 1 report not submitted by the due day."]),
        (K.REPORTS_DUE, {"reports": 0, "not_submitted": 0}, ["No report was due."]),
        (K.LIGHTS, {"cases": 1}, ["Lights computed for 1 case."]),
        (K.LIGHTS, {"cases": 59}, ["Lights computed for 59 cases."]),
        (K.AGENDA, {"meeting": 4, "items": 12}, ["Agenda drafted with 12 items."]),
        (K.MEETING, {"meeting": 4, "state": "published"}, ["The meeting: Agenda published."]),
        (K.MEETING, {"meeting": None, "state": None}, ["No meeting for this month yet."]),
        (K.BULLETIN, {"bulletin": 2, "units": 1}, ["1 unit scored."]),
        (K.BULLETIN, {}, []),
    ],
)
def test_each_steps_result_has_its_sentence_with_its_plural(kind, result, sentences):
    assert timeline.result_sentences(kind, result) == sentences


def test_the_result_column_wraps_its_sentences(org, case, quiet_steps, client):
    with at(D(2026, 10, 8)):
        runner.run_step(K.REPORTS_OPEN, OCTOBER)

    page = cycle_page(client, org.secretariat)

    assert '<td class="kp-wrap" data-result>' in row_of(page, K.REPORTS_OPEN)
    assert_wrapping_stylesheet(page)


def assert_wrapping_stylesheet(page):
    """The page links the monthly stylesheet, which lets a kp-wrap cell of viewflow's tables wrap."""
    from django.contrib.staticfiles import finders

    assert 'href="/static/workflow/monthly.css"' in page
    css = open(finders.find("workflow/monthly.css"), encoding="utf-8").read()
    assert ".vf-list__table tbody td.kp-wrap { white-space: normal; overflow: visible;" in css
