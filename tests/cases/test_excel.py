"""Excel in and out: the template, an all-or-nothing import naming bad cells, and the scoped export."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from cases import excel, selectors
from cases.models import AnnualPlan, AuditEvent, KeyProject, Unit, UnitKind

HEADERS_EN = [str(column.label) for column in excel.IMPORT_COLUMNS]


def row(**values):
    base = {
        "code": "2026-NY-0101",
        "name": "光伏组件项目",
        "industry": "New energy",
        "region": "江城区",
        "owner": "华远科技",
        "level": "Municipal",
        "lead_unit": "高新区",
        "cooperating_units": "自然资源局、发改委",
        "responsible_leader": "leader",
        "total_investment": 50000,
        "investment_completed_total": 0,
        "capital_gap": 20000,
        "plan_this_year": 15000,
        "planned_start": "2026-03-01",
        "planned_finish": "2027-12-31",
        "demonstration": "yes",
        "description": "新建光伏组件生产线",
        "project_code": None,
    }
    base.update(values)
    return [base[column.key] for column in excel.IMPORT_COLUMNS]


def workbook_bytes(rows, headers=None):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers or HEADERS_EN)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def test_a_good_file_creates_every_project_with_plans_and_an_audited_history(org):
    upload = workbook_bytes([row(), row(code="2026-NY-0102", name="储能电站项目", owner="新澜能源")])

    created, updated = excel.import_projects(upload, actor=org.secretariat.user, file_name="list.xlsx")

    assert (created, updated) == (2, 0)
    project = KeyProject.objects.get(code="2026-NY-0101")
    assert project.total_investment == Decimal("500000000.00")  # 50,000 ten-thousand yuan
    assert project.capital_gap == Decimal("200000000.00")
    assert project.lead_unit == org.park and project.responsible_leader == org.leader
    assert set(project.cooperating_units.all()) == {org.department, org.commission}
    assert project.demonstration is True and project.stage == "reserve"
    plan = AnnualPlan.objects.get(project=project, year=timezone.localdate().year)
    assert plan.planned_investment == Decimal("150000000.00")
    event = AuditEvent.objects.get(project=project, action="created")
    assert event.reason == "Imported from list.xlsx"
    assert Unit.objects.filter(name="新澜能源", kind=UnitKind.ENTERPRISE).exists()


def test_chinese_headers_and_chinese_choices_are_accepted(org):
    with translation.override("zh-hans"):
        headers = [str(column.label) for column in excel.IMPORT_COLUMNS]
        industry, level = "New energy", "Municipal"
        from cases.models import Industry, Level

        industry, level = str(Industry.NEW_ENERGY.label), str(Level.MUNICIPAL.label)
    upload = workbook_bytes([row(industry=industry, level=level, demonstration="否")], headers=headers)

    excel.import_projects(upload, actor=org.secretariat.user)

    project = KeyProject.objects.get(code="2026-NY-0101")
    assert (project.industry, project.level, project.demonstration) == ("new_energy", "municipal", False)


def test_one_bad_row_imports_nothing_and_each_error_names_its_row_and_column(org):
    before = KeyProject.objects.count()
    upload = workbook_bytes(
        [
            row(),
            row(code="2026-NY-0102", total_investment=-5, owner="新公司"),
            row(code="2026-NY-0103", region="不存在区"),
        ]
    )

    with pytest.raises(excel.ImportFailed) as failure:
        excel.import_projects(upload, actor=org.secretariat.user)

    cells = {(e.row, e.column) for e in failure.value.errors}
    total_column = "J"  # the tenth column: total investment
    assert (3, total_column) in cells
    assert (4, "D") in cells  # region
    messages = " ".join(str(e) for e in failure.value.errors)
    assert "Row 3, column J" in messages and "cannot be negative" in messages
    assert "There is no unit called “不存在区”" in messages
    assert KeyProject.objects.count() == before
    assert not Unit.objects.filter(name="新公司").exists()


@pytest.mark.parametrize(
    ("values", "column", "message"),
    [
        ({"capital_gap": 60000}, "L", "capital gap cannot exceed the total investment"),
        ({"planned_finish": "2025-01-01"}, "O", "planned finish cannot be before the planned start"),
        ({"code": "26-NY-1"}, "A", "A project code looks like 2026-GX-0012"),
        ({"industry": "Shipbuilding"}, "C", "not one of the accepted values"),
        ({"planned_start": "next spring"}, "N", "not a date"),
        ({"name": None}, "B", "This cell is required"),
        ({"responsible_leader": "nobody"}, "I", "no responsible leader called"),
    ],
)
def test_a_bad_cell_is_named_with_the_reason(org, values, column, message):
    upload = workbook_bytes([row(**values)])
    with pytest.raises(excel.ImportFailed) as failure:
        excel.import_projects(upload, actor=org.secretariat.user)
    assert any(e.row == 2 and e.column == column and message in e.message for e in failure.value.errors), [
        str(e) for e in failure.value.errors
    ]
    assert not KeyProject.objects.filter(name="光伏组件项目").exists()


def test_the_same_code_twice_in_a_file_is_an_error(org):
    upload = workbook_bytes([row(), row(name="重复")])
    with pytest.raises(excel.ImportFailed, match="also on row 2"):
        excel.import_projects(upload, actor=org.secretariat.user)


def test_a_missing_required_column_is_named(org):
    headers = [h for h in HEADERS_EN if h != "Region"]
    values = row()
    del values[HEADERS_EN.index("Region")]
    with pytest.raises(excel.ImportFailed, match="required column is missing"):
        excel.import_projects(workbook_bytes([values], headers=headers), actor=org.secretariat.user)


def test_a_file_that_is_not_a_workbook_is_refused(org):
    with pytest.raises(excel.ImportFailed, match="not a readable .xlsx"):
        excel.import_projects(io.BytesIO(b"not a spreadsheet"), actor=org.secretariat.user)


def test_a_known_code_updates_that_project_and_audits_the_change(org):
    upload = workbook_bytes([row(code=org.project.code, name="改名后的项目", region="江城区")])

    created, updated = excel.import_projects(upload, actor=org.secretariat.user, file_name="may.xlsx")

    assert (created, updated) == (0, 1)
    org.project.refresh_from_db()
    assert org.project.name == "改名后的项目"
    event = AuditEvent.objects.get(project=org.project, action="updated")
    assert event.changes["name"][1] == "改名后的项目"
    assert event.reason == "Imported from may.xlsx"


def test_the_template_round_trips_its_headers(org):
    sheet = load_workbook(io.BytesIO(excel.template_workbook())).worksheets[0]
    assert [cell.value for cell in sheet[1]] == HEADERS_EN


def test_the_command_imports_a_good_file(org, tmp_path):
    path = tmp_path / "list.xlsx"
    path.write_bytes(workbook_bytes([row()]).getvalue())
    out = io.StringIO()
    call_command("import_projects", str(path), "--as", "secretariat", stdout=out)
    assert "Imported 1 new and 0 changed" in out.getvalue()
    assert KeyProject.objects.filter(code="2026-NY-0101").exists()


def test_the_command_reports_bad_cells_and_imports_nothing(org, tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(workbook_bytes([row(), row(code="2026-NY-0102", region="不存在区")]).getvalue())
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_projects", str(path), "--as", "secretariat", stderr=err)
    assert "Row 3, column D" in err.getvalue()
    assert not KeyProject.objects.filter(code="2026-NY-0101").exists()


def test_the_command_refuses_a_user_who_is_not_the_secretariat(org, tmp_path):
    path = tmp_path / "list.xlsx"
    path.write_bytes(workbook_bytes([row()]).getvalue())
    with pytest.raises(CommandError, match="may not import"):
        call_command("import_projects", str(path), "--as", "head")


def test_the_upload_page_shows_the_errors_and_imports_nothing(org, as_user):
    client = as_user(org.secretariat)
    data = workbook_bytes([row(), row(code="2026-NY-0102", total_investment="lots")]).getvalue()
    upload = SimpleUploadedFile("bad.xlsx", data)

    response = client.post(reverse("cases:projects:import"), {"file": upload})

    assert response.status_code == 422
    body = response.content.decode()
    assert "Nothing was imported" in body and "“lots” is not a number." in body
    assert not KeyProject.objects.filter(code="2026-NY-0101").exists()


def test_the_upload_page_imports_a_good_file(org, as_user):
    client = as_user(org.secretariat)
    upload = SimpleUploadedFile("list.xlsx", workbook_bytes([row()]).getvalue())
    response = client.post(reverse("cases:projects:import"), {"file": upload})
    assert response.status_code == 302
    assert KeyProject.objects.filter(code="2026-NY-0101").exists()


@pytest.mark.parametrize("role", ["head", "staff", "supervisor", "leader", "bank", "owner"])
def test_only_the_secretariat_reaches_the_import_and_the_template(org, as_user, role):
    client = as_user(getattr(org, role))
    assert client.get(reverse("cases:projects:import")).status_code == 403
    assert client.get(reverse("cases:projects:import_template")).status_code == 403


def test_the_export_holds_what_the_reader_may_see_and_honours_filters(org, as_user):
    def codes(client, query=""):
        response = client.get(reverse("cases:projects:export") + query)
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        return {r[0] for r in sheet.iter_rows(min_row=2, values_only=True)}

    assert codes(as_user(org.secretariat)) == {org.project.code, org.other_project.code}
    assert codes(as_user(org.secretariat), f"?region={org.other_unit.pk}") == {org.other_project.code}
    assert codes(as_user(org.secretariat), "?_search=GX-0002") == {org.other_project.code}
    assert codes(as_user(org.head)) == {org.project.code}
    assert as_user(org.bank).get(reverse("cases:projects:export")).status_code == 403


# What people typed never becomes a formula in an export.

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"点此\")", "+1+1", "-2+3", "@SUM(A1:A2)"]


def cells_holding(workbook, values):
    found = {}
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value in values:
                    found[cell.value] = cell.data_type
    return found


def test_text_starting_like_a_formula_is_saved_as_text():
    workbook = Workbook()
    workbook.active.append(FORMULAS)
    assert workbook.active["A1"].data_type == "f"  # what openpyxl would write without the guard

    saved = load_workbook(io.BytesIO(excel.save_workbook(workbook)))

    assert cells_holding(saved, FORMULAS) == dict.fromkeys(FORMULAS, "s")


def test_a_write_only_row_keeps_formula_like_text_as_text():
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("x")
    sheet.append([excel.as_text(sheet, value) for value in FORMULAS] + [excel.as_text(sheet, 3)])

    saved = load_workbook(io.BytesIO(excel.save_workbook(workbook)))

    assert cells_holding(saved, FORMULAS) == dict.fromkeys(FORMULAS, "s")
    assert saved.active["E1"].value == 3


@pytest.mark.parametrize("name", FORMULAS)
def test_the_project_export_writes_a_formula_like_name_as_text(org, name):
    KeyProject.objects.filter(pk=org.project.pk).update(name=name, description=name)

    projects = selectors.project_list(org.secretariat.user).filter(pk=org.project.pk)

    saved = load_workbook(io.BytesIO(excel.export_workbook(projects)))

    assert cells_holding(saved, [name]) == {name: "s"}
