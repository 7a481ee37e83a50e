"""The secretariat accepts many monthly reports at once: each exactly as its review would (its
investment added once, audited), a report no longer waiting skipped with the reason, whole or
not at all under a crash, nothing twice when a batch comes twice; on the workers with the
progress on the status page; the API; who may; and the queries it costs."""

import datetime
import threading
import time
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient
from viewflow.workflow.status import STATUS

from cases.models import AnnualPlan, AuditEvent, KeyProject, Role, Stage
from notifications.models import Notification
from tests.cases.factories import KeyProjectFactory, PersonFactory, set_stage
from tests.workflow.monthly.test_reports import GOOD
from workflow.engine import services as engine_services
from workflow.monthly import acceptance as report_acceptance
from workflow.monthly import batches, launch, reports, selectors
from workflow.monthly import services as monthly_services
from workflow.monthly.models import MonthlyReport, ReportAcceptance

D = datetime.date
OCTOBER = D(2026, 10, 1)
TODAY = timezone.make_aware(datetime.datetime(2026, 11, 2, 9))  # the first working day of November
SUBMITTED_ON = timezone.make_aware(datetime.datetime(2026, 11, 4, 10))



def amount_of(index):
    """Each case reports a different amount, so that a sum shows whose investment went where."""
    return Decimal("100000") + index * Decimal("1000")


@pytest.fixture
def make_submitted(org):
    """``make_submitted(n)``: n more construction cases of the park, each with 1,000,000 done of
    5,000,000 and 400,000 this year, whose October report the park's head has submitted."""
    made = []

    def make(count):
        with time_machine.travel(TODAY, tick=False):
            for _ in range(count):
                project = KeyProjectFactory(region=org.district, lead_unit=org.park, responsible_leader=org.leader)
                set_stage(
                    project, Stage.CONSTRUCTION, total_investment=Decimal("5000000"),
                    investment_completed_total=Decimal("1000000"), capital_gap=Decimal("0"),
                )
                AnnualPlan.objects.create(
                    project=project, year=2026, planned_investment=Decimal("2000000"), completed_investment=Decimal("400000")
                )
            monthly_services.reports_open(month=OCTOBER, enqueue=False)
            new = list(MonthlyReport.objects.filter(process__isnull=True).order_by("pk").values_list("pk", flat=True))
            launch.start_report_flows(new)
        with time_machine.travel(SUBMITTED_ON, tick=False):
            for pk in new:
                report = MonthlyReport.objects.get(pk=pk)
                task = selectors.open_task_of(report, "write")
                data = {**GOOD, "investment_month": amount_of(len(made))}
                reports.report_submit(task=task, user=org.head.user, data=data)
                made.append(pk)
        return new

    return make


def review_task(pk):
    return selectors.open_task_of(MonthlyReport.objects.get(pk=pk), "review")


def totals(ids):
    """{report: (the case's cumulative investment, this year's)} of each report's case."""
    rows = MonthlyReport.objects.filter(pk__in=ids).values_list("pk", "project_id")
    plans = dict(AnnualPlan.objects.filter(year=2026).values_list("project_id", "completed_investment"))
    cumulative = dict(KeyProject.objects.values_list("pk", "investment_completed_total"))
    return {pk: (cumulative[project], plans[project]) for pk, project in rows}


def accept_audits(ids):
    return AuditEvent.objects.filter(object_id__in=[str(pk) for pk in ids], transition="accept").count()


def states(ids):
    return set(MonthlyReport.objects.filter(pk__in=ids).values_list("state", flat=True))


@pytest.fixture
def on_workers(monkeypatch):
    """More than one report goes to the workers, two reports a batch: the worker's path with three reports."""
    monkeypatch.setattr(reports, "ACCEPT_INLINE", 1)
    monkeypatch.setattr(reports, "ACCEPT_BATCH", 2)


# The service


def test_accepting_several_reports_adds_each_ones_investment_once_and_audits_each(org, make_submitted):
    # Given three submitted reports
    ids = make_submitted(3)

    # When the secretariat accepts them together
    acceptance = monthly_services.reports_accept_many(user=org.secretariat.user, report_ids=ids)

    # Then each is accepted, its review finished, its investment added to its case's total and year once
    assert acceptance.finished_at is not None
    assert (acceptance.accepted_ids, acceptance.skipped) == (ids, [])
    assert states(ids) == {MonthlyReport.State.ACCEPTED}
    expected = {pk: (Decimal("1000000") + amount_of(i), Decimal("400000") + amount_of(i)) for i, pk in enumerate(ids)}
    assert totals(ids) == expected
    for pk in ids:
        report = MonthlyReport.objects.get(pk=pk)
        assert report.reviewed_by == org.secretariat.user and report.process.finished is not None
        assert review_task(pk) is None
        assert AuditEvent.objects.filter(
            object_id=str(report.project_id), changes__has_key="investment_completed_total"
        ).count() == 1
    assert accept_audits(ids) == 3


def test_a_returned_report_is_skipped_with_why_and_left_as_it_was(org, make_submitted):
    # Given two submitted reports, one of which the secretariat has just sent back
    kept, returned = make_submitted(2)
    reports.report_review(task=review_task(returned), user=org.secretariat.user, accepted=False, reason="Photos missing")
    before = totals([returned])

    # When both are accepted together
    acceptance = monthly_services.reports_accept_many(user=org.secretariat.user, report_ids=[kept, returned])

    # Then the returned one is skipped with why, and nothing of it changed
    assert acceptance.accepted_ids == [kept]
    code = MonthlyReport.objects.get(pk=returned).project.code
    assert acceptance.skipped == [{"report": returned, "project": code, "reason": "returned", "detail": ""}]
    report = MonthlyReport.objects.get(pk=returned)
    assert (report.state, report.return_reason) == (MonthlyReport.State.RETURNED, "Photos missing")
    assert totals([returned]) == before
    assert accept_audits([returned]) == 0
    assert selectors.open_task_of(report, "write") is not None  # still back with the unit


def test_a_review_someone_else_took_is_skipped_and_stays_theirs(org, make_submitted):
    # Given a submitted report whose review another member of the secretariat has taken
    colleague = PersonFactory(user__username="colleague", unit=org.commission, role=Role.SECRETARIAT)
    [pk] = make_submitted(1)
    engine_services.claim_task(task=review_task(pk), user=colleague.user)

    # When the secretariat accepts it together
    acceptance = monthly_services.reports_accept_many(user=org.secretariat.user, report_ids=[pk])

    # Then it is skipped as taken, and the review still waits for the colleague
    assert [row["reason"] for row in acceptance.skipped] == ["taken"]
    task = review_task(pk)
    assert (task.status, task.owner_id) == (STATUS.ASSIGNED, colleague.user.pk)
    assert states([pk]) == {MonthlyReport.State.SUBMITTED}


def test_a_report_accepted_already_is_skipped_and_its_investment_not_added_again(org, make_submitted):
    # Given a report accepted one by one
    [pk] = make_submitted(1)
    reports.report_review(task=review_task(pk), user=org.secretariat.user, accepted=True)
    before = totals([pk])

    # When it is accepted again together with nothing else
    acceptance = monthly_services.reports_accept_many(user=org.secretariat.user, report_ids=[pk])

    # Then it is skipped, and its case holds the investment once
    assert [row["reason"] for row in acceptance.skipped] == ["accepted"]
    assert totals([pk]) == before and accept_audits([pk]) == 1


def test_a_report_its_case_can_no_longer_take_is_refused_with_the_reason(org, make_submitted):
    # Given a submitted report whose case's total investment has since been lowered below what it adds
    [pk] = make_submitted(1)
    KeyProject.objects.filter(monthly_reports=pk).update(total_investment=Decimal("1050000"))

    # When it is accepted together
    acceptance = monthly_services.reports_accept_many(user=org.secretariat.user, report_ids=[pk])

    # Then it is skipped with what refused it, and left submitted
    [row] = acceptance.skipped
    assert row["reason"] == "refused" and "would exceed the total investment" in row["detail"]
    assert states([pk]) == {MonthlyReport.State.SUBMITTED} and review_task(pk) is not None


def test_a_batch_delivered_twice_accepts_nothing_twice(org, make_submitted, on_workers, django_capture_on_commit_callbacks):
    # Given an acceptance of three reports handed to the workers, its batches not yet run
    ids = make_submitted(3)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        acceptance = monthly_services.reports_accept_many(user=org.secretariat.user, report_ids=ids)
    assert len(queued) == 2 and acceptance.finished_at is None

    # When the first batch is delivered twice
    first = report_acceptance.reports_accept_batch(acceptance_id=acceptance.pk, report_ids=ids[:2])
    again = report_acceptance.reports_accept_batch(acceptance_id=acceptance.pk, report_ids=ids[:2])

    # Then its reports are accepted once and counted once
    assert first == {"accepted": 2, "skipped": 0} and again == {"accepted": 0, "skipped": 0}
    acceptance.refresh_from_db()
    assert (acceptance.accepted_ids, acceptance.skipped, acceptance.pending_count) == (ids[:2], [], 1)
    assert accept_audits(ids[:2]) == 2
    assert totals(ids[:1]) == {ids[0]: (Decimal("1000000") + amount_of(0), Decimal("400000") + amount_of(0))}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_delivered_twice_at_once_accepts_nothing_twice(org, make_submitted):
    # Given an acceptance of four reports, and two workers handed the same batch at the same moment
    ids = make_submitted(4)
    acceptance = ReportAcceptance.objects.create(
        requested_by=org.secretariat.user, requested_at=timezone.now(), updated_at=timezone.now(), report_ids=ids
    )
    start, results, errors = threading.Barrier(2), [], []

    def deliver():
        try:
            start.wait()
            results.append(report_acceptance.reports_accept_batch(acceptance_id=acceptance.pk, report_ids=ids))
        except Exception as error:  # a thread's failure is the test's
            errors.append(error)
        finally:
            connection.close()

    # When both run
    workers = [threading.Thread(target=deliver) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    # Then between them they accepted the four once each: each waited for the other on a report
    # both reached, and found it recorded
    assert errors == []
    assert sum(r["accepted"] for r in results) == 4 and all(r["skipped"] == 0 for r in results)
    acceptance.refresh_from_db()
    assert sorted(acceptance.accepted_ids) == ids and acceptance.skipped == [] and acceptance.finished_at is not None
    assert accept_audits(ids) == 4
    assert totals(ids) == {pk: (Decimal("1000000") + amount_of(i), Decimal("400000") + amount_of(i)) for i, pk in enumerate(ids)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["page", "batch"])
def test_a_review_on_its_page_and_a_batch_at_once_accept_the_report_once(org, make_submitted, first):
    # Given three submitted reports in an acceptance, and the first also reviewed on its page
    # at the same moment (viewflow's page takes the flow's lock, then the service the report's)
    from workflow.monthly.flows import ReportFlow

    ids = make_submitted(3)
    acceptance = ReportAcceptance.objects.create(
        requested_by=org.secretariat.user, requested_at=timezone.now(), updated_at=timezone.now(), report_ids=ids
    )
    task = review_task(ids[0])
    start, told, errors = threading.Barrier(2), [], []

    def page():
        try:
            start.wait()
            if first == "batch":
                time.sleep(0.05)
            with ReportFlow.lock(task.process_id), transaction.atomic():
                from viewflow.workflow.models import Task

                reports.report_review(task=Task.objects.get(pk=task.pk), user=org.secretariat.user, accepted=True)
                time.sleep(0.3)  # the reader's request takes its time
        except ValidationError as refused:  # the page tells its reader the report was accepted
            told.extend(refused.messages)
        except Exception as error:  # a thread's failure is the test's
            errors.append(error)
        finally:
            connection.close()

    def batch():
        try:
            start.wait()
            if first == "page":
                time.sleep(0.05)
            report_acceptance.reports_accept_batch(acceptance_id=acceptance.pk, report_ids=ids)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    # When both run
    threads = [threading.Thread(target=page), threading.Thread(target=batch)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then nothing failed, the first report was accepted once, and the loser was told
    assert errors == []
    assert states(ids) == {MonthlyReport.State.ACCEPTED} and accept_audits(ids) == 3
    assert totals(ids) == {pk: (Decimal("1000000") + amount_of(i), Decimal("400000") + amount_of(i)) for i, pk in enumerate(ids)}
    acceptance.refresh_from_db()
    assert acceptance.finished_at is not None
    if ids[0] in acceptance.accepted_ids:  # the batch won: the page was refused
        assert told and acceptance.skipped == []
    else:  # the page won: the batch says so
        assert told == [] and [(row["report"], row["reason"]) for row in acceptance.skipped] == [
            (ids[0], str(ReportAcceptance.Skip.ACCEPTED))
        ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_accepting_a_few_in_the_request_waits_for_a_review_being_posted(org, make_submitted, client):
    # Given three submitted reports, the review of the second being posted on its page and
    # holding its flow's lock for a moment
    from workflow.monthly.flows import ReportFlow

    ids = make_submitted(3)
    held, errors = threading.Event(), []

    def posting():
        try:
            with ReportFlow.lock(review_task(ids[1]).process_id), transaction.atomic():
                held.set()
                time.sleep(0.8)
        except Exception as error:  # a thread's failure is the test's
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=posting)
    thread.start()
    held.wait(5)

    # When the secretariat accepts the three on the status page (in the request)
    client.force_login(org.secretariat.user)
    response = client.post("/workflow/reports/?month=2026-10", {"month": "2026-10", "report": [str(pk) for pk in ids]})
    thread.join()

    # Then the request waited for the lock and accepted all three
    assert errors == [] and response.status_code == 302
    assert states(ids) == {MonthlyReport.State.ACCEPTED} and accept_audits(ids) == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_review_through_the_api_and_a_batch_at_once_accept_the_report_once(org, make_submitted, monkeypatch):
    # Given two submitted reports in an acceptance, and the first reviewed through the API at the
    # same moment, slowly (its case's investment takes a while to add)
    from cases import services as case_services

    ids = make_submitted(2)
    acceptance = ReportAcceptance.objects.create(
        requested_by=org.secretariat.user, requested_at=timezone.now(), updated_at=timezone.now(), report_ids=ids
    )
    record = case_services.project_record_investment

    in_review, answers, errors = threading.Event(), [], []

    def slowly_in_the_api(**kwargs):
        result = record(**kwargs)
        if threading.current_thread().name == "api":  # the report is locked and its case changed
            in_review.set()
            time.sleep(0.5)
        return result

    monkeypatch.setattr(case_services, "project_record_investment", slowly_in_the_api)

    def api_review():
        try:
            api = APIClient()
            api.force_login(org.secretariat.user)
            answers.append(api.post(f"/api/reports/{ids[0]}/review/", {"accepted": True}, format="json").status_code)
        except Exception as error:  # a thread's failure is the test's
            errors.append(error)
        finally:
            connection.close()

    def batch():
        try:
            in_review.wait(5)
            report_acceptance.reports_accept_batch(acceptance_id=acceptance.pk, report_ids=ids)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    # When both run
    threads = [threading.Thread(target=api_review, name="api"), threading.Thread(target=batch, name="batch")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then nobody failed: the API, which took the flow's lock first, won; the batch waited for
    # it, found the report accepted and said so; each report was accepted once
    assert errors == [] and answers == [200]
    assert states(ids) == {MonthlyReport.State.ACCEPTED} and accept_audits(ids) == 2
    acceptance.refresh_from_db()
    recorded = [*acceptance.accepted_ids, *(row["report"] for row in acceptance.skipped)]
    assert sorted(recorded) == ids and acceptance.finished_at is not None
    assert [(row["report"], row["reason"]) for row in acceptance.skipped] == [(ids[0], "accepted")]


def test_a_crash_in_the_middle_of_a_batch_leaves_no_report_half_accepted(org, make_submitted, monkeypatch):
    # Given three submitted reports, and a worker that dies finishing the second one's review,
    # after its investment was added to its case
    ids = make_submitted(3)
    before = totals(ids)
    acceptance = ReportAcceptance.objects.create(
        requested_by=org.secretariat.user, requested_at=timezone.now(), updated_at=timezone.now(), report_ids=ids
    )
    real_finish, calls = engine_services.finish_task, []

    def dies_on_the_second(task, user):
        calls.append(task.pk)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real_finish(task, user)

    monkeypatch.setattr(engine_services, "finish_task", dies_on_the_second)

    # When the batch runs
    with pytest.raises(RuntimeError):
        report_acceptance.reports_accept_batch(acceptance_id=acceptance.pk, report_ids=ids)

    # Then the first report is accepted and recorded, and the one it died on is untouched: its
    # case, audit trail and review task as they were; the third was not reached
    first, second, third = ids
    assert [states([pk]) for pk in ids] == [{MonthlyReport.State.ACCEPTED}, {MonthlyReport.State.SUBMITTED}, {MonthlyReport.State.SUBMITTED}]
    assert totals([second, third]) == {pk: before[pk] for pk in (second, third)} and accept_audits([second, third]) == 0
    assert review_task(first) is None and review_task(second) is not None and review_task(third) is not None
    acceptance.refresh_from_db()
    assert (acceptance.accepted_ids, acceptance.skipped) == ([first], [])

    # and its redelivery accepts the others, each once, and the first not again
    monkeypatch.setattr(engine_services, "finish_task", real_finish)
    assert report_acceptance.reports_accept_batch(acceptance_id=acceptance.pk, report_ids=ids) == {"accepted": 2, "skipped": 0}
    assert accept_audits(ids) == 3
    acceptance.refresh_from_db()
    assert sorted(acceptance.accepted_ids) == ids and acceptance.finished_at is not None


def test_the_workers_accept_in_batches_and_tell_the_requester_when_done(
    org, make_submitted, on_workers, django_capture_on_commit_callbacks
):
    # Given three submitted reports
    ids = make_submitted(3)

    # When they are accepted together, on the workers
    with django_capture_on_commit_callbacks(execute=True):
        acceptance = monthly_services.reports_accept_many(user=org.secretariat.user, report_ids=ids)

    # Then every batch ran, the acceptance is finished and whoever asked is told
    acceptance.refresh_from_db()
    assert acceptance.finished_at is not None and sorted(acceptance.accepted_ids) == ids
    assert states(ids) == {MonthlyReport.State.ACCEPTED}
    told = Notification.objects.get(recipient=org.secretariat.user, key="reports_accepted")
    assert told.link == f"/workflow/reports/?month=2026-10&acceptance={acceptance.pk}"


def test_a_batch_that_keeps_failing_ends_as_skipped_with_the_error(org, make_submitted, on_workers, monkeypatch):
    # Given an acceptance of three reports, and a review that always fails on the workers
    ids = make_submitted(3)
    acceptance = ReportAcceptance.objects.create(
        requested_by=org.secretariat.user, requested_at=timezone.now(), updated_at=timezone.now(), report_ids=ids
    )

    def broken(task, user):
        raise RuntimeError("the flow lock failed")

    monkeypatch.setattr(engine_services, "finish_task", broken)

    # When a batch has run out of retries
    result = batches.accept_reports.apply((acceptance.pk, ids[:2]), retries=batches.accept_reports.max_retries)

    # Then its reports are recorded as skipped with the error, and left submitted
    assert result.failed()
    acceptance.refresh_from_db()
    assert [(row["report"], row["reason"]) for row in acceptance.skipped] == [(ids[0], "failed"), (ids[1], "failed")]
    assert "the flow lock failed" in acceptance.skipped[0]["detail"]
    assert states(ids) == {MonthlyReport.State.SUBMITTED} and accept_audits(ids) == 0
    assert acceptance.finished_at is None and acceptance.pending_count == 1


@pytest.mark.parametrize("role", ["head", "supervisor", "leader", "bank"])
def test_only_the_secretariat_accepts_reports_together(org, make_submitted, role):
    [pk] = make_submitted(1)
    with pytest.raises(PermissionDenied):
        monthly_services.reports_accept_many(user=getattr(org, role).user, report_ids=[pk])
    assert states([pk]) == {MonthlyReport.State.SUBMITTED} and not ReportAcceptance.objects.exists()


@pytest.mark.parametrize("ids", [[], [999999], [10**30]])
def test_an_empty_selection_or_an_unknown_report_is_refused(org, ids):
    with pytest.raises(ValidationError) as error:
        monthly_services.reports_accept_many(user=org.secretariat.user, report_ids=ids)
    assert "reports" in error.value.message_dict
    assert not ReportAcceptance.objects.exists()


# What it costs


def batch_queries(org, ids):
    acceptance = ReportAcceptance.objects.create(
        requested_by=org.secretariat.user, requested_at=timezone.now(), updated_at=timezone.now(), report_ids=ids
    )
    with CaptureQueriesContext(connection) as queries:
        assert report_acceptance.reports_accept_batch(acceptance_id=acceptance.pk, report_ids=ids)["accepted"] == len(ids)
    return len(queries)


def test_each_report_costs_the_same_queries_at_two_batch_sizes(org, make_submitted):
    ids = make_submitted(16)
    batch_queries(org, ids[:1])  # the caches of a fresh process (content types) are filled once
    two, five, eight = batch_queries(org, ids[1:3]), batch_queries(org, ids[3:8]), batch_queries(org, ids[8:16])
    per_report = (five - two) / 3
    assert (eight - five) / 3 == per_report  # the same cost a report at either size
    # what one review costs (the case, its year, the audit rows, the flow's steps), its flow's
    # lock and its record on the acceptance
    assert per_report <= 50


# The status page


def page(client, user, query="?month=2026-10"):
    client.force_login(user)
    return client.get(f"/workflow/reports/{query}")


def test_the_secretariat_sees_a_box_on_each_submitted_report_and_the_buttons(org, make_submitted, client):
    ids = make_submitted(2)
    MonthlyReport.objects.filter(pk=ids[1]).update(state=MonthlyReport.State.RETURNED)
    html = page(client, org.secretariat.user).content.decode()
    assert 'id="accept-reports"' in html
    assert f'name="report" value="{ids[0]}"' in html and f'name="report" value="{ids[1]}"' not in html
    assert 'name="scope" value="all" data-matching="1"' in html


def test_with_nothing_submitted_the_secretariat_sees_no_accept_buttons(org, make_submitted, client):
    [pk] = make_submitted(1)
    MonthlyReport.objects.filter(pk=pk).update(state=MonthlyReport.State.ACCEPTED)
    html = page(client, org.secretariat.user).content.decode()
    assert 'name="scope"' not in html and 'name="report"' not in html


@pytest.mark.parametrize("role", ["head", "supervisor", "leader"])
def test_others_see_no_controls_and_are_refused_the_post(org, make_submitted, client, role):
    [pk] = make_submitted(1)
    html = page(client, getattr(org, role).user).content.decode()
    assert 'id="accept-reports"' not in html and 'name="report"' not in html
    response = client.post("/workflow/reports/", {"month": "2026-10", "report": [pk]})
    assert response.status_code == 403
    assert states([pk]) == {MonthlyReport.State.SUBMITTED}


def test_an_institution_is_refused_the_page_and_the_post(org, make_submitted, client):
    [pk] = make_submitted(1)
    assert page(client, org.bank.user).status_code == 403
    assert client.post("/workflow/reports/", {"month": "2026-10", "report": [pk]}).status_code == 403
    assert states([pk]) == {MonthlyReport.State.SUBMITTED}


def test_the_secretariat_accepts_the_ticked_reports_and_sees_the_outcome(org, make_submitted, client):
    ticked, returned, left = make_submitted(3)
    reports.report_review(task=review_task(returned), user=org.secretariat.user, accepted=False, reason="Photos missing")
    client.force_login(org.secretariat.user)

    response = client.post("/workflow/reports/", {"month": "2026-10", "state": "", "report": [ticked, returned]})

    assert response.status_code == 302
    acceptance = ReportAcceptance.objects.get()
    assert response["Location"] == f"/workflow/reports/?month=2026-10&state=&acceptance={acceptance.pk}"
    assert states([ticked]) == {MonthlyReport.State.ACCEPTED} and states([left]) == {MonthlyReport.State.SUBMITTED}
    html = client.get(response["Location"]).content.decode()
    assert 'data-status="done"' in html and 'data-accepted="1"' in html and 'data-skipped="1"' in html
    assert f'data-report="{returned}" data-reason="returned"' in html and "Returned for correction" in html
    assert 'http-equiv="refresh"' not in html


def test_all_submitted_reports_of_the_filter_are_accepted_across_pages(org, make_submitted, client, monkeypatch):
    # Given more submitted reports than a page of the table shows (two a page here)
    from django.core import paginator

    ids = make_submitted(3)
    real = paginator.Paginator
    monkeypatch.setattr("workflow.monthly.pages.cycle.Paginator", lambda rows, size: real(rows, 2))
    client.force_login(org.secretariat.user)
    assert client.get("/workflow/reports/?month=2026-10&state=submitted").content.decode().count('name="report"') == 2

    # When the secretariat accepts all of the filter
    client.post("/workflow/reports/", {"month": "2026-10", "state": "submitted", "scope": "all"})

    # Then every one is accepted
    assert states(ids) == {MonthlyReport.State.ACCEPTED}
    assert sorted(ReportAcceptance.objects.get().accepted_ids) == ids


def test_all_of_a_filter_showing_other_states_accepts_nothing(org, make_submitted, client):
    [pk] = make_submitted(1)
    client.force_login(org.secretariat.user)
    response = client.post("/workflow/reports/", {"month": "2026-10", "state": "accepted", "scope": "all"}, follow=True)
    assert "Choose at least one submitted report." in response.content.decode()
    assert states([pk]) == {MonthlyReport.State.SUBMITTED} and not ReportAcceptance.objects.exists()


def test_nothing_ticked_is_an_error_on_the_page(org, make_submitted, client):
    [pk] = make_submitted(1)
    client.force_login(org.secretariat.user)
    response = client.post("/workflow/reports/", {"month": "2026-10", "scope": "ticked"}, follow=True)
    assert "Choose at least one submitted report." in response.content.decode()
    assert states([pk]) == {MonthlyReport.State.SUBMITTED}


def test_the_page_follows_an_acceptance_on_the_workers_until_it_is_done(
    org, make_submitted, client, on_workers, django_capture_on_commit_callbacks
):
    # Given three reports sent to the workers, whose first batch has run
    ids = make_submitted(3)
    client.force_login(org.secretariat.user)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post("/workflow/reports/", {"month": "2026-10", "report": ids})
    queued[0]()

    # Then the page refreshes and shows how far it got, for whoever of the secretariat opens it
    html = page(client, org.secretariat.user).content.decode()
    assert 'http-equiv="refresh"' in html and 'data-status="running"' in html
    assert '<progress max="3" value="2">' in html and 'data-accepted="2"' in html
    assert 'id="acceptance"' not in page(client, org.head.user).content.decode()

    # and when the last batch has run, it stops refreshing
    queued[1]()
    html = page(client, org.secretariat.user, response["Location"].removeprefix("/workflow/reports/")).content.decode()
    assert 'http-equiv="refresh"' not in html and 'data-status="done"' in html and 'data-accepted="3"' in html


def test_an_acceptance_the_workers_lost_is_shown_stalled_and_stops_refreshing(
    org, make_submitted, client, on_workers, django_capture_on_commit_callbacks
):
    ids = make_submitted(3)
    with django_capture_on_commit_callbacks(execute=False):
        acceptance = monthly_services.reports_accept_many(user=org.secretariat.user, report_ids=ids)
    with time_machine.travel(timezone.now() + reports.ACCEPT_STALLED + datetime.timedelta(minutes=1)):
        html = page(client, org.secretariat.user, f"?month=2026-10&acceptance={acceptance.pk}").content.decode()
    assert 'data-status="stalled"' in html and 'http-equiv="refresh"' not in html
    assert "3 reports were not handled" in html


def status_page_queries(client, user, query):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/workflow/reports/{query}").status_code == 200
    return len(queries)


def test_the_status_page_with_boxes_and_progress_costs_the_same_queries_at_two_sizes(org, make_submitted, client):
    # Given an acceptance with reports accepted and skipped, and submitted reports in the table
    ids = make_submitted(4)
    acceptance = monthly_services.reports_accept_many(user=org.secretariat.user, report_ids=ids[:2])
    ReportAcceptance.objects.filter(pk=acceptance.pk).update(
        skipped=[{"report": ids[3], "project": "X", "reason": "returned", "detail": ""}]
    )
    query = f"?month=2026-10&acceptance={acceptance.pk}"
    small = status_page_queries(client, org.secretariat.user, query)

    # When the month has many more submitted reports
    more = make_submitted(8)
    ReportAcceptance.objects.filter(pk=acceptance.pk).update(
        skipped=[{"report": pk, "project": "X", "reason": "returned", "detail": ""} for pk in more]
    )

    # Then the page costs the same
    assert status_page_queries(client, org.secretariat.user, query) == small


# API


def test_the_api_accepts_by_ids_and_answers_with_the_outcome(org, make_submitted):
    ids = make_submitted(2)
    api = APIClient()
    api.force_authenticate(org.secretariat.user)

    response = api.post("/api/reports/accept/", {"reports": ids}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["total"], body["accepted"], body["pending"]) == ("done", 2, 2, 0)
    assert body["accepted_reports"] == ids and body["skipped"] == [] and body["month"] == "2026-10"
    assert states(ids) == {MonthlyReport.State.ACCEPTED}


def test_the_api_accepts_a_months_submitted_reports_on_the_workers_and_gives_the_progress(
    org, make_submitted, on_workers, django_capture_on_commit_callbacks
):
    ids = make_submitted(3)
    api = APIClient()
    api.force_authenticate(org.secretariat.user)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api.post("/api/reports/accept/", {"month": "2026-10", "unit": org.park.pk}, format="json")
    assert response.status_code == 202, response.content
    pk = response.json()["id"]
    assert response.json()["status"] == "running" and response.json()["pending"] == 3

    for batch in queued:
        batch()

    progress = api.get(f"/api/reports/acceptances/{pk}/")
    assert progress.status_code == 200
    assert (progress.json()["status"], progress.json()["accepted"]) == ("done", 3)
    assert states(ids) == {MonthlyReport.State.ACCEPTED}


def test_the_api_reports_what_was_skipped_and_why(org, make_submitted):
    kept, returned = make_submitted(2)
    reports.report_review(task=review_task(returned), user=org.secretariat.user, accepted=False, reason="Photos missing")
    api = APIClient()
    api.force_authenticate(org.secretariat.user)
    body = api.post("/api/reports/accept/", {"reports": [kept, returned]}, format="json").json()
    assert body["accepted_reports"] == [kept]
    [skipped] = body["skipped"]
    assert (skipped["report"], skipped["reason"], skipped["why"]) == (returned, "returned", "Returned for correction")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reports": []}, "reports"),
        ({"reports": [999999]}, "reports"),
        ({"reports": [10**30]}, "reports"),
        ({"reports": ["x"]}, "reports"),
        ({}, "non_field_errors"),
        ({"reports": [1], "month": "2026-10"}, "non_field_errors"),
        ({"month": "2026-09"}, "month"),  # nothing submitted on September
        ({"month": "2999-01"}, "month"),
        ({"reports": [1], "unit": 3}, "unit"),
    ],
)
def test_the_api_refuses_bad_input_with_a_clear_error(org, make_submitted, body, field):
    make_submitted(1)
    api = APIClient()
    api.force_authenticate(org.secretariat.user)
    response = api.post("/api/reports/accept/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ReportAcceptance.objects.exists()


@pytest.mark.parametrize("role", ["head", "supervisor", "leader", "bank", "owner"])
def test_the_api_refuses_everyone_but_the_secretariat(org, make_submitted, role):
    [pk] = make_submitted(1)
    acceptance = ReportAcceptance.objects.create(
        requested_by=org.secretariat.user, requested_at=timezone.now(), updated_at=timezone.now(), report_ids=[pk]
    )
    api = APIClient()
    api.force_authenticate(getattr(org, role).user)
    assert api.post("/api/reports/accept/", {"reports": [pk]}, format="json").status_code == 403
    assert api.get(f"/api/reports/acceptances/{acceptance.pk}/").status_code == 403
    assert states([pk]) == {MonthlyReport.State.SUBMITTED}


def test_the_api_answers_404_for_an_unknown_acceptance(org):
    api = APIClient()
    api.force_authenticate(org.secretariat.user)
    assert api.get("/api/reports/acceptances/999999/").status_code == 404


def test_ids_the_database_cannot_hold_or_that_are_not_ascii_digits_get_a_clear_answer(org, make_submitted, client):
    ids = make_submitted(1)
    client.force_login(org.secretariat.user)

    shown = client.get("/workflow/reports/?month=2026-10&acceptance=²")
    ticked = client.post("/workflow/reports/?month=2026-10", {"month": "2026-10", "report": [str(ids[0]), "²"]}, follow=True)
    api = APIClient()
    api.force_login(org.secretariat.user)

    assert shown.status_code == 200
    assert ticked.status_code == 200 and "There is no report ²." in ticked.content.decode()
    assert states(ids) == {MonthlyReport.State.SUBMITTED}  # one bad box: nothing accepted
    assert api.get("/api/reports/", {"month": "2026-10", "unit": "²"}).status_code == 400
    assert reports.id_param("12") == 12 and reports.id_param(str(2**63)) is None and reports.id_param("-3") is None

