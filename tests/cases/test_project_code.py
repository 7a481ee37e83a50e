"""The official project code (项目代码) of the national approval platform: its shape, time part and
region checked in one place, for the services, the forms, the API and the Excel import; unique;
searchable; printed on the case's page and in the monthly documents."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from cases import excel, services
from cases.models import (
    AuditAction,
    AuditEvent,
    KeyProject,
    RegionCode,
    Stage,
    project_code_problems,
)
from tests.cases.factories import set_stage
from tests.cases.test_excel import row, workbook_bytes

CURRENT = "2603-369902-04-01-583921"  # March 2026, 江城区
OLD = "2019-369903-52-03-012345"  # issued in 2019, before the current form
AMBIGUOUS = "2011-369902-10-02-000017"  # November 2020, or the year 2011: either way right
TODAY = datetime.date(2026, 12, 7)


@pytest.fixture
def regions(org):
    RegionCode.objects.create(code="369902", name="江城区", unit=org.district)
    RegionCode.objects.create(code="369903", name="东湖区", unit=org.other_unit)


def problems(code):
    return [str(p) for p in project_code_problems(code, today=TODAY)]


@pytest.mark.parametrize("code", [CURRENT, OLD, AMBIGUOUS, "2612-369903-01-01-999999", "2000-369902-01-01-000000"])
def test_real_looking_codes_of_both_forms_are_accepted(regions, code):
    assert problems(code) == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("2603-369902-04-01-58392", "is not a project code of the national approval platform"),
        ("2603369902-04-01-583921X", "is not a project code of the national approval platform"),
        ("2026-GX-0001", "24 characters like 2603-369902-04-01-583921"),
        ("２６０３-369902-04-01-583921", "is not a project code"),  # full-width digits are not the shape
        (" 2603-369902-04-01-583921", "is not a project code"),
        ("2603-110105-04-01-583921", "The region code 110105 of the project code is not one of the city's region codes"),
        ("2613-369902-04-01-583921", "The time part 2613 of the project code is neither a month since November 2020"),
        ("2600-369902-04-01-583921", "The time part 2600 of the project code is neither"),
        ("2009-369902-04-01-583921", None),  # the year 2009: right
        ("2010-369902-04-01-583921", None),  # October 2020 or the year 2010: right as a year
        ("1999-369902-04-01-583921", "The time part 1999 of the project code is neither"),
        ("2101-369902-04-01-583921", None),  # January 2021
        ("2701-369902-04-01-583921", "The time part 2701 of the project code is a month still to come"),
    ],
)
def test_a_bad_code_is_refused_saying_what_is_wrong(regions, code, message):
    found = problems(code)
    if message is None:
        assert found == []
    else:
        assert len(found) == 1 and message in found[0], found


def test_a_wrong_time_and_an_unknown_region_are_both_said(regions):
    found = problems("2613-110105-04-01-583921")
    assert len(found) == 2
    assert "2613" in found[0] and "110105" in found[1]


def test_next_month_is_refused_as_still_to_come_on_the_real_clock(regions):
    soon = (timezone.localdate().replace(day=1) + datetime.timedelta(days=40)).strftime("%y%m")
    this_month = timezone.localdate().strftime("%y%m")
    assert "a month still to come" in str(project_code_problems(f"{soon}-369902-04-01-583921")[0])
    assert project_code_problems(f"{this_month}-369902-04-01-583921") == []


def test_the_region_must_be_in_the_table_which_the_admin_edits(org):
    assert "not one of the city's region codes" in problems(CURRENT)[0]
    RegionCode.objects.create(code="369902", name="江城区")
    assert problems(CURRENT) == []


# Through the service, as the form, the API and the Excel import reach it


def project_data(org, **values):
    return {
        "code": "2026-GX-0101",
        "name": "光伏组件项目",
        "industry": "new_energy",
        "region": org.district,
        "total_investment": "100000000.00",
        **values,
    }


def test_a_case_is_created_with_its_project_code_and_the_code_is_audited(org, regions):
    project = services.project_create(actor=org.secretariat.user, data=project_data(org, project_code=CURRENT))
    assert KeyProject.objects.get(pk=project.pk).project_code == CURRENT
    event = AuditEvent.objects.get(project=project, action=AuditAction.CREATED)
    assert event.changes["project_code"] == [None, CURRENT]


def test_a_case_refuses_a_bad_project_code_on_its_field(org, regions):
    with pytest.raises(ValidationError) as refused:
        services.project_create(
            actor=org.secretariat.user, data=project_data(org, project_code="2613-369902-04-01-583921")
        )
    assert "2613" in " ".join(refused.value.message_dict["project_code"])
    assert not KeyProject.objects.filter(code="2026-GX-0101").exists()


def test_a_project_code_is_unique_and_two_cases_without_one_are_fine(org, regions):
    services.project_update(project=org.project, actor=org.secretariat.user, data={"project_code": CURRENT})
    with pytest.raises(ValidationError) as refused:
        services.project_create(actor=org.secretariat.user, data=project_data(org, project_code=CURRENT))
    assert "already exists" in " ".join(refused.value.message_dict["project_code"])
    services.project_create(actor=org.secretariat.user, data=project_data(org, project_code=""))
    services.project_create(actor=org.secretariat.user, data=project_data(org, code="2026-GX-0102"))
    assert KeyProject.objects.filter(project_code__isnull=True).count() == 3  # other_project too


def test_only_the_secretariat_changes_a_project_code(org, regions):
    with pytest.raises(ValidationError) as refused:
        services.project_update(project=org.project, actor=org.head.user, data={"project_code": CURRENT})
    assert "project_code" in refused.value.message_dict


def test_the_edit_form_saves_a_code_and_shows_a_bad_one_on_its_field(org, regions, as_user):
    client = as_user(org.secretariat)
    url = reverse("cases:projects:change", args=[org.project.pk])
    page = client.get(url)
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["cooperating_units"] = []
    data["project_code"] = "2603-110105-04-01-583921"
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "110105" in " ".join(refused.context["form"].errors["project_code"])
    data["project_code"] = CURRENT
    saved = client.post(url, data)
    assert saved.status_code == 302, saved.context["form"].errors if saved.context else saved
    assert KeyProject.objects.get(pk=org.project.pk).project_code == CURRENT


def test_the_api_refuses_a_bad_code_and_keeps_a_good_one(org, regions):
    client = APIClient()
    client.force_authenticate(org.secretariat.user)
    url = reverse("api:project-detail", args=[org.project.pk])
    refused = client.patch(url, {"project_code": "2603-369902-04-01"}, format="json")
    assert refused.status_code == 400
    assert "is not a project code" in str(refused.json()["project_code"])
    done = client.patch(url, {"project_code": OLD}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["project_code"] == OLD


# The project import's column


def test_the_project_import_reads_the_project_code_and_names_a_bad_one_by_row_and_column(org, regions):
    good = workbook_bytes([row(project_code=CURRENT)])
    excel.import_projects(good, actor=org.secretariat.user)
    assert KeyProject.objects.get(code="2026-NY-0101").project_code == CURRENT

    bad = workbook_bytes([row(code="2026-NY-0102", project_code="2603-110105-04-01-583921")])
    with pytest.raises(excel.ImportFailed) as failure:
        excel.import_projects(bad, actor=org.secretariat.user)
    errors = failure.value.errors
    assert [(e.row, e.column) for e in errors] == [(2, "R")]
    assert "110105" in errors[0].message
    assert not KeyProject.objects.filter(code="2026-NY-0102").exists()


def test_the_export_writes_the_project_code(org, regions):
    KeyProject.objects.filter(pk=org.project.pk).update(project_code=CURRENT)
    from cases import selectors

    sheet = load_workbook(io.BytesIO(excel.export_workbook(selectors.project_list(org.secretariat.user)))).active
    header = [cell.value for cell in sheet[1]]
    column = header.index("Project code (national platform)")
    codes = [r[column] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert CURRENT in codes


# Searchable and printed


def test_the_list_page_and_the_api_find_a_case_by_its_project_code(org, regions, as_user):
    KeyProject.objects.filter(pk=org.project.pk).update(project_code=CURRENT)
    KeyProject.objects.filter(pk=org.other_project.pk).update(project_code=OLD)
    client = as_user(org.secretariat)
    page = client.get(reverse("cases:projects:list"), {"_search": "369902-04-01"})
    assert page.status_code == 200
    assert org.project.name in page.content.decode() and org.other_project.name not in page.content.decode()

    api = APIClient()
    api.force_authenticate(org.secretariat.user)
    found = api.get(reverse("api:project-list"), {"search": CURRENT}).json()
    assert [p["code"] for p in found["results"]] == [org.project.code]
    assert found["results"][0]["project_code"] == CURRENT


def test_the_prework_list_finds_items_by_their_case_project_code(org, regions):
    from tests.cases.factories import PreworkItemFactory

    KeyProject.objects.filter(pk=org.project.pk).update(project_code=CURRENT)
    item = PreworkItemFactory(project=org.project)
    PreworkItemFactory(project=org.other_project)
    api = APIClient()
    api.force_authenticate(org.secretariat.user)
    found = api.get(reverse("api:prework-item-list"), {"search": "2603-369902"}).json()
    assert [i["id"] for i in found["results"]] == [item.pk]


def test_the_project_page_shows_the_project_code(org, regions, as_user):
    KeyProject.objects.filter(pk=org.project.pk).update(project_code=CURRENT)
    page = as_user(org.secretariat).get(reverse("cases:projects:detail", args=[org.project.pk]))
    assert f'<td class="kp-project-code">{CURRENT}</td>' in page.content.decode()


def test_the_agenda_and_the_report_status_table_print_the_project_code(org, regions):
    from tests.workflow.monthly.test_documents import (
        STANDARD_ITEMS,
        add_items,
        make_meeting,
        parse,
        table_rows,
    )
    from workflow.monthly import documents
    from workflow.monthly.documents import sheets

    KeyProject.objects.filter(pk=org.project.pk).update(project_code=CURRENT)
    org.project.refresh_from_db()
    meeting = make_meeting(org)
    add_items(meeting, org, STANDARD_ITEMS)
    document = parse(documents.agenda_docx(meeting))
    assert table_rows(document.tables[1])[1][1] == (
        f"滞后项目甲\n2026-GX-0001 {org.project.name}\nProject code {CURRENT}"
    )

    set_stage(org.project, Stage.CONSTRUCTION)
    sheet = load_workbook(io.BytesIO(sheets.report_status_xlsx(datetime.date(2026, 10, 1)))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] == "Project code (national platform)"
    assert rows[1][0] == "2026-GX-0001" and rows[1][-1] == CURRENT


def test_a_factory_case_without_a_code_prints_no_code_line(org, regions):
    from tests.workflow.monthly.test_documents import (
        STANDARD_ITEMS,
        add_items,
        make_meeting,
        parse,
        table_rows,
    )
    from workflow.monthly import documents

    meeting = make_meeting(org)
    add_items(meeting, org, STANDARD_ITEMS)
    cell = table_rows(parse(documents.agenda_docx(meeting)).tables[1])[1][1]
    assert "Project code" not in cell


def test_the_demo_region_codes_are_valid_codes_of_the_demo_city():
    from cases.demo.city import CITY_REGION, DISTRICTS, REGION_CODES

    assert set(REGION_CODES) == {name for name, _short in DISTRICTS}
    codes = [CITY_REGION[0], *REGION_CODES.values()]
    assert len(set(codes)) == len(codes) and all(len(c) == 6 and c.isdigit() for c in codes)


def test_a_demo_code_of_a_date_before_november_2020_starts_with_the_year():
    import random

    from cases.demo.city import platform_project_code

    old = platform_project_code("369902", datetime.date(2019, 6, 1), 7, random.Random(1))
    new = platform_project_code("369902", datetime.date(2026, 3, 9), 7, random.Random(1))
    assert old.startswith("2019-369902-") and new.startswith("2603-369902-")
    assert old.endswith(new[-6:]) and new[-6:-1] == "00007"
