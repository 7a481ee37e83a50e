"""The factor ledgers' API: scoped reads, lines and steps written through the services, bad
input answered 400 naming the field, and every operation in the OpenAPI schema."""

from decimal import Decimal

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from cases.factors.models import FactorLine

from .factories import ask, open_ledger

pytestmark = pytest.mark.django_db


def _api(person):
    api = APIClient()
    api.force_authenticate(person.user)
    return api


def test_the_ledgers_are_listed_with_their_balance_for_readers_only(org):
    open_ledger(org, received=Decimal("100"))

    rows = _api(org.supervisor).get(reverse("api:factor-ledger-list")).json()["results"]

    assert [(row["factor"], Decimal(row["balance"])) for row in rows] == [("land", Decimal("100"))]
    assert _api(org.bank).get(reverse("api:factor-ledger-list")).status_code == 403
    assert _api(org.owner).get(reverse("api:factor-ledger-list")).status_code == 403
    assert APIClient().get(reverse("api:factor-ledger-list")).status_code in (401, 403)  # as the whole API


def test_the_bureau_writes_a_line_received_through_the_api(org):
    ledger = open_ledger(org, received=Decimal("100"))

    response = _api(org.dept_head).post(
        reverse("api:factor-ledger-lines", args=[ledger.pk]),
        {"kind": "received", "quantity": "20", "reason": "追加"},
        format="json",
    )

    assert response.status_code == 201 and Decimal(response.json()["balance_after"]) == Decimal("120")
    lines = _api(org.leader).get(reverse("api:factor-ledger-lines", args=[ledger.pk])).json()["results"]
    assert [line["position"] for line in lines] == [1, 2]


def test_a_negative_quantity_is_refused_naming_the_field_and_writes_nothing(org):
    ledger = open_ledger(org)

    response = _api(org.dept_head).post(
        reverse("api:factor-ledger-lines", args=[ledger.pk]), {"kind": "received", "quantity": "-1", "reason": "x"},
        format="json",
    )

    assert response.status_code == 400 and "quantity" in response.json()
    assert FactorLine.objects.filter(ledger=ledger).count() == 1


def test_a_reader_may_not_write_a_line(org):
    ledger = open_ledger(org)

    response = _api(org.leader).post(
        reverse("api:factor-ledger-lines", args=[ledger.pk]), {"kind": "received", "quantity": "1", "reason": "x"},
        format="json",
    )

    assert response.status_code == 403


def test_a_request_is_allocated_once_through_the_api_and_a_second_time_refused(org):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "30")
    api = _api(org.dept_head)
    url = reverse("api:factor-request-steps", args=[request.pk])

    first = api.post(url, {"step": "allocate", "reason": "同意"}, format="json")
    second = api.post(url, {"step": "allocate", "reason": "同意"}, format="json")

    assert first.status_code == 200 and first.json()["state"] == "allocated"
    assert second.status_code == 400


def test_the_lead_unit_asks_and_reads_its_cases_requests_and_others_do_not(org):
    ledger = open_ledger(org, received=Decimal("10"))
    item = ask(org, ledger, "1").item

    created = _api(org.staff).post(
        reverse("api:factor-request-list"),
        {"item": item.pk, "factor": "land", "year": ledger.year, "quantity": "14"},
        format="json",
    )

    assert created.status_code == 201 and Decimal(created.json()["shortfall"]) == Decimal("4")
    assert len(_api(org.staff).get(reverse("api:factor-request-list")).json()["results"]) == 2
    assert _api(org.other_head).get(reverse("api:factor-request-list")).json()["results"] == []
    raised = _api(org.staff).post(reverse("api:factor-request-raise-blocker", args=[created.json()["id"]]))
    assert raised.status_code == 201


def test_every_operation_is_in_the_schema():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    assert {"get", "post"} <= set(paths["/api/factor-ledgers/"])
    assert {"get", "post"} <= set(paths["/api/factor-ledgers/{id}/lines/"])
    assert "post" in paths["/api/factor-requests/{id}/steps/"]
    assert "post" in paths["/api/factor-requests/{id}/raise-blocker/"]
