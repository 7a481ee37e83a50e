"""Matchmaking events: planned with projects whose needs are on the white list (suggested from the
industrial chain), institutions invited with an iCalendar invitation, attendance, intents signed on
the spot opening or advancing dockings and starting their follow-up tasks, closing; who may see and
do what; pages and API with constant query counts."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar
from rest_framework.test import APIClient

from cases import services
from cases.financing import selectors as docking_selectors
from cases.financing import services as financing_services
from cases.financing.models import Docking, EventInvitation, MatchmakingEvent
from cases.financing.services import events
from cases.models import AuditEvent, Role, Stage
from notifications.models import Notification
from tests.cases.factories import KeyProjectFactory, PersonFactory, set_stage
from tests.cases.financing.factories import (
    FinancingNeedFactory,
    InstitutionFactory,
    publish_directly,
)
from workflow.coordination.models import DockingProcess
from workflow.engine import selectors
from workflow.engine.models import TaskClock, TaskKind

D = Decimal


def at(day, hour=9, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


PLANNING = at(datetime.date(2026, 11, 10), 10)
STARTS = at(datetime.date(2026, 11, 20), 9)
ENDS = at(datetime.date(2026, 11, 20), 12)
DURING = at(datetime.date(2026, 11, 20), 10, 30)
CHAIN = "new_materials"


@pytest.fixture
def world(org):
    """org.project (new materials, in docking) and a second case of the chain with needs on the white
    list; a case of another chain with one; a case of the chain without one; a second bank."""
    set_stage(org.project, Stage.DOCKING)
    org.need = publish_directly(FinancingNeedFactory(project=org.project, amount=D("30000000")))
    org.chain_case = set_stage(KeyProjectFactory(region=org.district, lead_unit=org.park, industry=CHAIN), Stage.DOCKING)
    org.chain_need = publish_directly(FinancingNeedFactory(project=org.chain_case))
    org.other_chain_case = set_stage(KeyProjectFactory(region=org.district, lead_unit=org.park, industry="biotech"), Stage.DOCKING)
    publish_directly(FinancingNeedFactory(project=org.other_chain_case))
    org.unlisted_case = set_stage(KeyProjectFactory(region=org.district, lead_unit=org.park, industry=CHAIN), Stage.DOCKING)
    FinancingNeedFactory(project=org.unlisted_case)  # a draft: not on the white list
    org.other_bank_unit = InstitutionFactory(name="另一家银行")
    org.other_bank = PersonFactory(user__username="other_bank", name="other_bank", unit=org.other_bank_unit, role=Role.INSTITUTION)
    org.bank_colleague = PersonFactory(user__username="bank_colleague", unit=org.bank_unit, role=Role.INSTITUTION)
    for person in [org.bank, org.other_bank, org.bank_colleague, org.head, org.secretariat]:
        User.objects.filter(pk=person.user_id).update(email=f"{person.user.username}@example.cn")
    return org


DETAILS = {
    "title": "新材料产业链“一月一链”投融资路演",
    "kind": MatchmakingEvent.Kind.CHAIN_MONTH,
    "chain": CHAIN,
    "starts_at": STARTS,
    "ends_at": ENDS,
    "place": "市民中心三楼报告厅",
}


def plan(org, projects=None, **changes):
    with time_machine.travel(PLANNING, tick=False):
        return events.event_create(
            actor=org.secretariat.user, data={**DETAILS, **changes}, projects=[org.project] if projects is None else projects
        )


def invite(org, event, institutions=None, capture=None):
    with time_machine.travel(PLANNING, tick=False):
        if capture is None:
            return events.event_invite(event=event, institutions=institutions or [org.bank_unit], actor=org.secretariat.user)
        with capture(execute=True):
            return events.event_invite(event=event, institutions=institutions or [org.bank_unit], actor=org.secretariat.user)


def fresh(event):
    return MatchmakingEvent.objects.get(pk=event.pk)


def sign(org, event, need=None, institution=None, amount=None):
    with time_machine.travel(DURING, tick=False):
        return events.event_sign_intent(
            event=fresh(event), need=need or org.need, institution=institution or org.bank_unit,
            amount=D("20000000") if amount is None else amount,
            actor=org.secretariat.user,
        )


# Planning


def test_the_secretariat_plans_an_event_pitching_cases_with_needs_on_the_white_list(world):
    event = plan(world, projects=[world.project, world.chain_case])

    stored = fresh(event)
    assert (stored.state, stored.organiser, stored.created_by) == ("planned", world.commission, world.secretariat.user)
    assert set(stored.projects.all()) == {world.project, world.chain_case}
    created = AuditEvent.objects.get(object_id=str(event.pk), content_type__model="matchmakingevent")
    assert created.changes["projects"] == [None, sorted([world.project.pk, world.chain_case.pk])]


def test_a_case_without_a_need_on_the_white_list_cannot_be_pitched(world):
    with pytest.raises(ValidationError) as refused:
        plan(world, projects=[world.project, world.unlisted_case])

    assert list(refused.value.message_dict) == ["projects"] and world.unlisted_case.code in str(refused.value)
    assert not MatchmakingEvent.objects.exists()


def test_an_event_cannot_end_before_it_starts(world):
    with pytest.raises(ValidationError) as refused:
        plan(world, ends_at=STARTS - datetime.timedelta(hours=1))

    assert list(refused.value.message_dict) == ["ends_at"]


@pytest.mark.parametrize("role", ["head", "supervisor", "bank", "leader"])
def test_only_the_secretariat_plans_events(world, role):
    with pytest.raises(PermissionDenied):
        events.event_create(actor=getattr(world, role).user, data=DETAILS, projects=[world.project])


def test_the_cases_of_the_chain_with_needs_on_the_white_list_are_suggested(world):
    event = plan(world)

    assert list(docking_selectors.suggested_projects(event)) == [world.chain_case]


# Invitations


def calendar_invitations():
    """{address: the VEVENT of the invitation sent there}."""
    found = {}
    for message in mail.outbox:
        for _name, content, mimetype in message.attachments:
            if mimetype.startswith("text/calendar"):
                (vevent,) = Calendar.from_ical(content).walk("VEVENT")
                found[message.to[0]] = vevent
    return found


def test_invited_institutions_people_get_an_icalendar_invitation(world, django_capture_on_commit_callbacks):
    event = plan(world, projects=[world.project, world.chain_case])

    invited = invite(world, event, capture=django_capture_on_commit_callbacks)

    assert [i.institution for i in invited] == [world.bank_unit]
    sent = calendar_invitations()
    assert set(sent) == {"bank@example.cn", "bank_colleague@example.cn"}
    vevent = sent["bank@example.cn"]
    assert str(vevent["uid"]) == f"event-{event.pk}@keyprojects"
    assert str(vevent["summary"]) == DETAILS["title"]
    assert vevent.decoded("dtstart") == STARTS and vevent.decoded("dtend") == ENDS
    assert str(vevent["location"]) == DETAILS["place"]
    assert world.project.code in str(vevent["description"]) and world.chain_case.code in str(vevent["description"])
    stored = fresh(event)
    assert stored.state == "invited"
    assert EventInvitation.objects.get(event=event).invited_at == PLANNING
    assert Notification.objects.filter(key="meeting_invitation", link=reverse("financing:event", args=[event.pk])).count() == 2


def test_inviting_more_institutions_invites_only_the_new_ones(world, django_capture_on_commit_callbacks):
    event = plan(world)
    invite(world, event)

    invited = invite(world, fresh(event), [world.bank_unit, world.other_bank_unit], capture=django_capture_on_commit_callbacks)

    assert [i.institution for i in invited] == [world.other_bank_unit]
    assert set(calendar_invitations()) == {"other_bank@example.cn"}
    assert EventInvitation.objects.filter(event=event).count() == 2


def test_moving_an_invited_event_sends_the_updated_invitation_with_the_same_uid(world, django_capture_on_commit_callbacks):
    event = plan(world)
    invite(world, event)
    later = STARTS + datetime.timedelta(days=1)

    with time_machine.travel(PLANNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        events.event_update(
            event=fresh(event), actor=world.secretariat.user, data={"starts_at": later, "ends_at": later + datetime.timedelta(hours=3)},
            expected_version=2,
        )

    vevent = calendar_invitations()["bank@example.cn"]
    assert str(vevent["uid"]) == f"event-{event.pk}@keyprojects" and vevent.decoded("dtstart") == later


@pytest.mark.parametrize(
    "institutions,when,field",
    [("none", PLANNING, "institutions"), ("a department", PLANNING, "institutions"), ("the bank", DURING, "institutions")],
)
def test_an_invitation_that_cannot_be_sent_is_refused(world, institutions, when, field):
    event = plan(world)
    chosen = {"none": [], "a department": [world.department], "the bank": [world.bank_unit]}[institutions]

    with time_machine.travel(when, tick=False), pytest.raises(ValidationError) as refused:
        events.event_invite(event=event, institutions=chosen, actor=world.secretariat.user)

    assert list(refused.value.message_dict) == [field]
    assert not EventInvitation.objects.exists() and fresh(event).state == "planned"


def test_an_invitation_from_a_stale_version_is_a_conflict(world):
    event = plan(world)
    events.event_update(event=fresh(event), actor=world.secretariat.user, data={"place": "会展中心"})

    with time_machine.travel(PLANNING, tick=False), pytest.raises(services.Conflict):
        events.event_invite(event=fresh(event), institutions=[world.bank_unit], actor=world.secretariat.user, expected_version=1)


# Attendance


def test_attendance_is_recorded_once_the_event_has_begun(world):
    event = plan(world)
    invite(world, event, [world.bank_unit, world.other_bank_unit])

    with time_machine.travel(PLANNING, tick=False), pytest.raises(ValidationError):
        events.event_record_attendance(event=fresh(event), attended=[world.bank_unit], actor=world.secretariat.user)
    with time_machine.travel(DURING, tick=False):
        events.event_record_attendance(event=fresh(event), attended=[world.bank_unit], actor=world.secretariat.user)

    assert dict(EventInvitation.objects.values_list("institution", "attended")) == {
        world.bank_unit.pk: True, world.other_bank_unit.pk: False
    }
    assert fresh(event).state == "held"


def test_only_an_invited_institution_can_have_attended(world):
    event = plan(world)
    invite(world, event)

    with time_machine.travel(DURING, tick=False), pytest.raises(ValidationError) as refused:
        events.event_record_attendance(event=fresh(event), attended=[world.other_bank_unit], actor=world.secretariat.user)

    assert list(refused.value.message_dict) == ["attended"]


# Intents signed on the spot


def test_an_intent_signed_at_the_event_opens_a_docking_at_intent_signed_and_a_follow_up_task(world):
    event = plan(world)
    invite(world, event)

    docking = sign(world, event)

    stored = Docking.objects.get(pk=docking.pk)
    assert (stored.need, stored.institution, stored.state, stored.intent_amount, stored.source, stored.event) == (
        world.need, world.bank_unit, "intent_signed", D("20000000"), "event", event
    )
    assert [e.transition for e in AuditEvent.objects.filter(object_id=str(docking.pk), content_type__model="docking").order_by("pk")] == [
        "", "contact", "sign_intent"
    ]
    [process] = DockingProcess.objects.filter(docking=docking)
    assert process.reason == "event"
    task = process.task_set.get(flow_task__isnull=False, status="NEW")
    assert task.pk in {t.pk for t in selectors.queue(world.head.user)}
    assert TaskClock.objects.get(task=task).kind == TaskKind.DOCKING_FOLLOW_UP
    assert EventInvitation.objects.get(event=event).attended is True
    assert fresh(event).state == "held"
    assert Notification.objects.filter(key="docking_update", recipient=world.head.user).count() == 1


def test_an_intent_signed_at_the_event_advances_the_institutions_docking_on_the_need(world):
    interest = financing_services.docking_express_interest(need=world.need, actor=world.bank.user)
    event = plan(world)
    invite(world, event)

    docking = sign(world, event, amount=D("30000000"))

    stored = Docking.objects.get(pk=docking.pk)
    assert stored.pk == interest.pk
    assert (stored.state, stored.source, stored.event, stored.intent_amount) == ("intent_signed", "interest", event, D("30000000"))
    assert DockingProcess.objects.filter(docking=stored, reason="event").count() == 1


REFUSED_SIGNINGS = {
    "an institution not invited": (lambda w: {"institution": w.other_bank_unit}, "institution"),
    "a need of a case not pitched": (lambda w: {"need": w.chain_need}, "need"),
    "an intent above the need": (lambda w: {"amount": D("30000000.01")}, "intent_amount"),
}


@pytest.mark.parametrize("case", REFUSED_SIGNINGS)
def test_a_signing_that_does_not_fit_is_refused_and_changes_nothing(world, case):
    arguments, field = REFUSED_SIGNINGS[case]
    event = plan(world)
    invite(world, event)

    with pytest.raises(ValidationError) as refused:
        sign(world, event, **arguments(world))

    assert field in refused.value.message_dict
    assert not Docking.objects.exists() and not DockingProcess.objects.exists()


def test_signing_twice_for_the_same_need_and_institution_is_not_available(world):
    event = plan(world)
    invite(world, event)
    sign(world, event)

    with pytest.raises(services.TransitionNotAvailable):
        sign(world, event)

    assert DockingProcess.objects.count() == 1


def test_nobody_signs_before_the_event_begins(world):
    event = plan(world)
    invite(world, event)

    with time_machine.travel(PLANNING, tick=False), pytest.raises(ValidationError):
        events.event_sign_intent(
            event=fresh(event), need=world.need, institution=world.bank_unit, amount=D("1"), actor=world.secretariat.user
        )


def test_a_held_event_is_closed_with_its_summary_and_then_changes_no_more(world):
    event = plan(world)
    invite(world, event)
    sign(world, event)

    events.event_close(event=fresh(event), actor=world.secretariat.user, summary="签约意向2000万元")

    assert (fresh(event).state, fresh(event).summary) == ("closed", "签约意向2000万元")
    with pytest.raises(ValidationError):
        events.event_update(event=fresh(event), actor=world.secretariat.user, data={"place": "别处"})


# Who sees what


def test_an_institutions_people_see_the_events_their_institution_is_invited_to(world):
    invited = plan(world)
    invite(world, invited, [world.bank_unit, world.other_bank_unit])
    plan(world, title="另一场路演")
    sign(world, invited, institution=world.other_bank_unit)

    assert [e.pk for e in docking_selectors.event_list(world.bank.user)] == [invited.pk]
    detail = docking_selectors.event_detail(world.bank.user, invited.pk)
    assert [i.institution for i in detail.invitation_rows] == [world.bank_unit]  # not the other bank's
    assert detail.intent_rows == []  # nor its intents
    assert docking_selectors.event_list(world.owner.user).count() == 0


# Pages


@pytest.fixture
def held(world):
    event = plan(world, projects=[world.project, world.chain_case])
    invite(world, event, [world.bank_unit, world.other_bank_unit])
    sign(world, event)
    return fresh(event)


PAGES = ["events", "event", "event_add", "event_edit", "event_invite", "event_attendance", "event_sign"]


def page_url(name, event):
    return reverse(f"financing:{name}", args=[] if name in ("events", "event_add") else [event.pk])


@pytest.mark.parametrize("name", PAGES)
def test_the_secretariat_opens_every_event_page(world, held, client, name):
    client.force_login(world.secretariat.user)

    with time_machine.travel(DURING, tick=False):
        response = client.get(page_url(name, held))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "role,allowed",
    [("bank", {"events", "event"}), ("head", {"events", "event"}), ("other_bank", {"events", "event"}), ("owner", set())],
)
def test_others_read_the_events_and_do_nothing_else(world, held, client, role, allowed):
    client.force_login(getattr(world, role).user)

    for name in PAGES:
        status = client.get(page_url(name, held)).status_code
        assert status == (200 if name in allowed else 403), name


def test_a_bank_not_invited_does_not_find_the_event(world, client):
    event = plan(world)
    invite(world, event)
    client.force_login(world.other_bank.user)

    assert client.get(reverse("financing:event", args=[event.pk])).status_code == 404
    assert event.title not in client.get(reverse("financing:events")).content.decode()


def test_the_secretariat_plans_invites_and_records_a_signing_on_the_pages(world, client, django_capture_on_commit_callbacks):
    client.force_login(world.secretariat.user)
    with time_machine.travel(PLANNING, tick=False):
        added = client.post(
            reverse("financing:event_add"),
            {**DETAILS, "starts_at": "2026-11-20T09:00", "ends_at": "2026-11-20T12:00", "projects": [world.project.pk]},
        )
        event = MatchmakingEvent.objects.get()
        assert added.status_code == 302 and added["Location"] == reverse("financing:event", args=[event.pk])
        with django_capture_on_commit_callbacks(execute=True):
            invited = client.post(reverse("financing:event_invite", args=[event.pk]), {"institutions": [world.bank_unit.pk], "version": 1})
    assert invited.status_code == 302 and set(calendar_invitations()) == {"bank@example.cn", "bank_colleague@example.cn"}
    with time_machine.travel(DURING, tick=False):
        client.force_login(world.secretariat.user)  # a new working day, a new session
        signed = client.post(
            reverse("financing:event_sign", args=[event.pk]),
            {"need": world.need.pk, "institution": world.bank_unit.pk, "amount": "1500"},
        )
    docking = Docking.objects.get()
    assert signed.status_code == 302 and signed["Location"] == reverse("financing:docking", args=[docking.pk])
    assert (docking.intent_amount, docking.event) == (D("15000000.00"), event)


def test_a_refused_page_form_shows_the_error_by_field(world, client):
    event = plan(world)
    client.force_login(world.secretariat.user)

    with time_machine.travel(PLANNING, tick=False):
        response = client.post(
            reverse("financing:event_edit", args=[event.pk]),
            {**DETAILS, "starts_at": "2026-11-20T09:00", "ends_at": "2026-11-20T08:00", "version": 1},
        )

    assert response.status_code == 400 and "ends_at" in response.context["form"].errors


def _page_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def _more_events(world, count):
    for index in range(count):
        event = plan(world, title=f"路演{index}", projects=[world.project, world.chain_case])
        invite(world, event, [world.bank_unit, world.other_bank_unit])


@pytest.mark.parametrize("role", ["secretariat", "bank"])
def test_the_event_list_page_costs_the_same_queries_for_two_and_twelve_events(world, client, role):
    client.force_login(getattr(world, role).user)
    _more_events(world, 2)
    _page_queries(client, reverse("financing:events"))
    small = _page_queries(client, reverse("financing:events"))
    _more_events(world, 10)

    assert _page_queries(client, reverse("financing:events")) == small


def _event_with(world, title, extra):
    """An event pitching the two cases and ``extra`` more, with as many more banks invited, each new bank
    signing on one need (with none, the bank signs on one)."""
    projects, banks = [world.project, world.chain_case], [world.bank_unit, world.other_bank_unit]
    for _ in range(extra):
        case = set_stage(KeyProjectFactory(region=world.district, lead_unit=world.park, industry=CHAIN), Stage.DOCKING)
        publish_directly(FinancingNeedFactory(project=case))
        projects.append(case)
        banks.append(InstitutionFactory())
    event = plan(world, title=title, projects=projects)
    invite(world, event, banks)
    needs = list(docking_selectors.signable_needs(event))
    signers = banks[2:] or [world.bank_unit]
    for bank, need in zip(signers, needs, strict=False):
        sign(world, event, need=need, institution=bank, amount=D("1000"))
    return event


@pytest.mark.parametrize("role", ["secretariat", "bank"])
def test_the_event_page_costs_the_same_queries_with_more_projects_invitations_and_intents(world, client, role):
    small = _event_with(world, "小型路演", 0)
    large = _event_with(world, "大型路演", 6)
    client.force_login(getattr(world, role).user)

    with time_machine.travel(DURING, tick=False):
        _page_queries(client, reverse("financing:event", args=[small.pk]))
        assert _page_queries(client, reverse("financing:event", args=[small.pk])) == _page_queries(
            client, reverse("financing:event", args=[large.pk])
        )


# API


@pytest.fixture
def api():
    def as_(person):
        client = APIClient()
        client.force_authenticate(person.user)
        return client

    return as_


def test_the_api_runs_an_event_from_planning_to_closing(world, api, django_capture_on_commit_callbacks):
    client = api(world.secretariat)
    with time_machine.travel(PLANNING, tick=False):
        created = client.post(
            "/api/events/", {**DETAILS, "starts_at": STARTS.isoformat(), "ends_at": ENDS.isoformat(), "projects": [world.project.pk]},
            format="json",
        )
        assert created.status_code == 201, created.content
        pk = created.json()["id"]
        suggestions = client.get(f"/api/events/{pk}/suggestions/")
        with django_capture_on_commit_callbacks(execute=True):
            invited = client.post(f"/api/events/{pk}/invite/", {"institutions": [world.bank_unit.pk], "version": 1}, format="json")
    with time_machine.travel(DURING, tick=False):
        stale = client.post(f"/api/events/{pk}/attendance/", {"attended": [world.bank_unit.pk], "version": 1}, format="json")
        attended = client.post(f"/api/events/{pk}/attendance/", {"attended": [world.bank_unit.pk], "version": 2}, format="json")
        signed = client.post(
            f"/api/events/{pk}/sign/", {"need": world.need.pk, "institution": world.bank_unit.pk, "amount": "20000000"}, format="json"
        )
        again = client.post(
            f"/api/events/{pk}/sign/", {"need": world.need.pk, "institution": world.bank_unit.pk, "amount": "20000000"}, format="json"
        )
        closed = client.post(f"/api/events/{pk}/close/", {"summary": "成果丰硕"}, format="json")

    assert [row["id"] for row in suggestions.json()] == [world.chain_case.pk]
    assert invited.status_code == 200 and invited.json()["state"] == "invited"
    assert stale.status_code == 409 and attended.status_code == 200
    assert attended.json()["invitations"][0]["attended"] is True
    assert signed.status_code == 201 and signed.json()["state"] == "intent_signed" and signed.json()["event"] == pk
    assert again.status_code == 409
    assert closed.status_code == 200 and closed.json()["state"] == "closed"


def test_the_api_shows_an_institution_only_its_invited_events_and_lets_it_change_nothing(world, api):
    invited = plan(world)
    invite(world, invited)
    hidden = plan(world, title="未邀请")
    client = api(world.bank)

    assert [row["id"] for row in client.get("/api/events/").json()["results"]] == [invited.pk]
    assert client.get(f"/api/events/{hidden.pk}/").status_code == 404
    assert client.post(f"/api/events/{invited.pk}/invite/", {"institutions": [world.bank_unit.pk]}, format="json").status_code == 403
    assert client.get(f"/api/events/{invited.pk}/suggestions/").status_code == 403
    assert client.post("/api/events/", {**DETAILS}, format="json").status_code in (400, 403)
    assert api(world.owner).get("/api/events/").status_code == 403
    assert MatchmakingEvent.objects.count() == 2


def _api_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("role", ["secretariat", "bank"])
def test_the_event_api_costs_the_same_queries_for_two_and_twelve_events(world, api, role):
    client = api(getattr(world, role))
    small_event = _event_with(world, "小型路演", 0)
    _more_events(world, 1)
    _api_queries(client, "/api/events/")
    small = _api_queries(client, "/api/events/")
    detail = _api_queries(client, f"/api/events/{small_event.pk}/")
    large_event = _event_with(world, "大型路演", 5)
    _more_events(world, 9)

    assert _api_queries(client, "/api/events/") == small
    assert _api_queries(client, f"/api/events/{large_event.pk}/") == detail


def test_the_secretariat_pitches_a_suggested_case_from_the_event_page(world, client):
    event = plan(world)
    client.force_login(world.secretariat.user)
    url = reverse("financing:event", args=[event.pk])

    page = client.get(url)
    pitched = client.post(url, {"action": "pitch", "projects": [world.chain_case.pk], "version": 1})

    assert [p.pk for p in page.context["suggestions"]] == [world.chain_case.pk]
    assert pitched.status_code == 302
    assert set(fresh(event).projects.all()) == {world.project, world.chain_case}
    assert client.post(url, {"action": "pitch", "projects": [world.other_chain_case.pk], "version": 2}).status_code == 400


def test_the_event_pages_forms_without_the_version_read_change_nothing(world, client):
    event = plan(world)
    client.force_login(world.secretariat.user)
    url = reverse("financing:event", args=[event.pk])

    pitched = client.post(url, {"action": "pitch", "projects": [world.chain_case.pk]})
    closed = client.post(url, {"action": "close", "summary": "没有版本号"})

    assert pitched.status_code == 400 and "version" in pitched.context["pitch_form"].errors
    assert closed.status_code == 400 and "version" in closed.context["close_form"].errors
    stored = fresh(event)
    assert (set(stored.projects.all()), stored.state, stored.version) == ({world.project}, event.state, event.version)

