"""Bad input to every API write and to the main forms: a clear field error, and nothing changed.

The API's writes (POST, PUT, PATCH) are read from its OpenAPI schema, so a new endpoint is
covered without being listed here. Each string field of a write gets an over-long value, values
with control characters (NUL, a right-to-left override, a bell) and a script; each number field
a negative and wrong-typed values ("abc", a list, an object). Each value is sent alone on top of
a valid request (``BASES``; where there is none, on its own) by a role that may make the write,
inside a savepoint that is rolled back after, so every case starts from the same world.

Expected: 400 with an error under the field's name, and no row of the main tables changed (nor
an audit event written). A script is a legitimate value of a free-text field: it may be accepted,
and then it must be stored verbatim, and the pages that show it must show it escaped. NUL never
reaches the database.
"""

import dataclasses
import datetime
import itertools
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django import forms as django_forms
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases import services as case_services
from cases.factors import services as factor_services
from cases.financing.models import Docking, FinancialProduct, FinancingNeed, MatchmakingEvent
from cases.models import AuditEvent, Blocker, KeyProject, PreworkItem, Stage
from notifications.models import Notification
from tests.cases.factories import (
    PASSWORD,
    DockingFactory,
    KeyProjectFactory,
    PreworkItemFactory,
    ready_to_select,
    set_stage,
)
from tests.cases.financing.factories import (
    FinancialProductFactory,
    FinancingNeedFactory,
    InstitutionFactory,
    publish_directly,
)
from workflow.engine.models import TaskClock
from workflow.monthly import bulletin as bulletins
from workflow.monthly import launch as monthly_launch
from workflow.monthly import reports as monthly_reports
from workflow.monthly import selectors as monthly_selectors
from workflow.monthly import services as monthly_services
from workflow.monthly.meetings import meeting_draft
from workflow.monthly.models import AgendaItem, Meeting, MonthlyReport, ScoreExemption

# One pass of make test runs these (marker once): PostgreSQL's, or SQLite's without PostgreSQL.
pytestmark = pytest.mark.once

SCRIPT = "<script>alert(1)</script>"
CONTROL = {"nul": "a\u0000b", "bidi": "a\u202eb", "bell": "a\x07b"}
NO_MAX_LENGTH = 100_000
WRONG_TYPES = {"letters": "abc", "list": [], "object": {}}


def _schema():
    return SchemaGenerator().get_schema(request=None, public=True)


SCHEMA = _schema()
COMPONENTS = SCHEMA["components"]["schemas"]


def _resolve(node):
    while "$ref" in node:
        node = COMPONENTS[node["$ref"].rsplit("/", 1)[-1]]
    return node


def _kind_of(prop):
    """'string', 'number' or None (enums, booleans, arrays, objects) for a body property."""
    prop = _resolve(prop)
    if prop.get("readOnly"):
        return None, prop
    for key in ("anyOf", "oneOf"):
        if key in prop:
            alternatives = [_resolve(a) for a in prop[key] if _resolve(a).get("type") != "null"]
            if len(alternatives) != 1:
                return None, prop
            prop = alternatives[0]
    if "enum" in prop or "allOf" in prop:
        return None, prop
    if prop.get("type") in ("integer", "number") or prop.get("format") == "decimal":
        return "number", prop
    if prop.get("type") == "string" and prop.get("format") != "binary":
        return "string", prop
    return None, prop


@dataclasses.dataclass(frozen=True)
class Operation:
    method: str
    path: str
    fields: tuple  # (name, kind, maxLength or None)

    def __str__(self):
        return f"{self.method} {self.path}"


def _write_operations():
    found = []
    for path, methods in SCHEMA["paths"].items():
        for method, op in methods.items():
            if method not in ("post", "put", "patch"):
                continue
            content = op.get("requestBody", {}).get("content", {})
            body = content.get("application/json") or next(iter(content.values()), None)
            if body is None:
                continue
            schema = _resolve(body["schema"])
            fields = []
            for name, prop in schema.get("properties", {}).items():
                kind, resolved = _kind_of(prop)
                if kind:
                    fields.append((name, kind, resolved.get("maxLength")))
            if fields:
                found.append(Operation(method.upper(), path, tuple(fields)))
    return found


OPERATIONS = _write_operations()


def values_for(kind, max_length):
    if kind == "string":
        yield "over-long", "x" * ((max_length + 1) if max_length else NO_MAX_LENGTH)
        yield from (("control " + name, value) for name, value in CONTROL.items())
        yield "script", SCRIPT
    else:
        yield "negative", -1
        yield from (("wrong type " + name, value) for name, value in WRONG_TYPES.items())


MONTH = datetime.date(2026, 10, 1)
# Writes whose valid request another role makes (the default is the secretariat).
# Writes that answer any bad input with one error for the whole request: a token is refused
# without saying whether the name or the password was wrong.
WHOLE_REQUEST_ERRORS = {"POST /api/auth/token/"}
ROLE_OF = {"POST /api/dockings/interest/": "bank", "POST /api/reports/{id}/submit/": "staff"}


@pytest.fixture
def world(org, django_capture_on_commit_callbacks):
    """One record of each kind the API writes, in a state where the secretariat may change it."""
    with django_capture_on_commit_callbacks(execute=True):
        reserve = ready_to_select(org.project, leader=org.leader)
        prework = set_stage(
            KeyProjectFactory(region=org.district, lead_unit=org.park, responsible_leader=org.leader),
            Stage.PREWORK,
        )
        docking_case = set_stage(KeyProjectFactory(region=org.district, lead_unit=org.park), Stage.DOCKING)
        item = PreworkItemFactory(project=prework, approving_unit=org.park)
        blocker = case_services.blocker_report(
            project=prework, actor=org.staff.user, data={"title": "用地指标不足", "category": "land"}
        )
        need = FinancingNeedFactory(project=docking_case)
        published = FinancingNeedFactory(project=docking_case)
        publish_directly(published)
        docking = DockingFactory(project=docking_case, institution=org.bank_unit, need=published)
        product = FinancialProductFactory(institution=org.bank_unit)
        second_bank = InstitutionFactory(name="汇通银行")
        monthly_services.reports_open(month=MONTH, enqueue=False)
        monthly_launch.start_report_flows(list(MonthlyReport.objects.values_list("pk", flat=True)))
        meeting = meeting_draft(month=MONTH, actor=org.secretariat.user)
        bulletins.bulletin_compute(month=MONTH)
        ledger = factor_services.ledger_open(factor="land", year=2026, bureau=org.department, actor=org.secretariat.user)
        factor_services.ledger_receive(ledger=ledger, quantity=100, reason="下达", actor=org.secretariat.user)
        factor_request = factor_services.factor_request(
            item=item, factor="land", year=2026, quantity=5, actor=org.secretariat.user
        )
    now = timezone.now()
    event = MatchmakingEvent.objects.create(
        title="路演专场",
        chain="new_materials",
        starts_at=now + datetime.timedelta(days=10),
        ends_at=now + datetime.timedelta(days=10, hours=2),
        place="市民中心",
        organiser=org.commission,
        created_by=org.secretariat.user,
    )
    from viewflow.workflow.models import Task

    task = Task.objects.filter(status__in=["NEW", "ASSIGNED", "STARTED"]).order_by("pk").first()
    report = MonthlyReport.objects.get(project=prework, month=MONTH)
    submitted = MonthlyReport.objects.get(project=docking_case, month=MONTH)
    with django_capture_on_commit_callbacks(execute=True):
        monthly_reports.report_submit(
            task=monthly_selectors.open_task_of(submitted, "write"),
            user=org.staff.user,
            data={"investment_month": Decimal("100000.00"), "progress_percent": Decimal("10.00"), "work_done": "完成土方"},
        )
    return SimpleNamespace(
        org=org,
        project=reserve,
        prework=prework,
        docking_case=docking_case,
        item=item,
        blocker=blocker,
        need=need,
        published=published,
        docking=docking,
        product=product,
        second_bank=second_bank,
        meeting=meeting,
        bulletin=bulletins.Bulletin.objects.get(month=MONTH),
        event=event,
        task=task,
        report=report,
        submitted=submitted,
        ledger=ledger,
        factor_request=factor_request,
        codes=itertools.count(1),
    )


def _path_record(w, path):
    """The record a path's ``{id}`` names."""
    if path == "/api/reports/{id}/review/":
        return w.submitted
    by_prefix = {
        "/api/projects/": w.project,
        "/api/prework-items/": w.item,
        "/api/blockers/": w.blocker,
        "/api/needs/": w.need,
        "/api/dockings/": w.docking,
        "/api/products/": w.product,
        "/api/events/": w.event,
        "/api/meetings/": w.meeting,
        "/api/bulletins/": w.bulletin,
        "/api/tasks/": w.task,
        "/api/reports/": w.report,
        "/api/factor-ledgers/": w.ledger,
        "/api/factor-requests/": w.factor_request,
    }
    return next((record for prefix, record in by_prefix.items() if path.startswith(prefix)), None)


def _fresh(record):
    record.refresh_from_db()
    return record


# A valid request of each write, built on the world: a bad value replaces one field of it. A
# write without one here gets its field alone (and then only a refusal naming it counts).
BASES = {
    "POST /api/projects/": lambda w: {
        "code": f"2099-BI-{next(w.codes):04d}", "name": "新项目", "industry": "new_materials",
        "region": w.org.district.pk,
    },
    "PUT /api/projects/{id}/": lambda w: {
        "code": w.project.code, "name": w.project.name, "industry": w.project.industry,
        "region": w.project.region_id, "version": _fresh(w.project).version,
    },
    "PATCH /api/projects/{id}/": lambda w: {"version": _fresh(w.project).version},
    "POST /api/projects/{id}/transitions/": lambda w: {
        "transition": "withdraw", "reason": "不再推进", "version": _fresh(w.project).version,
    },
    "POST /api/prework-items/": lambda w: {
        "project": w.prework.pk, "kind": "other", "title": "其他审批", "approving_unit": w.org.park.pk,
        "statutory_days": 10,
    },
    "PUT /api/prework-items/{id}/": lambda w: {
        "kind": w.item.kind, "approving_unit": w.item.approving_unit_id, "statutory_days": 20,
        "version": _fresh(w.item).version,
    },
    "PATCH /api/prework-items/{id}/": lambda w: {"version": _fresh(w.item).version},
    "POST /api/prework-items/{id}/transitions/": lambda w: {
        "transition": "start", "version": _fresh(w.item).version, "started_on": str(timezone.localdate()),
    },
    "POST /api/factor-ledgers/": lambda w: {"factor": "energy", "year": 2026, "bureau": w.org.department.pk},
    "POST /api/factor-ledgers/{id}/lines/": lambda w: {"kind": "received", "quantity": "5", "reason": "追加"},
    "POST /api/factor-requests/": lambda w: {"item": w.item.pk, "factor": "land", "year": 2026, "quantity": "3"},
    "POST /api/factor-requests/{id}/steps/": lambda w: {"step": "reserve", "reason": "列入计划"},
    "POST /api/blockers/": lambda w: {"project": w.prework.pk, "title": "资金缺口", "category": "land"},
    "PUT /api/blockers/{id}/": lambda w: {
        "title": "用地指标不足", "category": "land", "version": _fresh(w.blocker).version,
    },
    "PATCH /api/blockers/{id}/": lambda w: {"version": _fresh(w.blocker).version},
    "POST /api/blockers/{id}/transitions/": lambda w: {
        "transition": "reject", "reason": "不属实", "version": _fresh(w.blocker).version,
    },
    "POST /api/needs/": lambda w: {
        "project": w.docking_case.pk, "amount": "1000000.00", "financing_type": "loan", "purpose": "设备",
        "term_months": 36, "deadline": str(timezone.localdate() + datetime.timedelta(days=60)),
    },
    "PATCH /api/needs/{id}/": lambda w: {"version": _fresh(w.need).version},
    "POST /api/products/": lambda w: {
        "institution": w.org.bank_unit.pk, "name": "科创贷", "financing_type": "loan",
        "amount_min": "1000000.00", "amount_max": "5000000.00", "rate_min": "3.50", "rate_max": "4.50",
    },
    "PATCH /api/products/{id}/": lambda w: {"version": _fresh(w.product).version},
    "POST /api/products/{id}/deactivate/": lambda w: {"reason": "停办"},
    "POST /api/events/": lambda w: {
        "title": "路演", "chain": "new_materials", "place": "市民中心",
        "starts_at": (timezone.now() + datetime.timedelta(days=3)).isoformat(),
        "ends_at": (timezone.now() + datetime.timedelta(days=3, hours=2)).isoformat(),
    },
    "PATCH /api/events/{id}/": lambda w: {"version": _fresh(w.event).version},
    "POST /api/dockings/recommend/": lambda w: {
        "need": w.published.pk, "institution": w.second_bank.pk, "note": "推荐",
    },
    "POST /api/bulletins/exemptions/": lambda w: {
        "month": "2026-10", "unit": w.org.park.pk, "measure": "reports_on_time", "reason": "不可抗力",
        "project": w.prework.pk,
    },
    "POST /api/meetings/{id}/add/": lambda w: {
        "version": _fresh(w.meeting).version, "section": "red", "title": "议题", "project": w.prework.pk,
    },
    "POST /api/meetings/{id}/details/": lambda w: {"version": _fresh(w.meeting).version},
    "POST /api/tasks/{id}/pause/": lambda w: {"reason": "等待材料"},
    "POST /api/auth/token/": lambda w: {"username": "secretariat", "password": PASSWORD},
    "POST /api/reports/{id}/review/": lambda w: {"accepted": False, "reason": "数据有误"},
    "POST /api/reports/{id}/submit/": lambda w: {
        "investment_month": "100000.00", "progress_percent": "10.00", "work_done": "完成土方",
    },
}

# The rows a bad request must leave as they were (all of them, column by column) and the tables
# it must not add to.
WATCHED = [
    KeyProject, PreworkItem, Blocker, FinancingNeed, FinancialProduct, Docking, MatchmakingEvent,
    Meeting, AgendaItem, MonthlyReport, ScoreExemption,
]
COUNTED = [AuditEvent, Notification]
# Where else an accepted value may be kept: a transition's reason is on its audit event, a
# pause's on the task's clock.
KEEPERS = [AuditEvent, TaskClock]


def _state():
    rows = {model.__name__: list(model.objects.order_by("pk").values()) for model in WATCHED + KEEPERS}
    counts = {model.__name__: model.objects.count() for model in COUNTED}
    return rows, counts


def _holds(stored, value):
    if isinstance(stored, dict):
        return any(_holds(v, value) for v in stored.values())
    if isinstance(stored, list | tuple):
        return any(_holds(v, value) for v in stored)
    return stored == value


KEEPER_NAMES = {model.__name__ for model in KEEPERS}


def _changes(before, after):
    (rows_before, counts_before), (rows_after, counts_after) = before, after
    changed = [
        name for name in rows_before if rows_before[name] != rows_after[name] and name not in KEEPER_NAMES
    ]
    changed += [f"{name} count" for name in counts_before if counts_before[name] != counts_after[name]]
    return changed


def _stored_verbatim(value, before, after):
    """Does a row changed or added by the request hold ``value`` exactly, in one column?"""
    for name, rows in after[0].items():
        for row in rows:
            if row in before[0][name]:
                continue
            if _holds(row, value):
                return True
    return False


def _strings(stored):
    if isinstance(stored, dict):
        for v in stored.values():
            yield from _strings(v)
    elif isinstance(stored, list | tuple):
        for v in stored:
            yield from _strings(v)
    elif isinstance(stored, str):
        yield stored


def _stored_altered(value, after):
    """A stored string that holds ``value`` changed (escaped, stripped, cut), or None; one that
    holds it whole among other words (a task's title of case and blocker) is not changed."""
    for rows in after[0].values():
        for row in rows:
            for text in _strings(row):
                if "alert(1)" in text and value not in text:
                    return text
    return None


def _client(w, operation):
    role = ROLE_OF.get(str(operation), "secretariat")
    client = APIClient()
    user = getattr(w.org, role).user
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _send(client, operation, path, body):
    """The request in a savepoint rolled back after; returns the response and the states."""
    with transaction.atomic():
        before = _state()
        response = getattr(client, operation.method.lower())(path, body, format="json")
        after = _state()
        transaction.set_rollback(True)
    return response, before, after


def _names(response, field):
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and field in body


@pytest.mark.django_db
@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_each_api_write_refuses_bad_values_by_field_and_changes_nothing(operation, world):
    w = world
    client = _client(w, operation)
    record = _path_record(w, operation.path)
    if "{" in operation.path and record is None:
        pytest.fail(f"{operation}: no record in the world for its path; add one")
    path = operation.path.replace("{id}", str(record.pk) if record else "")
    path = path.replace("{report_id}", str(w.report.pk))
    base_of = BASES.get(str(operation))
    base_valid = False
    if base_of is not None:
        response, before, after = _send(client, operation, path, base_of(w))
        base_valid = response.status_code < 300
        assert base_valid, (
            f"{operation}: its valid request (BASES) was refused, {response.status_code} "
            f"{response.content[:300]!r}; fix the base so the bad values are tested on it"
        )
    problems, refused, not_reached, accepted_verbatim, ignored = [], 0, 0, 0, 0
    for field, kind, max_length in operation.fields:
        for value_kind, value in values_for(kind, max_length):
            body = {**base_of(w), field: value} if base_of else {field: value}
            response, before, after = _send(client, operation, path, body)
            status = response.status_code
            label = f"{operation} field {field!r} with {value_kind} value"
            changed = _changes(before, after)
            if status >= 500:
                problems.append(f"{label}: server error {status}")
            elif status < 300:
                if value_kind == "script" and kind == "string":
                    altered = _stored_altered(value, after)
                    if altered:
                        problems.append(f"{label}: accepted ({status}) but stored as {altered!r}")
                    elif _stored_verbatim(value, before, after):
                        accepted_verbatim += 1
                    else:
                        ignored += 1  # a field the chosen step does not take
                else:
                    problems.append(f"{label}: accepted ({status}); changed {changed}")
            else:
                if changed:
                    problems.append(f"{label}: refused with {status} but changed {changed}")
                if status == 400 and (
                    _names(response, field)
                    or (str(operation) in WHOLE_REQUEST_ERRORS and _names(response, "non_field_errors"))
                ):
                    refused += 1
                elif status == 400 and base_valid and not (value_kind == "script"):
                    problems.append(
                        f"{label}: 400 without an error on the field: {response.content[:200]!r}"
                    )
                else:
                    not_reached += 1
    print(
        f"\n{operation}: {refused} refused by field, {not_reached} stopped before validation, "
        f"{accepted_verbatim} scripts stored verbatim, {ignored} ignored"
    )
    assert refused > 0, f"{operation}: no bad value reached validation (all {not_reached} stopped before)"
    assert refused >= not_reached, (
        f"{operation}: more cases stopped before validation ({not_reached}) than reached it ({refused})"
    )
    assert not problems, "\n".join(problems)


# Pages: a script kept as a legitimate value is shown escaped wherever it is shown.

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.mark.django_db
def test_a_script_kept_in_free_text_is_shown_escaped_on_the_pages(world, as_user):
    w = world
    api = _client(w, "PATCH /api/projects/{id}/")
    writes = [
        (f"/api/projects/{w.project.pk}/", {"name": SCRIPT, "description": SCRIPT, "version": w.project.version}),
        (f"/api/blockers/{w.blocker.pk}/", {"title": SCRIPT, "description": SCRIPT, "version": _fresh(w.blocker).version}),
        (f"/api/prework-items/{w.item.pk}/", {"title": SCRIPT, "note": SCRIPT, "version": _fresh(w.item).version}),
    ]
    for path, body in writes:
        response = api.patch(path, body, format="json")
        assert response.status_code == 200, (path, response.content[:300])
    assert KeyProject.objects.get(pk=w.project.pk).description == SCRIPT
    assert Blocker.objects.get(pk=w.blocker.pk).title == SCRIPT
    assert PreworkItem.objects.get(pk=w.item.pk).note == SCRIPT

    pages = as_user(w.org.secretariat)
    shown = {
        "project page": reverse("cases:projects:detail", args=[w.project.pk]),
        "case page of the blocker and item": reverse("cases:projects:detail", args=[w.prework.pk]),
        "project list": reverse("cases:projects:list"),
    }
    for name, url in shown.items():
        html = pages.get(url).content.decode()
        assert "<script>alert(1)" not in html, f"{name} ({url}) shows the script unescaped"
        assert ESCAPED in html, f"{name} ({url}) does not show the stored value at all"


# The forms of the site: the same values, a field error in the page, nothing changed.


def _fill_project(data, w):
    data.update({
        "code": f"2099-BF-{next(w.codes):04d}", "name": "新项目", "industry": "new_materials",
        "region": str(w.org.district.pk), "total_investment": "10000", "investment_completed_total": "0",
        "capital_gap": "0",
    })


FORMS = {
    "project create": (lambda w: reverse("cases:projects:add"), _fill_project),
    "project edit": (lambda w: reverse("cases:projects:change", args=[w.project.pk]), None),
    "pre-work item add": (
        lambda w: reverse("cases:projects:add_prework", args=[w.prework.pk]),
        lambda data, w: data.update(
            {"kind": "other", "title": "其他审批", "approving_unit": str(w.org.park.pk), "statutory_days": "10"}
        ),
    ),
    "pre-work item edit": (lambda w: reverse("cases:prework:change", args=[w.item.pk]), None),
    "blocker report": (
        lambda w: reverse("cases:projects:report_blocker", args=[w.prework.pk]),
        lambda data, w: data.update({"title": "资金缺口", "category": "land"}),
    ),
    "blocker edit": (lambda w: reverse("cases:blockers:change", args=[w.blocker.pk]), None),
    "blocker rejected with a reason": (
        lambda w: reverse("cases:blockers:transition", args=[w.blocker.pk, "reject"]),
        lambda data, w: data.update({"reason": "不属实"}),
    ),
    "project withdrawn with a reason": (
        lambda w: reverse("cases:projects:transition", args=[w.project.pk, "withdraw"]),
        lambda data, w: data.update({"reason": "不再推进"}),
    ),
}


def _text_fields(form):
    from django import forms

    return [
        name for name, field in form.fields.items()
        if isinstance(field, forms.CharField) and not field.disabled and not isinstance(field.widget, forms.HiddenInput)
    ]


def _number_fields(form):
    from django import forms

    return [
        name for name, field in form.fields.items()
        if isinstance(field, forms.IntegerField | forms.DecimalField | forms.ModelChoiceField)
        and not field.disabled and not isinstance(field.widget, forms.HiddenInput)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("form_name", list(FORMS))
def test_each_form_refuses_bad_values_by_field_and_changes_nothing(form_name, world, as_user):
    w = world
    url_of, fill = FORMS[form_name]
    url = url_of(w)
    pages = as_user(w.org.secretariat)
    page = pages.get(url)
    assert page.status_code == 200, (form_name, url, page.status_code)
    form = page.context["form"]
    base = {}
    for name in form.fields:
        value = form[name].value()
        if value in (None, ""):
            continue
        base[form.add_prefix(name)] = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
    if fill:
        fill(base, w)
    with transaction.atomic():
        control = pages.post(url, base)
        transaction.set_rollback(True)
    assert control.status_code == 302, (
        f"{form_name}: its valid submission was refused: "
        f"{control.context['form'].errors if control.context else control.status_code}"
    )

    problems, refused = [], 0
    cases = [(name, "string", form.fields[name]) for name in _text_fields(form)]
    cases += [(name, "number", form.fields[name]) for name in _number_fields(form)]
    for name, kind, field in cases:
        for value_kind, value in values_for(kind, getattr(field, "max_length", None)):
            if kind == "number" and value_kind in ("wrong type list", "wrong type object"):
                value = str(value)  # a form sends text; "[]" and "{}"
            data = {**base, form.add_prefix(name): str(value)}
            label = f"{form_name} field {name!r} with {value_kind} value"
            with transaction.atomic():
                before = _state()
                response = pages.post(url, data)
                after = _state()
                transaction.set_rollback(True)
            changed = _changes(before, after)
            if response.status_code >= 500:
                problems.append(f"{label}: server error {response.status_code}")
                continue
            if response.status_code == 302:
                if value_kind == "script" and kind == "string":
                    altered = _stored_altered(value, after)
                    if altered:
                        problems.append(f"{label}: accepted but stored as {altered!r}")
                    elif not _stored_verbatim(value, before, after):
                        problems.append(f"{label}: accepted but the value is not stored verbatim")
                else:
                    problems.append(f"{label}: accepted; changed {changed}")
                continue
            html = response.content.decode()
            errors = response.context["form"].errors if response.context and "form" in response.context else {}
            if changed:
                problems.append(f"{label}: refused but changed {changed}")
            if name not in errors:
                problems.append(f"{label}: no error on the field (errors: {dict(errors)})")
            else:
                refused += 1
                message = str(errors[name][0])
                if message not in html and str(escape(message)) not in html:
                    problems.append(f"{label}: the field's error {message!r} is not shown in the page")
            if "<script>alert(1)" in html:
                problems.append(f"{label}: the page shows the script unescaped")
    print(f"\n{form_name}: {len(cases)} fields, {refused} (field, value) cases refused by field")
    assert refused > 0, f"{form_name}: no bad value reached the form's validation"
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
@pytest.mark.parametrize("value_kind", ["over-long", "control nul", "control bidi", "control bell", "script"])
@pytest.mark.parametrize("field", ["username", "password"])
def test_the_login_form_refuses_bad_values_in_words_and_changes_nothing(field, value_kind, org, client):
    value = dict(values_for("string", 150))[value_kind]
    data = {"username": "secretariat", "password": "wrong-password", field: value}
    counts = {model.__name__: model.objects.count() for model in COUNTED}
    response = client.post(reverse("login"), data)
    assert response.status_code == 200, response.status_code
    assert "_auth_user_id" not in client.session
    form = response.context["form"]
    assert form.errors, "the login form shows no error"
    html = response.content.decode()
    for message in form.non_field_errors() or [m for ms in form.errors.values() for m in ms]:
        assert str(escape(message)) in html or message in html
    assert "<script>alert(1)" not in html
    assert counts == {model.__name__: model.objects.count() for model in COUNTED}


def _site_form_classes():
    """Every form class the site defines in cases and workflow (their modules imported)."""
    import importlib
    import inspect
    import pkgutil

    import cases
    import workflow

    found = {}
    for package in (cases, workflow):
        for module_info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".migrations" in module_info.name or module_info.name.endswith(".directory"):
                continue  # migrations; the directory's backend needs the optional python-ldap
            module = importlib.import_module(module_info.name)
            for _name, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, django_forms.BaseForm) and cls.__module__ == module.__name__:
                    found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


def test_every_form_of_the_site_holds_its_text_to_the_rule():
    from cases.forms import GuardedForm, GuardedModelForm, ServiceForm, TransitionForm

    forms_found = _site_form_classes()
    unguarded = sorted(
        name for name, cls in forms_found.items()
        if not issubclass(cls, (GuardedForm, GuardedModelForm, ServiceForm, TransitionForm))
    )
    assert len(forms_found) >= 40
    assert unguarded == []


def test_a_guarded_form_refuses_control_characters_and_endless_text(db):
    from workflow.coordination.forms import TextForm

    for bad in ("用地\u202e指标", "铃\x07声", "长" * 10_001):
        form = TextForm(data={"text": bad})
        assert not form.is_valid() and "text" in form.errors
    assert TextForm(data={"text": "用地指标\n不足\t待协调"}).is_valid()
