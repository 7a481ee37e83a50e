"""The monthly documents as official documents: the issuing office from the settings, the red rule
under the number, the body in 仿宋, numbers kept whole on their lines, the PDFs' fonts embedded; and
the command writing the latest month that has documents."""

import datetime
import io
import re

import docx
import pypdf
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone, translation
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from lxml import etree
from reportlab.pdfbase.pdfmetrics import stringWidth

from cases.models import Stage
from tests.cases.factories import set_stage
from tests.workflow.monthly.test_documents import (
    STANDARD_ITEMS,
    add_decision,
    add_items,
    make_bulletin,
    make_meeting,
    measures,
)
from workflow.monthly import documents
from workflow.monthly.documents import layout, pdf
from workflow.monthly.models import Meeting, MonthlyReport, ScoreMeasure

NOW = timezone.make_aware(datetime.datetime(2026, 11, 12, 9))
EARLY_DECEMBER = timezone.make_aware(datetime.datetime(2026, 12, 3, 9))
NOVEMBER = datetime.date(2026, 11, 1)
PREAMBLE_ZH = (
    "现对各单位 2026年10月 的工作按各项考核指标以 0 至 100 分评分，加权汇总后在组内排名；"
    "因不可抗力予以考核豁免的指标不计入该单位得分。"
)
# A number (or the end of one) at the end of a line and the rest of it, or its unit, on the next.
BROKEN_NUMBER = re.compile(r"[0-9]\n[0-9.%分]")


@pytest.fixture(autouse=True)
def _november():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cycle(org):
    """October's minuted meeting with a decision, and a bulletin in which a unit scores 100 on
    every measure (the widest figures a cell holds)."""
    meeting = make_meeting(org, state=Meeting.State.MINUTED)
    items = add_items(meeting, org, STANDARD_ITEMS)
    add_decision(meeting, items[1], org)
    full_marks = measures(**{measure: 100.0 for measure in ScoreMeasure.values})
    bulletin = make_bulletin(org, units=[
        (org.park, "territorial", full_marks, "100.00", 1, "red"),
        (org.district, "territorial", measures(tasks_on_time=60.0, reports_on_time="exempt"), "60.00", 2, ""),
        (org.department, "functional", measures(tasks_on_time=40.5, reports_on_time=None), "40.50", 1, "black"),
    ])
    return meeting, bulletin


def pdfs(meeting, bulletin):
    return {
        "agenda": documents.agenda_pdf(meeting),
        "minutes": documents.minutes_pdf(meeting),
        "bulletin": documents.bulletin_pdf(bulletin),
    }


def pdf_text(data):
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def font_problems(data):
    """Each font of each page that has no font file in its descriptor, by its name."""
    problems = []
    for number, page in enumerate(pypdf.PdfReader(io.BytesIO(data)).pages, start=1):
        fonts = page["/Resources"].get_object().get("/Font", {})
        for key, reference in fonts.items():
            font = reference.get_object()
            described = font["/DescendantFonts"][0].get_object() if font["/Subtype"] == "/Type0" else font
            descriptor = described.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            if not any(name in descriptor for name in ("/FontFile", "/FontFile2", "/FontFile3")):
                problems.append(f"page {number} {key} {font.get('/BaseFont')}")
    return problems


# The PDFs


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_font_in_the_agenda_minutes_and_bulletin_pdfs_is_embedded(cycle, language):
    with translation.override(language):
        files = pdfs(*cycle)

    for name, data in files.items():
        assert pypdf.PdfReader(io.BytesIO(data)).pages, name
        assert font_problems(data) == [], name
        assert b"/Helvetica" not in data and b"STSong" not in data, name


def test_the_pdf_font_is_the_packaged_one_found_without_a_path_in_the_code():
    font = pdf._pdf_font()

    assert font == "WenQuanYiMicroHei"
    assert stringWidth("分", font, 10) == pytest.approx(10)


def test_the_pdfs_text_reads_back_in_chinese(cycle):
    with translation.override("zh-hans"):
        files = pdfs(*cycle)

    assert "调度〔2026〕10号" in pdf_text(files["agenda"])
    assert "两周内完成用地报批" in pdf_text(files["minutes"])
    assert "通报〔2026〕10号" in pdf_text(files["bulletin"])


def test_the_pdf_draws_a_red_rule_under_the_number(cycle):
    meeting, _bulletin = cycle

    page = pypdf.PdfReader(io.BytesIO(documents.agenda_pdf(meeting))).pages[0]

    content = page.get_contents().get_data().decode("latin-1")
    red_line = re.search(r"1 0 0 RG\s.*?\sl\s+S", content, re.S)
    assert red_line, "no red stroke in the page"


def test_no_number_in_the_bulletin_pdf_is_broken_over_two_lines(cycle):
    _meeting, bulletin = cycle

    with translation.override("zh-hans"):
        text = pdf_text(documents.bulletin_pdf(bulletin))

    assert "100\u00a0分" in text or "100 分" in text
    assert not BROKEN_NUMBER.search(text), BROKEN_NUMBER.search(text)
    assert text.count("100.00") == 8  # six measures and the total, and the red list
    assert "排名" in text and "免于考核" in text  # short cells keep to one line


@pytest.mark.parametrize("width", range(60, 440, 7))
def test_chinese_lines_break_between_ideographs_and_never_inside_a_number(width):
    font = pdf._pdf_font()

    lines = pdf.cjk_lines(layout.tie_numbers(PREAMBLE_ZH), [width - 26, width], lambda s: stringWidth(s, font, 13))

    texts = [line for _room, line in lines]
    assert "".join(texts).replace(" ", "").replace("\u00a0", "") == PREAMBLE_ZH.replace(" ", "")
    assert not BROKEN_NUMBER.search("\n".join(texts))
    assert all(room >= -0.01 or len(line) == 1 or line[-1] in layout.CANNOT_START for room, line in lines)
    assert not any(line.startswith(("，", "。", "；")) for line in texts)


def test_reportlabs_own_chinese_wrapping_would_break_a_number():
    """What ``CJKParagraph`` is for: reportlab cuts 2026 when the line's Latin run is long."""
    from reportlab.lib.textsplit import wordSplit

    font = pdf._pdf_font()
    broken = [
        width for width in range(60, 440, 7)
        if BROKEN_NUMBER.search("\n".join(line for _room, line in wordSplit(PREAMBLE_ZH, [width - 26, width], font, 13)))
    ]

    assert broken


def test_a_number_is_tied_to_its_unit_but_a_code_to_nothing():
    assert layout.tie_numbers("以 0 至 100 分评分") == "以 0 至 100\u00a0分评分"
    assert layout.tie_numbers("投资 1,200.50 万元") == "投资 1,200.50\u00a0万元"
    assert layout.tie_numbers("2026-GX-0001 万达广场") == "2026-GX-0001 万达广场"
    assert layout.clusters("以 0 至 100\u00a0分") == ["以", " ", "0", " ", "至", " ", "100\u00a0分"]
    assert layout.clusters("〔2026〕10号") == ["〔", "2026", "〕", "10号"]


def test_a_column_is_widened_to_hold_its_widest_number_and_the_others_give_way():
    grid = layout.Grid(["排名", "单位", "评分"], [["1", "高新区", "100.00"]], [1, 20, 1])

    widths = layout.fit_widths(grid, 300, lambda text: len(text) * 10)

    assert sum(widths) == pytest.approx(300)
    assert widths[0] >= 20 and widths[2] >= 60
    assert widths[1] == pytest.approx(300 - widths[0] - widths[2])


# Word


def docx_of(data):
    return docx.Document(io.BytesIO(data))


def test_the_word_body_names_fangsong_gb2312_in_its_runs_with_fangsong_to_fall_back_to(cycle):
    meeting, _bulletin = cycle

    with translation.override("zh-hans"):
        document = docx_of(documents.minutes_docx(meeting))

    body = [p for p in document.paragraphs if p.style.name == "KP Body" and p.text]
    assert body
    for paragraph in body:
        fonts = {run._r.rPr.rFonts.get(qn("w:eastAsia")) for run in paragraph.runs}
        assert fonts <= {"仿宋_GB2312", "黑体"} and "仿宋_GB2312" in fonts, paragraph.text
    assert document.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    cells = [run for table in document.tables for run in table.rows[1].cells[1].paragraphs[0].runs]
    assert {run._r.rPr.rFonts.get(qn("w:eastAsia")) for run in cells} == {"仿宋_GB2312"}
    headings = [p for p in document.paragraphs if p.style.name == "Heading 1"]
    assert {run._r.rPr.rFonts.get(qn("w:eastAsia")) for p in headings for run in p.runs} == {"黑体"}
    font_table = etree.fromstring(document.part.part_related_by(RT.FONT_TABLE).blob)
    fallback = font_table.xpath("w:font[@w:name='仿宋_GB2312']/w:altName/@w:val", namespaces=font_table.nsmap)
    assert fallback == ["仿宋"]


def test_the_word_red_rule_is_a_red_bottom_border_of_the_document_number(cycle):
    meeting, _bulletin = cycle

    document = docx_of(documents.agenda_docx(meeting))

    number = next(p for p in document.paragraphs if p.text == "调度〔2026〕10号")
    bottom = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert bottom.get(qn("w:val")) == "single"
    assert bottom.get(qn("w:color")).upper() in {"FF0000", "C00000"}
    assert int(bottom.get(qn("w:sz"))) >= 8


@override_settings(KP_ISSUING_OFFICE="江城市发展和改革委员会")
def test_the_issuing_office_at_the_head_and_foot_comes_from_the_setting(cycle):
    meeting, bulletin = cycle

    with translation.override("zh-hans"):
        agenda, scores = docx_of(documents.agenda_docx(meeting)), documents.bulletin_pdf(bulletin)

    texts = [p.text for p in agenda.paragraphs]
    assert texts[0] == "江城市发展和改革委员会" and texts[-2] == "江城市发展和改革委员会"
    assert agenda.paragraphs[0].style.name == "KP Issuer"
    assert pdf_text(scores).count("江城市发展和改革委员会") == 2
    assert "临江市" not in pdf_text(scores)


def test_the_issuing_office_names_the_demo_city_by_default(settings, cycle):
    meeting, _bulletin = cycle

    assert settings.KP_ISSUING_OFFICE == "临江市发展和改革委员会"
    assert docx_of(documents.agenda_docx(meeting)).paragraphs[0].text == "临江市发展和改革委员会"


def test_the_word_bulletin_ties_100_to_its_unit_and_gives_figures_room(cycle):
    _meeting, bulletin = cycle

    with translation.override("zh-hans"):
        document = docx_of(documents.bulletin_docx(bulletin))

    assert any("100\u00a0分" in p.text for p in document.paragraphs)
    table = document.tables[0]
    figure_width = (layout.text_ems("100.00") * 10.5 + 10.8) / 72 * 25.4
    for column in range(2, len(table.columns)):
        assert table.rows[0].cells[column].width.mm >= figure_width - 0.1


# The command


def write(*args, language="en"):
    out = io.StringIO()
    call_command("monthly_documents", *args, "--language", language, stdout=out)
    return out.getvalue()


def names(directory):
    return sorted(path.name for path in directory.iterdir())


def test_early_in_december_the_command_writes_octobers_documents_and_says_which_month(org, cycle, tmp_path):
    set_stage(org.project, Stage.CONSTRUCTION)
    MonthlyReport.objects.create(
        project=org.project, month=NOVEMBER, unit=org.park, state=MonthlyReport.State.OPEN,
        due_at=timezone.make_aware(datetime.datetime(2026, 12, 7, 18)), created_at=EARLY_DECEMBER,
    )

    with time_machine.travel(EARLY_DECEMBER, tick=False):
        out = write("--out", str(tmp_path))

    # November has only its reports: the documents are October's, the whole set.
    assert len(names(tmp_path)) == 8 and "bulletin.pdf" in names(tmp_path)
    assert "Writing the documents of 2026-10, the latest month that has any." in out
    assert "Nothing written" not in out


def test_without_a_month_the_command_writes_what_the_latest_month_has(org, tmp_path):
    meeting = make_meeting(org)
    add_items(meeting, org, STANDARD_ITEMS)

    out = write("--out", str(tmp_path))

    assert names(tmp_path) == ["agenda.docx", "agenda.pdf", "minutes.docx", "minutes.pdf", "report-status.xlsx"]
    assert "the documents of 2026-10" in out and "2026-10 has no bulletin yet" in out
    assert f"2026-10: 5 files in {tmp_path}" in out


def test_without_a_month_a_later_bulletin_wins_over_an_earlier_meeting(org, tmp_path):
    make_meeting(org, month=datetime.date(2026, 9, 1), number="调度〔2026〕9号")
    make_bulletin(org)

    out = write("--out", str(tmp_path))

    assert names(tmp_path) == ["bulletin.docx", "bulletin.pdf", "bulletin.xlsx", "report-status.xlsx"]
    assert "2026-10" in out.splitlines()[0]


def test_without_any_month_with_documents_the_command_says_so(db, tmp_path):
    with pytest.raises(CommandError, match="no month has a scheduling meeting, a bulletin or reports"):
        write("--out", str(tmp_path / "out"))

    assert not (tmp_path / "out").exists()


def test_with_a_month_the_command_still_wants_its_meeting_and_bulletin(org, tmp_path):
    make_bulletin(org)

    with pytest.raises(CommandError, match=r"Nothing written for 2026-10: there is no scheduling meeting"):
        write("--month", "2026-10", "--out", str(tmp_path / "out"))

    assert not (tmp_path / "out").exists()
