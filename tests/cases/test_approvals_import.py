"""Approvals from the national approval platform's Excel export: matched to the cases by project
code, each approval item done on its pre-work item with its document number and date, audited,
its approval task finished; a row that matches nothing, a bad row or a bad file imports nothing."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from rest_framework.test import APIClient
from viewflow.workflow.models import Task

from cases import approvals
from cases.excel import ImportFailed
from cases.models import (
    AuditEvent,
    KeyProject,
    PreworkItem,
    PreworkKind,
    PreworkState,
    RegionCode,
    Stage,
)
from tests.cases.factories import (
    KeyProjectFactory,
    PreworkItemFactory,
    UnitFactory,
    set_stage,
    set_state,
)

CURRENT = "2603-369902-04-01-583921"
OLD = "2019-369903-52-03-012345"
HEADERS_ZH = [
    "项目代码", "项目名称", "建设地点", "建设规模及内容", "总投资（万元）", "其中：建设投资（万元）",
    "其中：铺底流动资金（万元）", "资金来源", "项目单位", "审批事项", "审批部门", "批复文号", "批复日期",
]
HEADERS_EN = [str(column.label) for column in approvals.COLUMNS]


@pytest.fixture
def coded(org):
    """org.project (CURRENT) needs its filing, EIA and energy review; org.other_project (OLD) its land."""
    RegionCode.objects.create(code="369902", name="江城区", unit=org.district)
    RegionCode.objects.create(code="369903", name="东湖区", unit=org.other_unit)
    KeyProject.objects.filter(pk=org.project.pk).update(project_code=CURRENT)
    KeyProject.objects.filter(pk=org.other_project.pk).update(project_code=OLD)
    org.filing = PreworkItemFactory(project=org.project, kind=PreworkKind.FILING, approving_unit=org.commission)
    org.eia = set_state(PreworkItemFactory(project=org.project, kind=PreworkKind.EIA, approving_unit=org.department),
                        PreworkState.IN_PROGRESS)
    org.energy = PreworkItemFactory(project=org.project, kind=PreworkKind.ENERGY, approving_unit=org.commission)
    org.land = PreworkItemFactory(project=org.other_project, kind=PreworkKind.LAND, approving_unit=org.department)
    return org


def export_row(code=CURRENT, item="企业投资项目备案", number="临发改备〔2026〕15号", date=datetime.date(2026, 3, 2), **extra):
    values = {
        "project_code": code,
        "name": "光伏组件项目",
        "location": "江城区",
        "scale": "年产组件2GW",
        "total_investment": 50000,
        "construction_investment": 45000,
        "working_capital": 5000,
        "sources_of_funds": "自有资金、银行贷款",
        "project_unit": "华远科技",
        "approval_item": item,
        "authority": "市发改委",
        "document_number": number,
        "approved_on": date,
        **extra,
    }
    return [values[column.key] for column in approvals.COLUMNS]


def xlsx(rows, headers=HEADERS_ZH):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "export.xlsx"
    return buffer


def states(*items):
    return [PreworkItem.objects.get(pk=item.pk).state for item in items]


# Matched


def test_each_matched_approval_is_done_on_its_item_with_its_number_and_date_and_audited(coded):
    upload = xlsx([
        export_row(),
        export_row(item="环境影响评价审批", number="临环审〔2026〕8号", date="2026-04-10"),
        export_row(code=OLD, item="建设项目用地预审与选址意见书", number="用字第369903202600012号", date="2026年5月6日"),
    ])

    done, unchanged = approvals.import_approvals(upload, actor=coded.secretariat.user, file_name="platform.xlsx")

    assert (done, unchanged) == (3, 0)
    filing, eia, energy, land = (PreworkItem.objects.get(pk=i.pk) for i in (coded.filing, coded.eia, coded.energy, coded.land))
    assert (filing.state, filing.document_number, filing.done_on) == (
        PreworkState.DONE, "临发改备〔2026〕15号", datetime.date(2026, 3, 2)
    )
    assert (eia.state, eia.document_number, eia.done_on) == (PreworkState.DONE, "临环审〔2026〕8号", datetime.date(2026, 4, 10))
    assert (land.state, land.done_on) == (PreworkState.DONE, datetime.date(2026, 5, 6))
    assert energy.state == PreworkState.PENDING  # not in the file
    event = AuditEvent.objects.get(object_id=str(filing.pk), transition="complete")
    assert event.actor == coded.secretariat.user and "platform.xlsx" in event.reason
    assert event.changes["document_number"] == ["", "临发改备〔2026〕15号"]


def test_english_headers_and_the_kinds_own_labels_are_accepted(coded):
    upload = xlsx([export_row(item="Energy review", number="临发改能审〔2026〕3号")], headers=HEADERS_EN)
    assert approvals.import_approvals(upload, actor=coded.secretariat.user) == (1, 0)
    assert states(coded.energy) == [PreworkState.DONE]


def test_an_approval_on_record_with_the_same_number_is_left_as_it_is(coded):
    approvals.import_approvals(xlsx([export_row()]), actor=coded.secretariat.user)
    events = AuditEvent.objects.count()

    assert approvals.import_approvals(xlsx([export_row()]), actor=coded.secretariat.user) == (0, 1)
    assert AuditEvent.objects.count() == events


def test_an_item_of_kind_other_is_matched_by_its_title(coded):
    other = PreworkItemFactory(project=coded.project, kind=PreworkKind.OTHER, title="水土保持方案审批",
                               approving_unit=coded.department)
    approvals.import_approvals(xlsx([export_row(item="水土保持方案审批", number="临水保〔2026〕2号")]),
                               actor=coded.secretariat.user)
    assert states(other) == [PreworkState.DONE]


def test_the_approval_finishes_the_open_approval_task_of_the_prework_flow(coded):
    from workflow.coordination import launch
    from workflow.coordination.flows import PreworkFlow

    set_stage(coded.project, Stage.PREWORK)
    process = launch.start_prework_flow(coded.filing)
    task = Task.objects.get(process=process, flow_task=PreworkFlow.approve)
    assert task.status != "DONE"

    approvals.import_approvals(xlsx([export_row()]), actor=coded.secretariat.user)

    task.refresh_from_db()
    process.refresh_from_db()
    assert task.status == "DONE" and process.finished is not None


# Unmatched, bad rows, bad files: nothing imported


def assert_nothing_imported(coded):
    assert states(coded.filing, coded.eia, coded.energy, coded.land) == [
        PreworkState.PENDING, PreworkState.IN_PROGRESS, PreworkState.PENDING, PreworkState.PENDING
    ]
    assert not AuditEvent.objects.filter(transition="complete").exists()


def failure_of(coded, rows, **kwargs):
    with pytest.raises(ImportFailed) as failure:
        approvals.import_approvals(xlsx(rows, **kwargs), actor=coded.secretariat.user)
    assert_nothing_imported(coded)
    return failure.value.errors


def test_a_row_that_matches_no_case_is_reported_and_nothing_is_imported(coded):
    unknown = "2604-369902-04-01-000001"
    errors = failure_of(coded, [export_row(), export_row(code=unknown, item="节能审查")])
    assert [(e.row, e.column, e.header) for e in errors] == [(3, "A", "Project code")]
    assert errors[0].message == f"No key project has the project code {unknown}."


@pytest.mark.parametrize(
    ("values", "column", "message"),
    [
        ({"code": "2603-369902-04-01"}, "A", "is not a project code of the national approval platform"),
        ({"code": "2613-369902-04-01-583921"}, "A", "The time part 2613 of the project code is neither"),
        ({"code": "2603-110105-04-01-583921"}, "A", "The region code 110105 of the project code is not one of"),
        ({"item": "施工许可"}, "J", "has no pre-work item for “施工许可”"),
        ({"item": "水土保持方案审批"}, "J", "has no pre-work item for “水土保持方案审批”"),
        ({"number": None}, "L", "This cell is required"),
        ({"date": "next spring"}, "M", "is not a date like 2026-03-01"),
        ({"date": datetime.date(2099, 1, 1)}, "M", "is in the future"),
    ],
)
def test_a_bad_row_is_named_by_row_and_column_and_nothing_is_imported(coded, values, column, message):
    errors = failure_of(coded, [export_row(item="环评", number="临环审〔2026〕8号"), export_row(**values)])
    assert any(e.row == 3 and e.column == column and message in e.message for e in errors), [str(e) for e in errors]
    assert all(e.row == 3 for e in errors)


def test_an_item_done_with_another_number_or_waived_is_an_error(coded):
    approvals.import_approvals(xlsx([export_row()]), actor=coded.secretariat.user)
    set_state(coded.energy, PreworkState.WAIVED)
    with pytest.raises(ImportFailed) as failure:
        approvals.import_approvals(
            xlsx([export_row(number="临发改备〔2026〕99号"), export_row(item="节能审查", number="x1")]),
            actor=coded.secretariat.user,
        )
    messages = {e.row: e.message for e in failure.value.errors}
    assert "is done already with document number 临发改备〔2026〕15号" in messages[2]
    assert "was waived" in messages[3]


def test_the_same_approval_twice_in_the_file_is_an_error(coded):
    errors = failure_of(coded, [export_row(), export_row()])
    assert [(e.row, e.column) for e in errors] == [(3, "J")] and "also on row 2" in errors[0].message


def test_a_file_that_is_not_a_workbook_imports_nothing(coded):
    with pytest.raises(ImportFailed) as failure:
        approvals.import_approvals(io.BytesIO(b"PK\x03\x04 not really a zip"), actor=coded.secretariat.user)
    assert "not a readable .xlsx workbook" in failure.value.errors[0].message
    assert_nothing_imported(coded)


def test_a_sheet_without_the_required_columns_imports_nothing(coded):
    errors = failure_of(coded, [["x", "y"]], headers=["项目代码", "项目名称"])
    assert {e.header for e in errors} == {"Approval item", "Document number", "Approval date"}


def test_a_sheet_without_rows_imports_nothing(coded):
    errors = failure_of(coded, [])
    assert "no approval rows" in errors[0].message


def test_only_the_secretariat_imports_approvals(coded):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        approvals.import_approvals(xlsx([export_row()]), actor=coded.head.user)
    assert_nothing_imported(coded)


# The page and the API


def test_the_page_imports_a_file_and_says_how_many(coded, as_user):
    client = as_user(coded.secretariat)
    url = reverse("cases:projects:import_approvals")
    assert client.get(url).status_code == 200
    response = client.post(url, {"file": xlsx([export_row()])}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("cases:projects:list")
    assert "Imported 1 approvals; 0 were on record already." in response.content.decode()
    assert states(coded.filing) == [PreworkState.DONE]


def test_the_page_lists_each_error_and_imports_nothing(coded, as_user):
    client = as_user(coded.secretariat)
    response = client.post(
        reverse("cases:projects:import_approvals"),
        {"file": xlsx([export_row(), export_row(code="2604-369902-04-01-000001")])},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Nothing was imported: 1 error." in body and "No key project has the project code 2604-369902-04-01-000001." in body
    assert_nothing_imported(coded)


def test_the_template_is_the_layout_the_import_reads(coded, as_user):
    response = as_user(coded.secretariat).get(reverse("cases:projects:approvals_template"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[1]] == HEADERS_EN


def test_the_page_and_the_template_are_the_secretariats(coded, as_user):
    client = as_user(coded.head)
    assert client.get(reverse("cases:projects:import_approvals")).status_code == 403
    assert client.get(reverse("cases:projects:approvals_template")).status_code == 403


def test_the_api_imports_a_file_or_answers_422_with_the_errors(coded):
    client = APIClient()
    client.force_authenticate(coded.secretariat.user)
    url = reverse("api:project-approvals-import")
    refused = client.post(url, {"file": xlsx([export_row(), export_row(code="2604-369902-04-01-000001")])},
                          format="multipart")
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{
        "row": 3, "column": "A", "header": "Project code",
        "message": "No key project has the project code 2604-369902-04-01-000001.",
    }]
    assert_nothing_imported(coded)

    done = client.post(url, {"file": xlsx([export_row()])}, format="multipart")
    assert done.status_code == 200 and done.json() == {"done": 1, "unchanged": 0}

    not_excel = io.BytesIO(b"code,name\n")
    not_excel.name = "export.xlsx"
    assert client.post(url, {"file": not_excel}, format="multipart").status_code == 400


def test_the_api_import_is_the_secretariats(coded):
    client = APIClient()
    client.force_authenticate(coded.head.user)
    response = client.post(reverse("api:project-approvals-import"), {"file": xlsx([export_row()])}, format="multipart")
    assert response.status_code == 403
    assert_nothing_imported(coded)


# Queries


def many_cases(count, start):
    """``count`` cases with an EIA to approve, and a row approving each."""
    region = UnitFactory(kind="district")
    unit = UnitFactory()
    rows = []
    for n in range(start, start + count):
        code = f"2605-369902-04-01-{n:06d}"
        project = KeyProjectFactory(code=f"2026-QC-{n:04d}", project_code=code, region=region)
        PreworkItemFactory(project=project, kind=PreworkKind.EIA, approving_unit=unit)
        rows.append(export_row(code=code, item="环评", number=f"临环审〔2026〕{n}号"))
    return rows


def test_checking_a_file_costs_the_same_queries_for_5_and_50_rows(coded):
    counts = {}
    for size, start in ((5, 0), (50, 100)):
        upload = xlsx(many_cases(size, start))
        with CaptureQueriesContext(connection) as queries:
            checked = approvals.parse_approvals(upload)
        assert len(checked) == size
        counts[size] = len(queries)
    assert counts == {5: 3, 50: 3}  # the region codes, the cases of the file's codes, their pre-work items


def test_writing_costs_the_same_queries_for_each_approval_whatever_the_size(coded):
    """Each approval is done through the pre-work item's service, as on its page (its audit row,
    its save, the approval task it finishes): the same few queries for each, none for the rows
    around it."""
    # A first import warms the caches a running server has warm (the audit rows' content type).
    approvals.import_approvals(xlsx(many_cases(1, 900)), actor=coded.secretariat.user)
    counts = {}
    for size, start in ((5, 0), (10, 100), (50, 200)):
        upload = xlsx(many_cases(size, start))
        with CaptureQueriesContext(connection) as queries:
            assert approvals.import_approvals(upload, actor=coded.secretariat.user) == (size, 0)
        counts[size] = len(queries)
    per_approval = (counts[10] - counts[5]) // 5
    assert counts[10] - counts[5] == 5 * per_approval
    assert counts[50] - counts[5] == 45 * per_approval
    assert per_approval <= 8, counts
