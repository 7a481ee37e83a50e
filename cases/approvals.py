"""Approvals from the national online approval and supervision platform's Excel export: each row
an approval item of a project, matched to its case by the project code and done on its pre-work
item with the document number and date. Every row or none, like the project import.

The export's layout, one row per approval item (the project's facts repeat on its rows):
项目代码, 项目名称, 建设地点, 建设规模及内容, 总投资（万元）, 其中：建设投资（万元）, 其中：铺底流动资金
（万元）, 资金来源, 项目单位, 审批事项, 审批部门, 批复文号, 批复日期. Headers are accepted in
Chinese or English. The project's facts are read for the reader of the sheet only: the case's own
facts are the project import's and the pages'.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils import get_column_letter

from . import permissions, services
from .excel import (
    MAX_ROWS,
    CellError,
    Column,
    ImportFailed,
    _normal,
    _read_rows,
    _sheet_with_header,
    column_names,
    map_header,
    save_workbook,
)
from .models import PREWORK_SETTLED, KeyProject, PreworkItem, PreworkKind, PreworkState, RegionCode
from .models.regions import PROJECT_CODE_EXAMPLE, project_code_problems

COLUMNS = [
    Column("project_code", gettext_lazy("Project code"), required=True, width=26, aliases=("项目代码",)),
    Column("name", gettext_lazy("Project name"), width=32, aliases=("项目名称",)),
    Column("location", gettext_lazy("Location"), width=20, aliases=("建设地点",)),
    Column("scale", gettext_lazy("Scale and content"), width=32, aliases=("建设规模及内容", "建设规模")),
    Column("total_investment", gettext_lazy("Total investment (10k yuan)"), aliases=("总投资（万元）", "总投资")),
    Column(
        "construction_investment",
        gettext_lazy("Of which: construction investment (10k yuan)"),
        aliases=("其中：建设投资（万元）", "建设投资"),
    ),
    Column(
        "working_capital",
        gettext_lazy("Of which: working capital (10k yuan)"),
        aliases=("其中：铺底流动资金（万元）", "铺底流动资金"),
    ),
    Column("sources_of_funds", gettext_lazy("Sources of funds"), width=24, aliases=("资金来源",)),
    Column("project_unit", gettext_lazy("Project unit"), width=26, aliases=("项目单位", "项目法人单位")),
    Column("approval_item", gettext_lazy("Approval item"), required=True, width=24, aliases=("审批事项", "事项名称")),
    Column("authority", gettext_lazy("Approving authority"), width=22, aliases=("审批部门",)),
    Column(
        "document_number", gettext_lazy("Document number"), required=True, width=24, aliases=("批复文号", "文号")
    ),
    Column("approved_on", gettext_lazy("Approval date"), required=True, aliases=("批复日期", "办结日期")),
]
BY_KEY = {column.key: column for column in COLUMNS}

# The platform's names of its approval items, as its exports write them, and the pre-work kind of
# each (the kinds' own labels, in both languages, are accepted too). 可行性研究报告 is the project
# approval of a government-invested project (its own checklist item, 可研); 用地预审与选址意见书 the land
# pre-examination.
ITEM_NAMES = {
    PreworkKind.FILING: [
        "立项", "备案", "项目备案", "企业投资项目备案", "核准", "项目核准", "企业投资项目核准",
        "项目建议书", "项目建议书审批", "立项/备案",
    ],
    PreworkKind.FEASIBILITY: ["可研", "可行性研究报告", "可行性研究报告审批", "可研批复"],
    PreworkKind.PRELIMINARY_DESIGN: ["初步设计", "初步设计审批", "初步设计及概算审批", "初步设计批复"],
    PreworkKind.LAND: ["用地预审", "用地预审与选址意见书", "建设项目用地预审与选址意见书", "土地", "用地"],
    PreworkKind.PLANNING: [
        "规划选址", "规划许可", "建设用地规划许可证", "建设工程规划许可证", "建设工程规划许可", "规划",
    ],
    PreworkKind.EIA: ["环评", "环境影响评价", "环境影响评价审批", "环境影响报告书审批", "环境影响报告表审批"],
    PreworkKind.ENERGY: ["节能审查", "节能审查意见", "节能评估", "节能"],
    PreworkKind.CONSTRUCTION_PERMIT: [
        "施工许可", "施工许可证", "建筑工程施工许可", "建筑工程施工许可证", "建筑工程施工许可证核发",
    ],
}


def _kind_lookup():
    lookup = {}
    for kind, names in ITEM_NAMES.items():
        for name in names:
            lookup[_normal(name)] = kind
    for kind, label in PreworkKind.choices:
        if kind == PreworkKind.OTHER:
            continue
        for name in column_names(Column(kind, label)):
            lookup.setdefault(name, kind)
    return lookup


@dataclass
class Approval:
    """One row's approval, matched to the pre-work item it completes (``unchanged`` when the item
    is done already with the same document number)."""

    row: int
    item: PreworkItem
    document_number: str
    approved_on: datetime.date
    unchanged: bool = False


def _text(value):
    return "" if value is None else str(value).strip()


def _date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").rstrip("日")
    try:
        return datetime.date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))
    except ValueError:
        return None


def _cases_by_project_code(codes):
    """The cases with these project codes, each with its pre-work items: two queries."""
    items = PreworkItem.objects.order_by("pk")
    projects = KeyProject.objects.filter(project_code__in=codes).prefetch_related(
        Prefetch("prework_items", queryset=items)
    )
    return {project.project_code: project for project in projects}


def _pick_item(project, kind, item_name, document_number, taken):
    """The case's pre-work item the row's approval completes: the first unsettled one of its kind
    (for an item the platform names otherwise, the item of kind Other with that title), or the one
    already done with this document number. Returns (item, problem)."""
    if kind is None:
        candidates = [
            i for i in project.prework_items.all()
            if i.kind == PreworkKind.OTHER and _normal(i.title) == _normal(item_name)
        ]
    else:
        candidates = [i for i in project.prework_items.all() if i.kind == kind]
    candidates = [i for i in candidates if i.pk not in taken]
    for item in candidates:
        if item.state == PreworkState.DONE and item.document_number.strip() == document_number:
            return item, None
    for item in candidates:
        if item.state not in PREWORK_SETTLED:
            return item, None
    if not candidates:
        return None, _("The key project %(case)s has no pre-work item for “%(item)s”.") % {
            "case": project.code, "item": item_name,
        }
    settled = candidates[0]
    if settled.state == PreworkState.WAIVED:
        return None, _("The pre-work item “%(item)s” of %(case)s was waived: reopen it before importing its approval.") % {
            "item": settled.label, "case": project.code,
        }
    return None, _(
        "The pre-work item “%(item)s” of %(case)s is done already with document number %(number)s."
    ) % {"item": settled.label, "case": project.code, "number": settled.document_number or "—"}


def parse_approvals(upload, *, today=None):
    """Read and check every row, matching each to a case and a pre-work item. Returns the
    approvals, or raises ImportFailed naming each bad cell. Its queries do not grow with the rows:
    the region codes, the cases of the file's codes and their pre-work items."""
    today = today or timezone.localdate()
    header, rows = _read_rows(upload)
    mapping = map_header(header, COLUMNS)
    kinds = _kind_lookup()
    region_codes = set(RegionCode.objects.values_list("code", flat=True))
    read, errors = [], []
    for row_number, cells in enumerate(rows, start=2):
        if row_number - 1 > MAX_ROWS:
            errors.append(CellError(row_number, "-", "", _("A file may hold at most %(n)s rows.") % {"n": MAX_ROWS}))
            break
        if cells is None or all(c is None or str(c).strip() == "" for c in cells):
            continue
        values = {
            key: cells[index] if index < len(cells) else None for key, index in mapping.items()
        }
        read.append((row_number, values))
    codes = {_text(values.get("project_code")) for _row, values in read}
    cases = _cases_by_project_code(codes)

    def fail(row_number, key, message):
        index = mapping.get(key)
        letter = get_column_letter(index + 1) if index is not None else "-"
        errors.append(CellError(row_number, letter, str(BY_KEY[key].label), message))

    approvals, taken, seen = [], {}, {}
    for row_number, values in read:
        code = _text(values.get("project_code"))
        item_name = _text(values.get("approval_item"))
        number = _text(values.get("document_number"))
        raw_date = values.get("approved_on")
        bad = False
        for key, value in (("project_code", code), ("approval_item", item_name), ("document_number", number)):
            if not value:
                fail(row_number, key, _("This cell is required."))
                bad = True
        approved_on = _date(raw_date) if _text(raw_date) else None
        if not _text(raw_date):
            fail(row_number, "approved_on", _("This cell is required."))
            bad = True
        elif approved_on is None:
            fail(row_number, "approved_on", _("“%(value)s” is not a date like 2026-03-01.") % {"value": raw_date})
            bad = True
        elif approved_on > today:
            fail(row_number, "approved_on", _("The approval date %(date)s is in the future.") % {"date": approved_on})
            bad = True
        if len(number) > PreworkItem._meta.get_field("document_number").max_length:
            fail(row_number, "document_number", _("The document number is longer than 80 characters."))
            bad = True
        if code:
            problems = project_code_problems(code, region_codes=region_codes, today=today)
            for problem in problems:
                fail(row_number, "project_code", problem)
            bad = bad or bool(problems)
            if not problems and code not in cases:
                fail(row_number, "project_code", _("No key project has the project code %(code)s.") % {"code": code})
                bad = True
        if bad:
            continue
        project = cases[code]
        kind = kinds.get(_normal(item_name))
        key = (code, kind or _normal(item_name), number)
        if key in seen:
            fail(row_number, "approval_item", _("The same approval is also on row %(row)s.") % {"row": seen[key]})
            continue
        seen[key] = row_number
        item, problem = _pick_item(project, kind, item_name, number, taken)
        if problem:
            fail(row_number, "approval_item", problem)
            continue
        taken[item.pk] = row_number
        unchanged = item.state == PreworkState.DONE
        approvals.append(Approval(row_number, item, number, approved_on, unchanged=unchanged))
    if errors:
        raise ImportFailed(errors)
    if not approvals:
        raise ImportFailed([CellError(2, "A", "", _("The sheet has no approval rows."))])
    return approvals


@transaction.atomic
def import_approvals(upload, *, actor, file_name=""):
    """Mark done every approval of the platform's export on its case's pre-work item, or none.

    Each item is completed through ``services.prework_item_transition``, as on its page: audited
    with the file's name as the reason, and its approval task (the pre-work flow's) finished by the
    layer above through ``record_changed``. Returns (done, unchanged)."""
    if not permissions.can_import_projects(actor):
        raise PermissionDenied(_("Only the secretariat may import approvals."))
    approvals = parse_approvals(upload)
    reason = _("Approval imported from %(file)s") % {"file": file_name or _("an Excel file")}
    done = 0
    for approval in approvals:
        if approval.unchanged:
            continue
        fields = {"done_on": approval.approved_on, "document_number": approval.document_number}
        try:
            services.prework_item_transition(
                item=approval.item, transition="complete", actor=actor, reason=reason, fields=fields
            )
        except ValidationError as exc:
            messages = exc.message_dict.items() if hasattr(exc, "error_dict") else [("", exc.messages)]
            raise ImportFailed(
                [CellError(approval.row, "-", field, "; ".join(msgs)) for field, msgs in messages]
            ) from exc
        except services.ServiceError as exc:
            raise ImportFailed([CellError(approval.row, "-", "", str(exc.message))]) from exc
        done += 1
    return done, len(approvals) - done


def template_workbook():
    """The layout the import reads, with one example row."""
    workbook, sheet = _sheet_with_header(COLUMNS, _("Approvals"))
    # The platform writes its exports in Chinese: so does the example.
    example = {
        "project_code": PROJECT_CODE_EXAMPLE,
        "name": "年产5万吨电池材料项目",
        "location": "临江市江城区",
        "scale": "新建厂房12万平方米，年产电池材料5万吨",
        "total_investment": 50000,
        "construction_investment": 45000,
        "working_capital": 5000,
        "sources_of_funds": "企业自有资金、银行贷款",
        "project_unit": "临江新材料有限公司",
        "approval_item": "环境影响评价审批",
        "authority": "临江市生态环境局",
        "document_number": "临环审〔2026〕12号",
        "approved_on": timezone.localdate(),
    }
    for index, column in enumerate(COLUMNS, start=1):
        sheet.cell(row=2, column=index, value=example.get(column.key))
    return save_workbook(workbook)
