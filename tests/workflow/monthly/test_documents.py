"""The monthly cycle's documents: the agenda, minutes and bulletin parsed back from Word, the bulletin
and report status table from Excel, the PDFs; download pages and API by role; the command; and
the queries of building each document at two sizes."""

import datetime
import io
import re
from decimal import Decimal

import docx
import pypdf
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from docx.oxml.ns import qn
from docx.shared import RGBColor
from openpyxl import load_workbook
from rest_framework.test import APIClient

from cases.models import Stage, UnitKind
from tests.cases.factories import KeyProjectFactory, UnitFactory, set_stage
from workflow.monthly import documents
from workflow.monthly.documents import layout, sheets
from workflow.monthly.models import (
    AgendaItem,
    AgendaSection,
    Bulletin,
    Decision,
    Meeting,
    MonthlyReport,
    ScoreMeasure,
    UnitScore,
)

OCTOBER = datetime.date(2026, 10, 1)
NOW = timezone.make_aware(datetime.datetime(2026, 11, 12, 9))
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _november():
    with time_machine.travel(NOW, tick=False):
        yield


def at(day, hour=9):
    return timezone.make_aware(datetime.datetime(2026, 11, day, hour))


def make_meeting(org, *, state=Meeting.State.PUBLISHED, month=OCTOBER, number="调度〔2026〕10号"):
    meeting = Meeting.objects.create(
        month=month,
        number=number,
        title="2026年10月重点项目调度会",
        scheduled_at=at(14, 15),
        place="市政府第一会议室",
        chair=org.leader,
        state=state,
        drafted_at=at(10),
        published_at=at(11) if state != Meeting.State.DRAFT else None,
        minuted_at=at(14, 18) if state == Meeting.State.MINUTED else None,
    )
    meeting.attendees.set([org.other_leader, org.leader])
    meeting.attending_units.set([org.park, org.department])
    return meeting


def add_items(meeting, org, specs):
    """specs: (section, title, dropped) in position order."""
    return [
        AgendaItem.objects.create(
            meeting=meeting,
            position=position,
            section=section,
            title=title,
            detail=f"{title}的情况",
            note=f"备注{position}",
            minutes=f"{title}：会议听取了汇报。",
            project=org.project if section == AgendaSection.RED else None,
            dropped=dropped,
        )
        for position, (section, title, dropped) in enumerate(specs, start=1)
    ]


STANDARD_ITEMS = [
    (AgendaSection.DECISIONS, "上次会议决定事项落实情况", False),
    (AgendaSection.RED, "滞后项目甲", False),
    (AgendaSection.RED, "滞后项目乙", False),
    (AgendaSection.ESCALATED, "已放弃的议题", True),
    (AgendaSection.OTHER, "其他事项", False),
]


def add_decision(meeting, item, org, text="两周内完成用地报批", state=Decision.State.OPEN, days=10):
    return Decision.objects.create(
        meeting=meeting,
        item=item,
        text=text,
        owner=org.head,
        unit=org.park,
        working_days=days,
        due_at=at(28, 18),
        state=state,
        created_at=at(14, 18),
    )


def measures(**scores):
    return {
        measure: {"score": value, "done": 3, "of": 4, "exempt": False} if value != "exempt"
        else {"score": None, "done": 0, "of": 0, "exempt": True}
        for measure, value in scores.items()
    }


def make_bulletin(org, *, state=Bulletin.State.ISSUED, units=None):
    bulletin = Bulletin.objects.create(
        month=OCTOBER, number="通报〔2026〕10号", state=state, computed_at=at(16),
        issued_at=at(17) if state == Bulletin.State.ISSUED else None,
    )
    rows = units or [
        (org.park, "territorial", measures(tasks_on_time=90.0, reports_on_time=100.0), "95.50", 1, "red"),
        (org.district, "territorial", measures(tasks_on_time=60.0, reports_on_time="exempt"), "60.00", 2, ""),
        (org.department, "functional", measures(tasks_on_time=40.5, reports_on_time=None), "40.50", 1, "black"),
    ]
    for unit, group, values, total, rank, listing in rows:
        UnitScore.objects.create(
            bulletin=bulletin, unit=unit, group=group, measures=values,
            total=Decimal(total) if total is not None else None, rank=rank, listing=listing,
        )
    return bulletin


def parse(content):
    return docx.Document(io.BytesIO(content))


def headings(document, style="Heading 1"):
    return [p.text for p in document.paragraphs if p.style.name == style]


def table_rows(table):
    return [[cell.text for cell in row.cells] for row in table.rows]


def east_asia(style):
    return style.element.rPr.rFonts.get(qn("w:eastAsia"))


def pdf_text(data):
    """The text of the PDF's pages, read through the embedded font's ToUnicode map."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages).replace("\u00a0", " ")


def pdf_pages(data):
    found = re.search(rb"/Type /Pages[^>]*?/Count (\d+)|/Count (\d+)[^>]*?/Type /Pages", data)
    return int(found.group(1) or found.group(2))


# Word: the agenda


def test_the_agenda_has_the_office_number_title_and_a_section_per_kept_section_in_order(org):
    meeting = make_meeting(org)
    add_items(meeting, org, STANDARD_ITEMS)

    document = parse(documents.agenda_docx(meeting))

    texts = [p.text for p in document.paragraphs]
    assert texts[:3] == ["临江市发展和改革委员会", "调度〔2026〕10号", "Agenda of 2026年10月重点项目调度会"]
    assert headings(document) == ["1. Decisions of the last meeting", "2. Red projects", "3. Other matters"]
    assert texts[-2:] == ["临江市发展和改革委员会", "November 11, 2026"]


def test_the_agenda_tables_hold_the_items_of_each_section_and_leave_dropped_ones_out(org):
    meeting = make_meeting(org)
    add_items(meeting, org, STANDARD_ITEMS)

    document = parse(documents.agenda_docx(meeting))

    assert [len(table.rows) for table in document.tables] == [2, 3, 2]
    assert table_rows(document.tables[1]) == [
        ["No.", "Item", "Detail", "Note"],
        ["1", "滞后项目甲\n2026-GX-0001 " + org.project.name, "滞后项目甲的情况", "备注2"],
        ["2", "滞后项目乙\n2026-GX-0001 " + org.project.name, "滞后项目乙的情况", "备注3"],
    ]
    assert "已放弃的议题" not in "".join(cell.text for t in document.tables for row in t.rows for cell in row.cells)


def test_the_agenda_names_time_place_chair_leaders_by_rank_and_units(org):
    meeting = make_meeting(org)

    texts = [p.text for p in parse(documents.agenda_docx(meeting)).paragraphs]

    assert "Place: 市政府第一会议室" in texts
    assert "Chair: leader" in texts
    assert "Attending leaders: leader, other_leader" in texts
    assert "Attending units: 高新区, 自然资源局" in texts or "Attending units: 自然资源局, 高新区" in texts
    assert "The agenda has no items." in texts


def test_a_draft_agenda_is_marked_as_a_draft(org):
    meeting = make_meeting(org, state=Meeting.State.DRAFT)

    document = parse(documents.agenda_docx(meeting))

    assert document.paragraphs[0].text == "Draft"
    assert document.paragraphs[0].style.name == "KP Mark"


def test_the_word_file_names_heiti_for_headings_and_fangsong_for_the_body_with_latin_fallbacks(org):
    meeting = make_meeting(org)
    add_items(meeting, org, STANDARD_ITEMS)

    document = parse(documents.agenda_docx(meeting))

    heading, body = document.styles["Heading 1"], document.styles["KP Body"]
    assert east_asia(heading) == "黑体"
    assert heading.element.rPr.rFonts.get(qn("w:ascii")) == "SimHei"
    assert heading.element.rPr.rFonts.get(qn("w:eastAsiaTheme")) is None
    assert east_asia(body) == "仿宋_GB2312"
    assert body.element.rPr.rFonts.get(qn("w:ascii")) == "FangSong"
    assert east_asia(document.styles["KP Table Header"]) == "黑体"
    assert east_asia(document.styles["KP Table Text"]) == "仿宋_GB2312"
    assert {p.style.name for p in document.paragraphs if p.text.startswith("Place")} == {"KP Body"}
    font_table = document.part.part_related_by(docx.opc.constants.RELATIONSHIP_TYPE.FONT_TABLE).blob.decode()
    assert 'w:name="仿宋"' in font_table and 'w:val="FangSong"' in font_table
    assert 'w:name="黑体"' in font_table and 'w:val="SimHei"' in font_table


def test_the_word_file_is_a4_with_official_margins_a_red_office_and_rule_and_page_numbers(org):
    meeting = make_meeting(org)

    document = parse(documents.agenda_docx(meeting))

    section = document.sections[0]
    sizes = [section.page_width, section.page_height, section.top_margin, section.bottom_margin, section.left_margin,
             section.right_margin]
    assert [round(size.mm) for size in sizes] == [210, 297, 37, 35, 28, 26]
    assert document.styles["KP Issuer"].font.color.rgb == RGBColor(0xFF, 0, 0)
    rule = document.paragraphs[1]._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert rule.get(qn("w:color")) == "FF0000"
    footer = section.footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and 'w:fldCharType="begin"' in footer


def test_the_agenda_in_chinese_numbers_its_sections_in_chinese_numerals_under_the_set_office(org, settings):
    settings.KP_ISSUING_OFFICE = "江城市发展和改革委员会"
    meeting = make_meeting(org)
    add_items(meeting, org, STANDARD_ITEMS)

    with translation.override("zh-hans"):
        document = parse(documents.agenda_docx(meeting))

    assert document.paragraphs[0].text == "江城市发展和改革委员会"
    assert [text[:2] for text in headings(document)] == ["一、", "二、", "三、"]
    assert document.paragraphs[-1].text == "2026年11月11日"


@pytest.mark.parametrize(("number", "numeral"), [(1, "一"), (9, "九"), (10, "十"), (11, "十一"), (20, "二十"), (36, "三十六")])
def test_chinese_numerals(number, numeral):
    assert layout.chinese_numeral(number) == numeral


# Word: the minutes


def test_the_minutes_give_each_kept_item_its_minutes_and_list_the_decisions(org):
    meeting = make_meeting(org, state=Meeting.State.MINUTED)
    items = add_items(meeting, org, STANDARD_ITEMS)
    add_decision(meeting, items[1], org)
    add_decision(meeting, None, org, text="下月复查", state=Decision.State.DONE, days=5)

    document = parse(documents.minutes_docx(meeting))

    assert headings(document) == [
        "1. Decisions of the last meeting", "2. Red projects", "3. Other matters", "4. Decisions",
    ]
    assert headings(document, "Heading 2") == ["(1) 上次会议决定事项落实情况", "(1) 滞后项目甲", "(2) 滞后项目乙", "(1) 其他事项"]
    texts = [p.text for p in document.paragraphs]
    assert "滞后项目甲：会议听取了汇报。" in texts
    assert "Decided: 两周内完成用地报批 (head, 高新区, within 10 working days)." in texts
    assert table_rows(document.tables[-1]) == [
        ["No.", "Decision", "Owner", "Unit", "Working days", "Due", "State"],
        ["1", "两周内完成用地报批", "head", "高新区", "10", "November 28, 2026", "Open"],
        ["2", "下月复查", "head", "高新区", "5", "November 28, 2026", "Done"],
    ]
    assert "Draft" not in texts


def test_minutes_not_yet_recorded_are_a_draft_and_say_when_there_are_no_decisions(org):
    meeting = make_meeting(org)

    document = parse(documents.minutes_docx(meeting))

    assert document.paragraphs[0].text == "Draft"
    assert headings(document) == ["1. Decisions"]
    assert "The meeting took no decisions." in [p.text for p in document.paragraphs]


# Word and Excel: the bulletin


def test_the_bulletin_ranks_each_group_with_every_measure_and_the_total(org):
    bulletin = make_bulletin(org)

    document = parse(documents.bulletin_docx(bulletin))

    assert document.paragraphs[1].text == "通报〔2026〕10号"
    assert headings(document) == [
        "1. Ranking of Districts and parks", "2. Ranking of Departments and state platforms",
        "3. Red list", "4. Black list",
    ]
    assert table_rows(document.tables[0]) == [
        ["Rank", "Unit", "Tasks done on time", "Reports on time", "Score"],
        ["1", "高新区", "90.00", "100.00", "95.50"],
        ["2", "江城区", "60.00", "Exempt", "60.00"],
    ]
    assert table_rows(document.tables[1])[1] == ["1", "自然资源局", "40.50", "—", "40.50"]
    assert table_rows(document.tables[2])[1:] == [["1", "高新区", "Districts and parks", "95.50", "1"]]
    assert table_rows(document.tables[3])[1:] == [["1", "自然资源局", "Departments and state platforms", "40.50", "1"]]


def test_an_empty_list_is_said_in_words(org):
    bulletin = make_bulletin(org, units=[(org.park, "territorial", measures(lights=80.0), "80.00", 1, "")])

    texts = [p.text for p in parse(documents.bulletin_docx(bulletin)).paragraphs]

    assert "No unit is on the red list this month." in texts
    assert "No unit is on the black list this month." in texts


def test_the_bulletin_in_excel_has_a_sheet_per_group_with_figures_and_frozen_headers(org):
    bulletin = make_bulletin(org)

    workbook = load_workbook(io.BytesIO(sheets.bulletin_xlsx(bulletin)))

    assert workbook.sheetnames == ["Districts and parks", "Departments and state platforms", "Red and black lists"]
    sheet = workbook["Districts and parks"]
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["Rank", "Unit", "Tasks done on time", "Reports on time", "Score", "List"],
        [1, "高新区", 90.0, 100.0, 95.5, "Red list"],
        [2, "江城区", 60.0, "Exempt", 60.0, None],
    ]
    assert sheet.freeze_panes == "C2"
    assert sheet["E2"].number_format == "0.00"
    assert list(workbook["Departments and state platforms"].iter_rows(min_row=2, values_only=True)) == [
        (1, "自然资源局", 40.5, None, 40.5, "Black list")
    ]
    assert list(workbook["Red and black lists"].iter_rows(min_row=2, values_only=True)) == [
        ("Red list", "高新区", "Districts and parks", 95.5, 1),
        ("Black list", "自然资源局", "Departments and state platforms", 40.5, 1),
    ]


# Excel: the report status table


def report(project, unit, *, state, submitted_at=None, investment=None, progress=None):
    return MonthlyReport.objects.create(
        project=project, month=OCTOBER, unit=unit, due_at=at(6, 18), state=state, submitted_at=submitted_at,
        investment_month=investment, progress_percent=progress, created_at=at(2),
    )


def test_the_report_status_table_lists_every_active_case_with_its_report(org):
    on_time = set_stage(org.project, Stage.CONSTRUCTION)
    late = set_stage(org.other_project, Stage.PREWORK)
    silent = set_stage(KeyProjectFactory(code="2026-GX-0003", lead_unit=org.department), Stage.DOCKING)
    KeyProjectFactory(code="2026-GX-0004")  # in the reserve: not reported on
    report(on_time, org.park, state=MonthlyReport.State.ACCEPTED, submitted_at=at(5), investment=Decimal("1234567.00"),
           progress=Decimal("42.50"))
    report(late, org.other_unit, state=MonthlyReport.State.SUBMITTED, submitted_at=at(9))

    workbook = load_workbook(io.BytesIO(sheets.report_status_xlsx(OCTOBER)))

    sheet = workbook.active
    assert sheet.title == "Reports 2026-10"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Code", "Project name", "Lead unit", "State", "Due", "Submitted at", "On time",
        "Investment this month (10k yuan)", "Image progress (%)", "Project code (national platform)",
    )
    assert rows[1] == (
        "2026-GX-0001", on_time.name, "高新区", "Accepted", datetime.datetime(2026, 11, 6, 18),
        datetime.datetime(2026, 11, 5, 9), "Yes", 123.46, 42.5, None,
    )
    assert rows[2][:7] == ("2026-GX-0002", late.name, "东湖区", "Submitted", datetime.datetime(2026, 11, 6, 18),
                           datetime.datetime(2026, 11, 9, 9), "No")
    assert rows[3] == ("2026-GX-0003", silent.name, "自然资源局", "No report", None, None, None, None, None, None)
    assert len(rows) == 4
    assert sheet["H2"].number_format == "#,##0.00" and sheet.freeze_panes == "C2"


def test_an_open_report_past_its_deadline_is_not_on_time(org):
    project = set_stage(org.project, Stage.CONSTRUCTION)
    report(project, org.park, state=MonthlyReport.State.OPEN)

    sheet = load_workbook(io.BytesIO(sheets.report_status_xlsx(OCTOBER))).active

    assert sheet["G2"].value == "No"


def test_a_unit_sees_only_its_cases_in_the_report_status_table(org):
    set_stage(org.project, Stage.CONSTRUCTION)
    set_stage(org.other_project, Stage.PREWORK)

    built = documents.build("report_status", OCTOBER, "xlsx", scope=documents.report_scope(org.head.user))

    sheet = load_workbook(io.BytesIO(built.content)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["2026-GX-0001"]


# PDF


def test_the_pdfs_hold_the_same_text_in_chinese(org):
    meeting = make_meeting(org, state=Meeting.State.MINUTED)
    items = add_items(meeting, org, STANDARD_ITEMS)
    add_decision(meeting, items[1], org)
    bulletin = make_bulletin(org)

    with translation.override("zh-hans"):
        agenda, minutes, scores = documents.agenda_pdf(meeting), documents.minutes_pdf(meeting), documents.bulletin_pdf(bulletin)

    for pdf in (agenda, minutes, scores):
        assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
        assert pdf_pages(pdf) >= 1
    assert "调度〔2026〕10号" in pdf_text(agenda)
    assert "滞后项目甲的情况" in pdf_text(agenda)
    assert "已放弃的议题" not in pdf_text(agenda)
    assert "两周内完成用地报批" in pdf_text(minutes)
    assert "通报〔2026〕10号" in pdf_text(scores) and "95.50" in pdf_text(scores)


def test_a_long_agenda_runs_over_several_numbered_pages(org):
    meeting = make_meeting(org)
    add_items(meeting, org, [(AgendaSection.RED, f"滞后项目{n}", False) for n in range(60)])

    pdf = documents.agenda_pdf(meeting)

    assert pdf_pages(pdf) > 1
    assert "— 2 —" in pdf_text(pdf)


# Pages


def test_the_secretariat_downloads_each_document_with_its_type_and_name(org, as_user):
    meeting = make_meeting(org, state=Meeting.State.MINUTED)
    bulletin = make_bulletin(org)
    client = as_user(org.secretariat)
    urls = [
        (reverse("workflow:agenda_document", args=[meeting.pk, "docx"]), DOCX_TYPE, "agenda-2026-10-"),
        (reverse("workflow:agenda_document", args=[meeting.pk, "pdf"]), "application/pdf", "agenda-2026-10-"),
        (reverse("workflow:minutes_document", args=[meeting.pk, "docx"]), DOCX_TYPE, "minutes-2026-10-"),
        (reverse("workflow:minutes_document", args=[meeting.pk, "pdf"]), "application/pdf", "minutes-2026-10-"),
        (reverse("workflow:bulletin_document", args=[bulletin.pk, "docx"]), DOCX_TYPE, "bulletin-2026-10-"),
        (reverse("workflow:bulletin_document", args=[bulletin.pk, "xlsx"]), XLSX_TYPE, "bulletin-2026-10-"),
        (reverse("workflow:bulletin_document", args=[bulletin.pk, "pdf"]), "application/pdf", "bulletin-2026-10-"),
        (reverse("workflow:report_status_document", args=["2026-10"]), XLSX_TYPE, "report-status-2026-10"),
    ]
    for url, content_type, name in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"].startswith("attachment;")
        assert name in response["Content-Disposition"]
    number = client.get(urls[0][0])["Content-Disposition"]
    assert "%E8%B0%83%E5%BA%A6" in number  # 调度, the number, quoted in filename*


def test_documents_are_not_for_owners_or_institutions(org, as_user):
    meeting = make_meeting(org, state=Meeting.State.MINUTED)
    bulletin = make_bulletin(org)
    for person in (org.owner, org.bank):
        client = as_user(person)
        assert client.get(reverse("workflow:agenda_document", args=[meeting.pk, "docx"])).status_code == 403
        assert client.get(reverse("workflow:bulletin_document", args=[bulletin.pk, "xlsx"])).status_code == 403
        assert client.get(reverse("workflow:report_status_document", args=["2026-10"])).status_code == 403


def test_units_read_published_documents_and_not_drafts(org, as_user):
    published = make_meeting(org)
    draft = make_meeting(org, state=Meeting.State.DRAFT, month=datetime.date(2026, 9, 1), number="调度〔2026〕9号")
    bulletin = make_bulletin(org, state=Bulletin.State.DRAFT)
    client = as_user(org.head)

    assert client.get(reverse("workflow:agenda_document", args=[published.pk, "docx"])).status_code == 200
    assert client.get(reverse("workflow:minutes_document", args=[published.pk, "docx"])).status_code == 404
    assert client.get(reverse("workflow:agenda_document", args=[draft.pk, "pdf"])).status_code == 404
    assert client.get(reverse("workflow:bulletin_document", args=[bulletin.pk, "docx"])).status_code == 404
    assert as_user(org.supervisor).get(reverse("workflow:agenda_document", args=[draft.pk, "pdf"])).status_code == 200


def test_an_unknown_format_month_or_record_is_not_found(org, as_user):
    meeting = make_meeting(org)
    bulletin = make_bulletin(org)
    client = as_user(org.secretariat)

    assert client.get(reverse("workflow:agenda_document", args=[meeting.pk, "xlsx"])).status_code == 404
    assert client.get(reverse("workflow:bulletin_document", args=[bulletin.pk, "odt"])).status_code == 404
    assert client.get(reverse("workflow:minutes_document", args=[meeting.pk + 99, "docx"])).status_code == 404
    for month in ("2026-13", "october", "2027-01"):
        assert client.get(reverse("workflow:report_status_document", args=[month])).status_code == 404


def test_a_download_page_wants_a_login(org, client):
    meeting = make_meeting(org)

    response = client.get(reverse("workflow:agenda_document", args=[meeting.pk, "docx"]))

    assert response.status_code == 302


# API


def api(person):
    client = APIClient()
    client.force_authenticate(person.user)
    return client


def test_the_api_serves_the_same_files(org):
    meeting = make_meeting(org, state=Meeting.State.MINUTED)
    bulletin = make_bulletin(org)
    client = api(org.secretariat)

    agenda = client.get(f"/api/documents/meetings/{meeting.pk}/agenda/?fmt=docx")
    minutes = client.get(f"/api/documents/meetings/{meeting.pk}/minutes/?fmt=pdf", HTTP_ACCEPT="application/pdf")
    sheet = client.get(f"/api/documents/bulletins/{bulletin.pk}/?fmt=xlsx")
    word = client.get(f"/api/documents/bulletins/{bulletin.pk}/")
    status = client.get("/api/documents/reports/2026-10/status/")

    assert (agenda.status_code, agenda["Content-Type"]) == (200, DOCX_TYPE)
    assert parse(agenda.content).paragraphs[1].text == "调度〔2026〕10号"
    assert (minutes.status_code, minutes["Content-Type"]) == (200, "application/pdf")
    assert (sheet.status_code, sheet["Content-Type"]) == (200, XLSX_TYPE)
    assert load_workbook(io.BytesIO(sheet.content)).sheetnames[0] == "Districts and parks"
    assert (word.status_code, word["Content-Type"]) == (200, DOCX_TYPE)
    assert (status.status_code, status["Content-Type"]) == (200, XLSX_TYPE)
    assert "bulletin-2026-10-" in sheet["Content-Disposition"]


def test_the_api_refuses_owners_and_institutions_and_hides_what_is_not_there(org):
    meeting = make_meeting(org)
    bulletin = make_bulletin(org, state=Bulletin.State.DRAFT)

    for person in (org.owner, org.bank):
        assert api(person).get(f"/api/documents/meetings/{meeting.pk}/agenda/").status_code == 403
        assert api(person).get("/api/documents/reports/2026-10/status/").status_code == 403
    secretariat = api(org.secretariat)
    assert secretariat.get(f"/api/documents/meetings/{meeting.pk}/agenda/?fmt=xlsx").status_code == 404
    assert secretariat.get(f"/api/documents/meetings/{meeting.pk + 99}/agenda/").status_code == 404
    assert secretariat.get("/api/documents/meetings/99999999999999999999999/minutes/").status_code == 404
    assert secretariat.get("/api/documents/reports/2030-01/status/").status_code == 404
    assert api(org.staff).get(f"/api/documents/bulletins/{bulletin.pk}/").status_code == 404
    assert APIClient().get(f"/api/documents/meetings/{meeting.pk}/agenda/").status_code in (401, 403)


# The command


def test_the_command_writes_last_months_documents(org, tmp_path):
    meeting = make_meeting(org, state=Meeting.State.MINUTED)
    add_items(meeting, org, STANDARD_ITEMS)
    make_bulletin(org)
    out = io.StringIO()

    call_command("monthly_documents", "--out", str(tmp_path), "--language", "en", stdout=out)

    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == sorted(
        ["agenda.docx", "agenda.pdf", "minutes.docx", "minutes.pdf", "bulletin.docx", "bulletin.xlsx",
         "bulletin.pdf", "report-status.xlsx"]
    )
    assert str(tmp_path / "agenda.docx") in out.getvalue().splitlines()
    assert headings(docx.Document(tmp_path / "agenda.docx"))[0] == "1. Decisions of the last meeting"
    assert load_workbook(tmp_path / "bulletin.xlsx").sheetnames[0] == "Districts and parks"
    assert (tmp_path / "minutes.pdf").read_bytes().startswith(b"%PDF-")


def test_the_command_names_what_is_missing_and_writes_nothing(org, tmp_path):
    make_meeting(org)

    with pytest.raises(CommandError, match=r"for 2026-10: there is no bulletin \(score the units first\) yet"):
        call_command("monthly_documents", "--month", "2026-10", "--out", str(tmp_path / "out"))

    assert not (tmp_path / "out").exists()


def test_the_command_for_a_month_without_a_meeting_says_so(org, tmp_path):
    with pytest.raises(CommandError, match=r"2026-09: there is no scheduling meeting .* and no bulletin"):
        call_command("monthly_documents", "--month", "2026-09", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("monthly_documents", "--month", "2027-01", "--out", str(tmp_path))


def test_the_command_writes_under_var_documents_by_default(org, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    make_meeting(org)
    make_bulletin(org)

    call_command("monthly_documents", stdout=io.StringIO())

    assert (tmp_path / "documents" / "2026-10" / "bulletin.docx").is_file()


# Queries do not grow with the document


def _count(build):
    with CaptureQueriesContext(connection) as queries:
        build()
    return len(queries)


def _meeting_of_size(org, size, month):
    meeting = make_meeting(org, state=Meeting.State.MINUTED, month=month, number=f"调度-{size}")
    sections = list(AgendaSection)
    items = add_items(meeting, org, [(sections[n % len(sections)], f"议题{n}", n % 7 == 0) for n in range(size)])
    for item in items[: size // 2]:
        add_decision(meeting, item, org)
    return Meeting.objects.get(pk=meeting.pk)


def test_building_the_agenda_and_minutes_costs_the_same_queries_for_10_and_100_items(org):
    small = _meeting_of_size(org, 10, datetime.date(2026, 9, 1))
    large = _meeting_of_size(org, 100, OCTOBER)

    for build in (documents.agenda_docx, documents.agenda_pdf, documents.minutes_docx, documents.minutes_pdf):
        assert _count(lambda b=build: b(small)) == _count(lambda b=build: b(large)), build.__name__


def _bulletin_of_size(size, month):
    bulletin = Bulletin.objects.create(month=month, number=f"通报-{size}", computed_at=at(16))
    for n in range(size):
        unit = UnitFactory(kind=UnitKind.DISTRICT if n % 2 else UnitKind.DEPARTMENT)
        UnitScore.objects.create(
            bulletin=bulletin, unit=unit, group="territorial" if n % 2 else "functional",
            measures=measures(**{m: float(n % 100) for m in ScoreMeasure.values}), total=Decimal(n % 100),
            rank=n // 2 + 1, listing=["", "red", "black"][n % 3],
        )
    return Bulletin.objects.get(pk=bulletin.pk)


def test_building_the_bulletin_costs_the_same_queries_for_10_and_100_units(db):
    small = _bulletin_of_size(10, datetime.date(2026, 9, 1))
    large = _bulletin_of_size(100, OCTOBER)

    for build in (documents.bulletin_docx, sheets.bulletin_xlsx, documents.bulletin_pdf):
        assert _count(lambda b=build: b(small)) == _count(lambda b=build: b(large)), build.__name__


def test_the_report_status_table_costs_the_same_queries_for_10_and_100_cases(org):
    def add_cases(count):
        for _n in range(count):
            project = set_stage(KeyProjectFactory(lead_unit=org.park), Stage.CONSTRUCTION)
            MonthlyReport.objects.create(project=project, month=OCTOBER, unit=org.park, due_at=at(6), created_at=at(2))

    add_cases(10)
    small = _count(lambda: sheets.report_status_xlsx(OCTOBER))
    add_cases(90)
    large = _count(lambda: sheets.report_status_xlsx(OCTOBER))

    assert small == large
    assert load_workbook(io.BytesIO(sheets.report_status_xlsx(OCTOBER))).active.max_row == 101


def test_the_download_page_and_api_cost_the_same_queries_for_10_and_100_items(org, as_user):
    small = _meeting_of_size(org, 10, datetime.date(2026, 9, 1))
    large = _meeting_of_size(org, 100, OCTOBER)
    page, endpoint = as_user(org.secretariat), api(org.secretariat)
    page.get(reverse("workflow:minutes_document", args=[small.pk, "docx"]))  # the session, once

    def page_queries(meeting):
        return _count(lambda: page.get(reverse("workflow:minutes_document", args=[meeting.pk, "docx"])))

    def api_queries(meeting):
        return _count(lambda: endpoint.get(f"/api/documents/meetings/{meeting.pk}/minutes/?fmt=pdf"))

    assert page_queries(small) == page_queries(large)
    assert api_queries(small) == api_queries(large)
