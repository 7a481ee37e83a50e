"""Key project lists in Excel: the template, the import (all rows or none) and the export.

Amounts are in ten-thousand yuan (万元) in the sheets, as offices keep them; headers and
choices are accepted in English or Chinese.
"""

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from . import services
from .formatting import TEN_THOUSAND, in_wan
from .models import Industry, KeyProject, Level, Person, Role, Unit, UnitKind
from .models.regions import PROJECT_CODE_EXAMPLE

MAX_ROWS = 5000


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # a lazy translation
    required: bool = False
    width: int = 16
    aliases: tuple = ()  # other headers that name the column, as other systems write them


# The columns of the template, in order. The export adds the columns after them.
IMPORT_COLUMNS = [
    Column("code", gettext_lazy("Code"), required=True, width=14),
    Column("name", gettext_lazy("Project name"), required=True, width=36),
    Column("industry", gettext_lazy("Industry"), required=True, width=22),
    Column("region", gettext_lazy("Region"), required=True),
    Column("owner", gettext_lazy("Owner enterprise"), width=26),
    Column("level", gettext_lazy("Level")),
    Column("lead_unit", gettext_lazy("Lead unit"), width=22),
    Column("cooperating_units", gettext_lazy("Cooperating units"), width=30),
    Column("responsible_leader", gettext_lazy("Responsible leader")),
    Column("total_investment", gettext_lazy("Total investment (10k yuan)"), required=True),
    Column("investment_completed_total", gettext_lazy("Investment completed, cumulative (10k yuan)")),
    Column("capital_gap", gettext_lazy("Capital gap (10k yuan)")),
    Column("plan_this_year", gettext_lazy("Planned investment this year (10k yuan)")),
    Column("planned_start", gettext_lazy("Planned start")),
    Column("planned_finish", gettext_lazy("Planned finish")),
    Column("demonstration", gettext_lazy("Demonstration project")),
    Column("description", gettext_lazy("Description"), width=40),
    # Last, so that the older templates' columns keep their letters.
    Column("project_code", gettext_lazy("Project code (national platform)"), width=26, aliases=("项目代码",)),
]
EXPORT_EXTRA_COLUMNS = [
    Column("stage", gettext_lazy("Stage")),
    Column("completed_this_year", gettext_lazy("Investment completed this year (10k yuan)")),
    Column("actual_start", gettext_lazy("Actual start")),
    Column("actual_finish", gettext_lazy("Actual finish")),
    Column("open_blocker_count", gettext_lazy("Open blockers")),
    Column("unsettled_prework_count", gettext_lazy("Pre-work items outstanding")),
]
LIST_SEPARATORS = ["、", "，", ",", ";", "；"]
YES = {"是", "yes", "y", "true", "1", "√"}
NO = {"否", "no", "n", "false", "0", ""}


class ImportRowError(Exception):
    pass


@dataclass
class CellError:
    row: int
    column: str
    header: str
    message: str

    def __str__(self):
        return _("Row %(row)s, column %(column)s (%(header)s): %(message)s") % {
            "row": self.row,
            "column": self.column,
            "header": self.header,
            "message": self.message,
        }


class ImportFailed(Exception):
    """The file was not imported; ``errors`` name each bad cell."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors[:5]))


def _labels_in_both_languages(label):
    names = set()
    for lang in ("en", "zh-hans"):
        with translation.override(lang):
            names.add(_normal(str(label)))
    return names


def column_names(column):
    """Every header that names ``column``: its label in both languages, its key and its aliases."""
    return _labels_in_both_languages(column.label) | {_normal(column.key)} | {_normal(a) for a in column.aliases}


def _normal(text):
    return "".join(str(text).split()).lower().replace("（", "(").replace("）", ")")


def _choice_lookup(choices):
    lookup = {}
    for value, label in choices:
        lookup[_normal(value)] = value
        for name in _labels_in_both_languages(label):
            lookup[name] = value
    return lookup


def _header_style(cell):
    cell.font = Font(bold=True, color="FFFFFF")
    cell.fill = PatternFill("solid", fgColor="1F4E79")
    cell.alignment = Alignment(wrap_text=True, vertical="center")


def _sheet_with_header(columns, title):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=str(column.label))
        _header_style(cell)
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    return workbook, sheet


def as_text(sheet, value):
    """A value for a write-only sheet's row: text that openpyxl would store as a formula (it starts
    with "=") is stored as text. "+", "-" and "@" are text to openpyxl already."""
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def save_workbook(workbook):
    """The file's bytes, every cell of text written as text: what people typed (a project's name
    "=HYPERLINK(...)", say) never becomes a formula in an export. The exports write no formulas
    of their own."""
    # A write-only sheet's rows are written as they come: its text goes through as_text.
    for sheet in [] if workbook.write_only else workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()



def template_workbook():
    """An empty list to fill in, with one example row and the accepted values on a second sheet."""
    workbook, sheet = _sheet_with_header(IMPORT_COLUMNS, _("Key projects"))
    year = timezone.localdate().year
    example = {
        "code": f"{year}-GX-0001",
        "project_code": PROJECT_CODE_EXAMPLE,
        "name": _("Example: new-energy battery materials plant"),
        "industry": str(Industry.NEW_MATERIALS.label),
        "region": _("name of a district or county"),
        "level": str(Level.MUNICIPAL.label),
        "total_investment": 50000,
        "investment_completed_total": 0,
        "capital_gap": 20000,
        "plan_this_year": 15000,
        "planned_start": datetime.date(year, 3, 1),
        "planned_finish": datetime.date(year + 2, 12, 31),
        "demonstration": _("no"),
    }
    for index, column in enumerate(IMPORT_COLUMNS, start=1):
        sheet.cell(row=2, column=index, value=example.get(column.key))
    values = workbook.create_sheet(_("Accepted values"))
    values.append([_("Industry"), _("Level")])
    industries = [str(label) for _v, label in Industry.choices]
    levels = [str(label) for _v, label in Level.choices]
    for i in range(max(len(industries), len(levels))):
        values.append([industries[i] if i < len(industries) else None, levels[i] if i < len(levels) else None])
    values.column_dimensions["A"].width = 40
    return save_workbook(workbook)


def export_workbook(projects):
    """The given projects (a queryset from selectors.project_list) as a sheet."""
    columns = IMPORT_COLUMNS + EXPORT_EXTRA_COLUMNS
    workbook, sheet = _sheet_with_header(columns, _("Key projects"))
    for project in projects.prefetch_related("cooperating_units"):
        row = {
            "code": project.code,
            "project_code": project.project_code,
            "name": project.name,
            "industry": project.get_industry_display(),
            "region": project.region.name,
            "owner": project.owner.name if project.owner else None,
            "level": project.get_level_display(),
            "lead_unit": project.lead_unit.name if project.lead_unit else None,
            "cooperating_units": "、".join(u.name for u in project.cooperating_units.all()),
            "responsible_leader": project.responsible_leader.name if project.responsible_leader else None,
            "total_investment": in_wan(project.total_investment),
            "investment_completed_total": in_wan(project.investment_completed_total),
            "capital_gap": in_wan(project.capital_gap),
            "plan_this_year": in_wan(project.planned_this_year),
            "planned_start": project.planned_start,
            "planned_finish": project.planned_finish,
            "demonstration": _("yes") if project.demonstration else _("no"),
            "description": project.description,
            "stage": project.get_stage_display(),
            "completed_this_year": in_wan(project.completed_this_year),
            "actual_start": project.actual_start,
            "actual_finish": project.actual_finish,
            "open_blocker_count": project.open_blocker_count,
            "unsettled_prework_count": project.unsettled_prework_count,
        }
        sheet.append([_cell_value(row[c.key]) for c in columns])
    for index, column in enumerate(columns, start=1):
        if column.key in ("planned_start", "planned_finish", "actual_start", "actual_finish"):
            for cell in sheet[get_column_letter(index)][1:]:
                cell.number_format = "yyyy-mm-dd"
    return save_workbook(workbook)


def _cell_value(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


class _RowParser:
    """Turns the cells of one row into the data a service takes, or raises per cell."""

    def __init__(self):
        self.industries = _choice_lookup(Industry.choices)
        self.levels = _choice_lookup(Level.choices)
        units = list(Unit.objects.all())
        self.units = {}
        for unit in units:
            self.units.setdefault(_normal(unit.name), unit)
            if unit.short_name:
                self.units.setdefault(_normal(unit.short_name), unit)
        self.leaders = {}
        for person in Person.objects.filter(role=Role.LEADER):
            self.leaders.setdefault(_normal(person.name), []).append(person)
        self.new_enterprises = {}

    def text(self, value):
        return "" if value is None else str(value).strip()

    def amount(self, value):
        if value is None or self.text(value) == "":
            return None
        try:
            wan = Decimal(str(value).replace(",", "").strip())
        except InvalidOperation:
            raise ImportRowError(_("“%(value)s” is not a number.") % {"value": value}) from None
        if wan < 0:
            raise ImportRowError(_("An amount cannot be negative."))
        return (wan * TEN_THOUSAND).quantize(Decimal("0.01"))

    def date(self, value):
        if value is None or self.text(value) == "":
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = self.text(value).replace("/", "-").replace(".", "-")
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            raise ImportRowError(_("“%(value)s” is not a date like 2026-03-01.") % {"value": value}) from None

    def choice(self, value, lookup):
        found = lookup.get(_normal(self.text(value)))
        if found is None:
            raise ImportRowError(_("“%(value)s” is not one of the accepted values.") % {"value": value})
        return found

    def unit(self, value, kinds=None):
        name = self.text(value)
        unit = self.units.get(_normal(name))
        if unit is None or (kinds and unit.kind not in kinds):
            raise ImportRowError(_("There is no unit called “%(name)s”.") % {"name": name})
        return unit

    def units_list(self, value):
        text = self.text(value)
        for sep in LIST_SEPARATORS:
            text = text.replace(sep, "\n")
        return [self.unit(part) for part in text.split("\n") if part.strip()]

    def leader(self, value):
        name = self.text(value)
        found = self.leaders.get(_normal(name), [])
        if not found:
            raise ImportRowError(_("There is no responsible leader called “%(name)s”.") % {"name": name})
        if len(found) > 1:
            raise ImportRowError(_("Several leaders are called “%(name)s”.") % {"name": name})
        return found[0]

    def enterprise(self, value):
        name = self.text(value)
        unit = self.units.get(_normal(name))
        if unit is not None:
            if unit.kind != UnitKind.ENTERPRISE:
                raise ImportRowError(_("“%(name)s” is not an enterprise.") % {"name": name})
            return unit
        # An owner not yet known becomes an enterprise unit when the import is written.
        return self.new_enterprises.setdefault(_normal(name), Unit(name=name, kind=UnitKind.ENTERPRISE))

    def boolean(self, value):
        text = _normal(self.text(value))
        if text in YES or text == _normal(_("yes")):
            return True
        if text in NO or text == _normal(_("no")):
            return False
        raise ImportRowError(_("Write yes or no."))


def _read_rows(upload):
    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except Exception:
        raise ImportFailed([CellError(1, "A", "", _("The file is not a readable .xlsx workbook."))]) from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise ImportFailed([CellError(1, "A", "", _("The sheet is empty."))])
    return header, rows


def map_header(header, columns=IMPORT_COLUMNS):
    """{column key: index} from the header row (English or Chinese titles of ``columns``); errors
    for missing required columns."""
    known = {}
    for column in columns:
        for name in column_names(column):
            known[name] = column
    mapping = {}
    for index, title in enumerate(header):
        column = known.get(_normal(title)) if title is not None else None
        if column is not None and column.key not in mapping:
            mapping[column.key] = index
    missing = [c for c in columns if c.required and c.key not in mapping]
    if missing:
        raise ImportFailed(
            [
                CellError(1, "-", str(c.label), _("This required column is missing from the header row."))
                for c in missing
            ]
        )
    return mapping


def parse_rows(upload):
    """Read and check every row. Returns [(row number, data, annual plans)] or raises ImportFailed."""
    header, rows = _read_rows(upload)
    mapping = map_header(header)
    parser = _RowParser()
    by_key = {c.key: c for c in IMPORT_COLUMNS}
    year = timezone.localdate().year
    parsed, errors, seen_codes, seen_project_codes = [], [], {}, {}
    for row_number, cells in enumerate(rows, start=2):
        if row_number - 1 > MAX_ROWS:
            errors.append(CellError(row_number, "-", "", _("A file may hold at most %(n)s rows.") % {"n": MAX_ROWS}))
            break
        if cells is None or all(c is None or str(c).strip() == "" for c in cells):
            continue
        data, plans, row_errors = {}, [], []

        def cell(key, cells=cells):
            index = mapping.get(key)
            return cells[index] if index is not None and index < len(cells) else None

        def fail(key, message, row_number=row_number, row_errors=row_errors):
            index = mapping.get(key)
            letter = get_column_letter(index + 1) if index is not None else "-"
            row_errors.append(CellError(row_number, letter, str(by_key[key].label), message))

        converters = {
            "code": parser.text,
            "project_code": parser.text,
            "name": parser.text,
            "description": parser.text,
            "industry": lambda v: parser.choice(v, parser.industries),
            "level": lambda v: parser.choice(v, parser.levels),
            "region": lambda v: parser.unit(v, kinds={UnitKind.DISTRICT}),
            "owner": parser.enterprise,
            "lead_unit": parser.unit,
            "cooperating_units": parser.units_list,
            "responsible_leader": parser.leader,
            "total_investment": parser.amount,
            "investment_completed_total": parser.amount,
            "capital_gap": parser.amount,
            "plan_this_year": parser.amount,
            "planned_start": parser.date,
            "planned_finish": parser.date,
            "demonstration": parser.boolean,
        }
        for key in mapping:
            raw = cell(key)
            blank = raw is None or str(raw).strip() == ""
            if blank:
                if by_key[key].required:
                    fail(key, _("This cell is required."))
                continue
            try:
                value = converters[key](raw)
            except ImportRowError as exc:
                fail(key, str(exc))
                continue
            if key == "plan_this_year":
                plans.append({"year": year, "planned_investment": value})
            else:
                data[key] = value
        code = data.get("code")
        if code:
            if code in seen_codes:
                fail("code", _("The code %(code)s is also on row %(row)s.") % {"code": code, "row": seen_codes[code]})
            seen_codes.setdefault(code, row_number)
        project_code = data.get("project_code")
        if project_code:
            if project_code in seen_project_codes:
                fail(
                    "project_code",
                    _("The project code %(code)s is also on row %(row)s.")
                    % {"code": project_code, "row": seen_project_codes[project_code]},
                )
            seen_project_codes.setdefault(project_code, row_number)
        if not row_errors:
            row_errors.extend(_model_errors(data, row_number, mapping, by_key))
        errors.extend(row_errors)
        parsed.append((row_number, data, plans))
    if errors:
        raise ImportFailed(errors)
    if not parsed:
        raise ImportFailed([CellError(2, "A", "", _("The sheet has no project rows."))])
    return parsed, parser.new_enterprises


def _model_errors(data, row_number, mapping, by_key):
    """What the model would refuse, named by cell, without writing anything."""
    existing = KeyProject.objects.filter(code=data.get("code")).first()
    project = existing or KeyProject()
    for key, value in data.items():
        if key == "cooperating_units":
            continue
        if key == "owner" and value.pk is None:
            continue
        setattr(project, key, value)
    exclude = ["owner"] if data.get("owner") is not None and data["owner"].pk is None else []
    try:
        project.validate(exclude=exclude)
    except ValidationError as exc:
        errors = []
        for field, messages in exc.message_dict.items():
            key = field if field in by_key else "code"
            index = mapping.get(key)
            letter = get_column_letter(index + 1) if index is not None else "-"
            for message in messages:
                errors.append(CellError(row_number, letter, str(by_key[key].label), message))
        return errors
    return []


@transaction.atomic
def import_projects(upload, *, actor, file_name=""):
    """Create or update every project of the file, or none. Returns (created, updated)."""
    rows, new_enterprises = parse_rows(upload)
    for enterprise in new_enterprises.values():
        enterprise.save()
    reason = _("Imported from %(file)s") % {"file": file_name or _("an Excel file")}
    created = updated = 0
    for row_number, data, plans in rows:
        try:
            project = KeyProject.objects.filter(code=data["code"]).first()
            if project is None:
                services.project_create(actor=actor, data=data, annual_plans=plans, reason=reason)
                created += 1
            else:
                services.project_update(project=project, actor=actor, data=data, annual_plans=plans, reason=reason)
                updated += 1
        except ValidationError as exc:
            raise ImportFailed(
                [CellError(row_number, "-", field, "; ".join(msgs)) for field, msgs in exc.message_dict.items()]
            ) from exc
        except services.ServiceError as exc:
            raise ImportFailed([CellError(row_number, "-", "", str(exc.message))]) from exc
    return created, updated
