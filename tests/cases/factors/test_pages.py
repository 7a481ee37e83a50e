"""The factor ledgers' pages: who sees what, the case page's "Factor guarantee" section with its
shortfall and one-click blocker, the cash book with its forms and Excel export, and queries that
do not grow with the rows."""

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from cases.factors import services
from cases.factors.models import FactorLine, LineKind
from cases.models import Blocker
from tests.cases.factories import KeyProjectFactory

from .factories import ask, land_item, open_ledger

pytestmark = pytest.mark.django_db


def _queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_the_ledgers_list_shows_each_ledgers_totals_and_balance(org, client):
    ledger = open_ledger(org, received=Decimal("100"))
    services.request_reserve(request=ask(org, ledger, "30"), actor=org.secretariat.user, reason="计划")
    client.force_login(org.leader.user)

    page = client.get(reverse("factors:index"))

    assert page.status_code == 200
    assert page.context["ledgers"][0].balance == Decimal("70")
    assert "自然资源局" in page.content.decode()


@pytest.mark.parametrize("role", ["bank", "owner"])
def test_banks_and_owners_are_refused_the_ledgers(org, client, role):
    ledger = open_ledger(org)
    client.force_login(getattr(org, role).user)

    assert client.get(reverse("factors:index")).status_code == 403
    assert client.get(reverse("factors:ledger", args=[ledger.pk])).status_code == 403


@pytest.mark.parametrize("role", ["head", "other_head"])
def test_a_unit_keeping_no_ledger_lists_none_and_opens_none(org, client, role):
    ledger = open_ledger(org)
    client.force_login(getattr(org, role).user)

    assert client.get(reverse("factors:index")).context["ledgers"] == []
    assert client.get(reverse("factors:ledger", args=[ledger.pk])).status_code == 404


def test_anonymous_is_sent_to_log_in(org, client):
    ledger = open_ledger(org)

    response = client.get(reverse("factors:ledger", args=[ledger.pk]))

    assert response.status_code == 302 and "login" in response["Location"]


def test_the_bureau_writes_a_line_received_on_its_cash_book(org, client):
    ledger = open_ledger(org, received=Decimal("100"))
    client.force_login(org.dept_head.user)

    response = client.post(
        reverse("factors:ledger", args=[ledger.pk]),
        {"line": "received", "receive-quantity": "50", "receive-reason": "追加", "receive-document_number": "文1"},
    )

    assert response.status_code == 302
    line = FactorLine.objects.get(ledger=ledger, position=2)
    assert (line.kind, line.balance_after, line.document_number) == (LineKind.RECEIVED, Decimal("150"), "文1")


def test_a_bad_line_is_refused_naming_the_field_and_writes_nothing(org, client):
    ledger = open_ledger(org)
    client.force_login(org.dept_head.user)

    response = client.post(
        reverse("factors:ledger", args=[ledger.pk]), {"line": "received", "receive-quantity": "-5", "receive-reason": ""}
    )

    assert response.status_code == 400
    assert set(response.context["receive_form"].errors) == {"quantity", "reason"}
    assert FactorLine.objects.filter(ledger=ledger).count() == 1


def test_the_leader_reads_the_cash_book_but_has_no_forms(org, client):
    ledger = open_ledger(org)
    client.force_login(org.leader.user)

    page = client.get(reverse("factors:ledger", args=[ledger.pk]))

    assert page.status_code == 200 and not page.context["can_write"]
    assert 'id="ledger-receive"' not in page.content.decode()
    assert client.post(reverse("factors:ledger", args=[ledger.pk]), {"line": "received"}).status_code == 403


def test_a_cash_book_line_about_a_case_the_reader_may_not_open_names_no_case(org, client):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "10", project=org.other_project)
    services.request_allocate(request=request, actor=org.secretariat.user, reason="同意")
    client.force_login(org.leader.user)

    page = client.get(reverse("factors:ledger", args=[ledger.pk])).content.decode()

    assert org.other_project.name not in page and org.other_project.code not in page


def test_the_cash_book_exports_to_excel_with_the_running_balance(org, client):
    ledger = open_ledger(org, received=Decimal("100"))
    services.request_allocate(request=ask(org, ledger, "30"), actor=org.secretariat.user, reason="同意")
    client.force_login(org.supervisor.user)

    response = client.get(reverse("factors:ledger_xlsx", args=[ledger.pk]))

    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(min_row=3, values_only=True))
    assert [(row[0], row[4], row[5]) for row in rows] == [(1, 100, 100), (2, -30, 70)]


def test_the_bureau_allocates_a_request_on_its_step_page(org, client):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "30")
    client.force_login(org.dept_head.user)
    url = reverse("factors:request_step", args=[request.pk, "allocate"])

    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "同意", "document_number": "临要素1号"})

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == "allocated"


def test_a_step_beyond_the_balance_is_refused_on_the_page_with_the_missing_quantity(org, client):
    ledger = open_ledger(org, received=Decimal("10"))
    request = ask(org, ledger, "30")
    client.force_login(org.dept_head.user)

    response = client.post(reverse("factors:request_step", args=[request.pk, "allocate"]), {"reason": "同意"})

    assert response.status_code == 200
    assert "20" in " ".join(response.context["form"].non_field_errors())


def test_the_case_page_shows_the_factor_guarantee_with_its_shortfall_in_words(org, client):
    ledger = open_ledger(org, received=Decimal("10"))
    ask(org, ledger, "14")
    client.force_login(org.staff.user)

    page = client.get(reverse("cases:projects:detail", args=[org.project.pk])).content.decode()

    assert 'id="factors"' in page
    assert "4 mu short" in page
    assert reverse("factors:request_add", args=[org.project.pk]) in page


def test_the_owner_sees_no_factor_section_on_its_case(org, client):
    ledger = open_ledger(org, received=Decimal("10"))
    ask(org, ledger, "14")
    client.force_login(org.owner.user)

    page = client.get(reverse("cases:projects:detail", args=[org.project.pk])).content.decode()

    assert 'id="factors"' not in page


def test_a_shortfall_is_raised_as_a_blocker_in_one_click(org, client):
    ledger = open_ledger(org, received=Decimal("10"))
    request = ask(org, ledger, "14")
    client.force_login(org.staff.user)

    response = client.post(reverse("factors:request_raise", args=[request.pk]))

    assert response.status_code == 302 and response["Location"].endswith("#factors")
    blocker = Blocker.objects.get(project=org.project)
    assert blocker.category == "land"


def test_the_lead_unit_asks_the_ledgers_from_its_case(org, client):
    ledger = open_ledger(org, received=Decimal("100"))
    item = land_item(org)
    client.force_login(org.staff.user)

    response = client.post(
        reverse("factors:request_add", args=[org.project.pk]),
        {"item": item.pk, "factor": "land", "year": ledger.year, "quantity": "12.5", "note": ""},
    )

    assert response.status_code == 302
    assert item.factor_requests.get().quantity == Decimal("12.5")


def test_the_requests_awaiting_a_bureau_are_its_own(org, client):
    ledger = open_ledger(org, received=Decimal("100"))
    ask(org, ledger, "5")
    client.force_login(org.dept_head.user)

    page = client.get(reverse("factors:requests"))

    assert page.status_code == 200 and len(page.context["rows"]) == 1


def _grow(org, ledger, count):
    for _ in range(count):
        project = KeyProjectFactory(lead_unit=org.park)
        request = ask(org, ledger, "1", project=project)
        services.request_reserve(request=request, actor=org.secretariat.user, reason="计划")
    ask(org, ledger, "1")


def test_the_pages_cost_the_same_queries_at_two_sizes(org, client):
    ledger = open_ledger(org, received=Decimal("1000"))
    client.force_login(org.secretariat.user)
    urls = [
        reverse("factors:index"),
        reverse("factors:ledger", args=[ledger.pk]),
        reverse("factors:requests"),
        reverse("cases:projects:detail", args=[org.project.pk]),
    ]
    _grow(org, ledger, 2)
    small = [_queries(client, url) for url in urls]
    _grow(org, ledger, 20)
    for _ in range(5):
        ask(org, ledger, "1")  # more requests on the case itself

    assert [_queries(client, url) for url in urls] == small
