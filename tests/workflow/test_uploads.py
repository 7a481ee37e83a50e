"""Uploads checked by their content: a monthly report's photos and files (through the service, the
web form and the API) and the project Excel import; and a report's files served only to those who
may see the report, typed by their checked content, never as something a browser would run."""

import datetime
import io
import zipfile
from decimal import Decimal
from urllib.parse import quote

import docx
import openpyxl
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases import uploads
from cases.models import AuditEvent, Blocker, KeyProject, Role, Stage, UnitKind
from tests.cases.factories import PersonFactory, UnitFactory, set_stage
from workflow.engine import services as engine_services
from workflow.monthly import reports, selectors
from workflow.monthly import services as monthly_services
from workflow.monthly.models import MonthlyReport, ReportAttachment

OCTOBER = datetime.date(2026, 10, 1)
TODAY = timezone.make_aware(datetime.datetime(2026, 11, 2, 9))  # the first working day of November
GOOD = {
    "investment_month": Decimal("300000"),
    "progress_percent": Decimal("40"),
    "progress_back_reason": "",
    "work_done": "Main structure to the 12th floor.",
    "next_steps": "",
    "problems": "",
    "support_needed": "",
}


# Tiny real files


def image(fmt):
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "red").save(buffer, fmt)
    return buffer.getvalue()


def pdf():
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def xlsx():
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "进度"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def docx_bytes():
    document = docx.Document()
    document.add_paragraph("现场照片说明")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def zipped(parts):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def pptx():
    return zipped({"[Content_Types].xml": "<Types/>", "ppt/presentation.xml": "<p:presentation/>"})


def ole(stream):
    """The head of an OLE compound file and a directory entry naming ``stream`` (UTF-16LE)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    entry = stream.encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64
    return header + b"\x00" * 512 + entry


ALLOWED = [
    ("site.jpg", image("JPEG"), "jpeg", "image/jpeg"),
    ("site.JPEG", image("JPEG"), "jpeg", "image/jpeg"),
    ("site.png", image("PNG"), "png", "image/png"),
    ("site.gif", image("GIF"), "gif", "image/gif"),
    ("site.webp", image("WEBP"), "webp", "image/webp"),
    ("approval.pdf", pdf(), "pdf", "application/pdf"),
    ("figures.xlsx", xlsx(), "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("notes.docx", docx_bytes(), "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("slides.pptx", pptx(), "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("old.doc", ole("WordDocument"), "doc", "application/msword"),
    ("old.xls", ole("Workbook"), "xls", "application/vnd.ms-excel"),
    ("old.ppt", ole("PowerPoint Document"), "ppt", "application/vnd.ms-powerpoint"),
    ("说明.txt", "主体结构封顶，幕墙施工中。\n进度 40% > 上月 35%\n".encode(), "text", "text/plain; charset=utf-8"),
    ("figures.csv", b"month,amount\n2026-10,300000\n", "text", "text/plain; charset=utf-8"),
]

HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>'
REFUSED = [
    ("page.html", HTML, "is refused"),
    ("page.txt", HTML, "is refused"),
    ("drawing.svg", SVG, "is refused"),
    ("drawing.txt", b'<?xml version="1.0"?>\n' + SVG, "is refused"),
    ("photo.png", HTML, "is refused"),  # HTML renamed .png
    ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120, "is refused"),
    ("tool.pdf", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120, "is refused"),  # ELF renamed .pdf
    ("run.txt", b"#!/bin/sh\nrm -rf /\n", "is refused"),
    ("archive.zip", zipped({"a.txt": "a"}), "is refused"),
    ("macros.docx", zipped({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>", "word/vbaProject.bin": "x"}), "is refused"),
    ("installer.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024, "is refused"),  # an OLE file of no Office kind
    ("empty.txt", b"", "is refused"),
    ("binary.txt", b"abc\x00\x01\x02def", "is refused"),
    ("latin1.txt", "Café".encode("latin-1"), "is refused"),
    ("site.pdf", image("PNG"), "does not agree with its content, a PNG image: name it .png"),  # PNG renamed .pdf
    ("figures.docx", xlsx(), "does not agree with its content, an Excel workbook: name it .xlsx"),
    ("site", image("JPEG"), "does not agree with its content, a JPEG image: name it .jpg"),
]


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


# The checker


@pytest.mark.parametrize(("name", "content", "key", "content_type"), ALLOWED, ids=[row[0] for row in ALLOWED])
def test_each_allowed_type_is_told_by_its_content_and_served_as_its_type(name, content, key, content_type):
    kind = uploads.check(upload(name, content), allowed=reports.ATTACHABLE, accepted="any")
    assert kind.key == key
    assert uploads.served_as(key) == (content_type, key in {"jpeg", "png", "gif", "webp"})


@pytest.mark.parametrize(("name", "content", "says"), REFUSED, ids=[row[0] for row in REFUSED])
def test_content_outside_the_allow_list_or_disagreeing_with_the_name_is_refused_naming_the_file(name, content, says):
    with pytest.raises(ValidationError) as refused:
        uploads.check(upload(name, content, "image/png"), allowed=reports.ATTACHABLE, accepted="photos")
    (message,) = refused.value.messages
    assert name in message and says in message


def test_the_browsers_word_for_the_type_does_not_count():
    with pytest.raises(ValidationError):
        uploads.check(upload("page.png", HTML, "image/png"), allowed=reports.ATTACHABLE, accepted="photos")
    kind = uploads.check(upload("site.png", image("PNG"), "text/html"), allowed=reports.ATTACHABLE, accepted="photos")
    assert kind.key == "png"


def test_sniffing_leaves_the_file_at_its_start_for_whoever_reads_it_next():
    file = upload("figures.xlsx", xlsx())
    assert uploads.sniff(file) == "xlsx"
    assert file.read(4) == b"PK\x03\x04"


def test_a_type_not_or_no_longer_on_the_list_is_served_as_a_download_of_bytes():
    assert uploads.served_as("") == ("application/octet-stream", False)
    assert uploads.served_as("html") == ("application/octet-stream", False)


# Submitting a report with files


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def opened(org, media, django_capture_on_commit_callbacks):
    set_stage(
        org.project, Stage.CONSTRUCTION, total_investment=Decimal("5000000"), investment_completed_total=Decimal("1000000"),
        capital_gap=Decimal("0"),
    )
    set_stage(org.other_project, Stage.RESERVE)
    with time_machine.travel(TODAY, tick=False), django_capture_on_commit_callbacks(execute=True):
        monthly_services.reports_open(month=OCTOBER)
    return MonthlyReport.objects.get(project=org.project, month=OCTOBER)


def write_task(report):
    return selectors.open_task_of(MonthlyReport.objects.get(pk=report.pk), "write")


def stored_files(media):
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


def assert_nothing_written(report, media):
    assert MonthlyReport.objects.get(pk=report.pk).state == MonthlyReport.State.OPEN
    assert not ReportAttachment.objects.exists()
    assert stored_files(media) == []
    assert not Blocker.objects.filter(title="Raised with the files").exists()
    assert not AuditEvent.objects.filter(object_id=str(report.pk), transition="submit").exists()
    assert write_task(report) is not None


def test_the_service_keeps_each_allowed_file_with_its_checked_type(org, opened, media):
    files = [upload(name, content, "application/octet-stream") for name, content, _key, _type in ALLOWED[:10]]
    reports.report_submit(task=write_task(opened), user=org.head.user, data=GOOD, files=files)
    rows = list(ReportAttachment.objects.filter(report=opened).order_by("pk"))
    assert [row.file_type for row in rows] == [key for _name, _content, key, _type in ALLOWED[:10]]
    assert [row.kind for row in rows] == ["photo"] * 5 + ["file"] * 5
    assert all((media / row.file.name).read_bytes() == content for row, (_n, content, _k, _t) in zip(rows, ALLOWED, strict=False))


@pytest.mark.parametrize(("name", "content", "says"), REFUSED, ids=[row[0] for row in REFUSED])
def test_the_service_refuses_a_bad_file_among_good_ones_and_writes_nothing(org, opened, media, name, content, says):
    files = [upload("site.png", image("PNG"), "image/png"), upload(name, content, "image/png")]
    with pytest.raises(ValidationError) as refused:
        reports.report_submit(
            task=write_task(opened), user=org.head.user, data=GOOD, files=files, blockers=[{"title": "Raised with the files"}]
        )
    (message,) = refused.value.message_dict["attachments"]
    assert name in message and says in message
    assert_nothing_written(opened, media)


def test_more_than_ten_files_are_refused_and_nothing_is_written(org, opened, media):
    files = [upload(f"site-{n}.png", image("PNG")) for n in range(reports.MAX_ATTACHMENTS + 1)]
    with pytest.raises(ValidationError) as refused:
        reports.report_submit(task=write_task(opened), user=org.head.user, data=GOOD, files=files)
    assert refused.value.message_dict["attachments"] == [
        "Attach at most 10 photos and files to a report; you chose 11."
    ]
    assert_nothing_written(opened, media)


def test_a_file_over_20_mb_is_refused_naming_it(org, opened, media):
    big = upload("scan.pdf", pdf() + b"0" * reports.MAX_ATTACHMENT_BYTES)
    with pytest.raises(ValidationError) as refused:
        reports.report_submit(task=write_task(opened), user=org.head.user, data=GOOD, files=[big])
    assert refused.value.message_dict["attachments"] == ["scan.pdf is larger than 20 MB."]
    assert_nothing_written(opened, media)


def test_bad_figures_and_bad_files_are_refused_together(org, opened, media):
    with pytest.raises(ValidationError) as refused:
        reports.report_submit(
            task=write_task(opened), user=org.head.user, data={**GOOD, "investment_month": Decimal("-1")},
            files=[upload("page.html", HTML)],
        )
    assert set(refused.value.message_dict) == {"investment_month", "attachments"}
    assert_nothing_written(opened, media)


# The web form


def write_page(org, report, client):
    task = write_task(report)
    engine_services.claim_task(task=task, user=org.head.user)
    client.force_login(org.head.user)
    return f"/workflow/flows/report/{task.process_id}/write/{task.pk}/execute/"


def form_body(**change):
    body = {k: v for k, v in GOOD.items() if v}
    return {**body, "investment_month": "30", "blockers-TOTAL_FORMS": "0", "blockers-INITIAL_FORMS": "0", **change}


def test_the_form_keeps_photos_and_files_of_every_kind_and_the_largest_number(org, opened, media, client):
    url = write_page(org, opened, client)
    picked = [ALLOWED[i] for i in (0, 2, 3, 4, 5, 6, 7, 9, 12, 13)]
    assert len(picked) == reports.MAX_ATTACHMENTS
    files = [upload(name, content, "application/octet-stream") for name, content, _key, _type in picked]
    response = client.post(url, form_body(attachments=files))
    assert response.status_code == 302, response.content.decode()[:3000]
    rows = ReportAttachment.objects.filter(report=opened).order_by("pk")
    assert [row.file_type for row in rows] == [key for _name, _content, key, _type in picked]
    assert MonthlyReport.objects.get(pk=opened.pk).state == MonthlyReport.State.SUBMITTED


def test_the_form_takes_a_file_larger_than_django_keeps_in_memory(org, opened, media, client, settings):
    """A file above FILE_UPLOAD_MAX_MEMORY_SIZE goes to a temporary file; it is checked the same."""
    url = write_page(org, opened, client)
    content = pdf() + b"0" * (settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1)
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES is None or settings.DATA_UPLOAD_MAX_NUMBER_FILES > reports.MAX_ATTACHMENTS
    response = client.post(url, form_body(attachments=[upload("scan.pdf", content)]))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert ReportAttachment.objects.get(report=opened).file_type == "pdf"


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [REFUSED[0], REFUSED[2], REFUSED[4], REFUSED[5], REFUSED[6], REFUSED[14]],
    ids=["html", "svg", "html-as-png", "exe", "elf", "png-as-pdf"],
)
def test_the_form_shows_the_refused_file_beside_the_input_and_writes_nothing(org, opened, media, client, name, content, says):
    url = write_page(org, opened, client)
    files = [upload("site.png", image("PNG"), "image/png"), upload(name, content, "image/png")]
    body = form_body(attachments=files, **{
        "blockers-TOTAL_FORMS": "1", "blockers-0-title": "Raised with the files", "blockers-0-category": "other",
    })
    response = client.post(url, body)
    assert response.status_code == 200
    page = response.content.decode()
    errors = page[page.index('id="attachment-errors"'):]
    errors = errors[: errors.index("</ul>")]
    assert name in errors and says in errors
    assert 'aria-invalid="true"' in page
    assert_nothing_written(opened, media)


def test_the_form_refuses_more_than_ten_files(org, opened, media, client):
    url = write_page(org, opened, client)
    files = [upload(f"site-{n}.png", image("PNG")) for n in range(reports.MAX_ATTACHMENTS + 1)]
    response = client.post(url, form_body(attachments=files), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert 'id="attachment-errors"' in response.content.decode()
    assert_nothing_written(opened, media)


# The API


def head_api(org):
    api = APIClient()
    api.force_authenticate(org.head.user)
    return api


def api_body(files):
    return {**{k: str(v) for k, v in GOOD.items()}, "attachments": files}


def test_the_api_takes_photos_and_files_in_multipart(org, opened, media):
    files = [upload(name, content) for name, content, _key, _type in (ALLOWED[2], ALLOWED[5], ALLOWED[6], ALLOWED[12])]
    response = head_api(org).post(f"/api/reports/{opened.pk}/submit/", api_body(files), format="multipart")
    assert response.status_code == 200, response.content
    listed = response.json()["attachments"]
    assert [row["content_type"] for row in listed] == [
        "image/png", "application/pdf", ALLOWED[6][3], "text/plain; charset=utf-8"
    ]
    for row in listed:
        path = reverse("workflow_api:report-attachment-detail", kwargs={"report_id": opened.pk, "attachment_id": row["id"]})
        assert row["url"] == f"http://testserver{path}" and "/media/" not in row["url"]


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [REFUSED[0], REFUSED[2], REFUSED[4], REFUSED[5], REFUSED[6], REFUSED[14]],
    ids=["html", "svg", "html-as-png", "exe", "elf", "png-as-pdf"],
)
def test_the_api_refuses_a_bad_file_on_its_field_and_writes_nothing(org, opened, media, name, content, says):
    files = [upload("site.png", image("PNG")), upload(name, content, "image/png")]
    response = head_api(org).post(f"/api/reports/{opened.pk}/submit/", api_body(files), format="multipart")
    assert response.status_code == 400
    (message,) = response.json()["attachments"]
    assert name in message and says in message
    assert_nothing_written(opened, media)


def test_the_api_refuses_more_than_ten_files(org, opened, media):
    files = [upload(f"site-{n}.png", image("PNG")) for n in range(reports.MAX_ATTACHMENTS + 1)]
    response = head_api(org).post(
        f"/api/reports/{opened.pk}/submit/", api_body(files), format="multipart", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 400 and list(response.json()) == ["attachments"]
    assert_nothing_written(opened, media)


# Serving


@pytest.fixture
def submitted(org, opened, media):
    files = [
        upload("工地 照片.png", image("PNG"), "image/png"),
        upload("批复 \"文件\".pdf", pdf(), "application/pdf"),
    ]
    reports.report_submit(task=write_task(opened), user=org.head.user, data=GOOD, files=files)
    photo, paper = ReportAttachment.objects.filter(report=opened).order_by("pk")
    return opened, photo, paper


def page_url(attachment):
    return reverse("workflow:report_attachment", args=[attachment.report_id, attachment.pk])


def api_url(attachment):
    return f"/api/reports/{attachment.report_id}/attachments/{attachment.pk}/"


def body_of(response):
    return b"".join(response.streaming_content)


def assert_sent_safely(response, content_type, disposition, name, content):
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Disposition"].startswith(f"{disposition}; ")
    assert f"filename*=UTF-8''{quote(name, safe='')}" in response["Content-Disposition"]
    assert "\n" not in response["Content-Disposition"] and "\r" not in response["Content-Disposition"]
    assert body_of(response) == content


@pytest.mark.parametrize("who", ["head", "staff", "secretariat", "supervisor", "leader"])
def test_those_who_may_see_the_report_get_a_photo_inline_and_a_file_as_a_download(org, submitted, client, who):
    _report, photo, paper = submitted
    client.force_login(getattr(org, who).user)
    assert_sent_safely(client.get(page_url(photo)), "image/png", "inline", "工地 照片.png", image("PNG"))
    assert_sent_safely(client.get(page_url(paper)), "application/pdf", "attachment", '批复 "文件".pdf', pdf())


def test_the_ascii_fallback_name_cannot_break_the_header(org, submitted, client):
    _report, _photo, paper = submitted
    client.force_login(org.head.user)
    disposition = client.get(page_url(paper))["Content-Disposition"]
    fallback = disposition.split("filename=", 1)[1].split(";", 1)[0]
    assert fallback.startswith('"') and fallback.endswith('"') and '"' not in fallback[1:-1]


def test_the_api_sends_the_same_bytes_and_headers_with_a_token(org, submitted):
    _report, photo, paper = submitted
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=org.secretariat.user).key}")
    assert_sent_safely(api.get(api_url(photo)), "image/png", "inline", "工地 照片.png", image("PNG"))
    response = api.get(api_url(paper), HTTP_ACCEPT="application/pdf")  # an Accept for the file is no 406
    assert_sent_safely(response, "application/pdf", "attachment", '批复 "文件".pdf', pdf())


@pytest.mark.parametrize("who", ["other_head", "other_leader", "dept_head", "bank", "owner", "other_owner"])
def test_anyone_else_gets_404_on_the_page_and_the_api(org, submitted, client, who):
    """The owner too: monthly reports are internal (``report_scope``), even those of its own case."""
    _report, photo, paper = submitted
    if who == "other_owner":
        enterprise = UnitFactory(name="别家企业", kind=UnitKind.ENTERPRISE)
        org.other_project.owner = enterprise
        org.other_project.save(update_fields=["owner"])
        person = PersonFactory(user__username="other_owner", unit=enterprise, role=Role.OWNER)
    else:
        person = getattr(org, who)
    client.force_login(person.user)
    api = APIClient()
    api.force_authenticate(person.user)
    # A bank gets 403 on every page of the tasks application whatever it asks for
    # (CoordinationApplication.has_view_permission), which tells nothing about this file.
    page_status = 403 if who == "bank" else 404
    for attachment in (photo, paper):
        assert client.get(page_url(attachment)).status_code == page_status
        assert api.get(api_url(attachment)).status_code == 404


def test_nobody_logged_in_is_sent_to_log_in_or_refused_by_the_api(submitted, client):
    _report, photo, _paper = submitted
    response = client.get(page_url(photo))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert APIClient().get(api_url(photo)).status_code in (401, 403)
    assert b"PNG" not in response.content


def test_an_attachment_asked_for_under_another_report_is_404(org, submitted, client):
    _report, photo, _paper = submitted
    client.force_login(org.secretariat.user)
    other = MonthlyReport.objects.create(
        project=org.other_project, month=OCTOBER, unit=org.other_unit, due_at=timezone.now(), created_at=timezone.now()
    )
    assert client.get(reverse("workflow:report_attachment", args=[other.pk, photo.pk])).status_code == 404
    assert client.get(reverse("workflow:report_attachment", args=[photo.report_id, 2**63])).status_code == 404
    assert client.get(f"/api/reports/{photo.report_id}/attachments/{2**64}/").status_code == 404


def test_a_file_missing_from_the_storage_is_404(org, submitted, client, media):
    _report, photo, _paper = submitted
    (media / photo.file.name).unlink()
    client.force_login(org.secretariat.user)
    assert client.get(page_url(photo)).status_code == 404


def test_a_file_kept_before_the_check_is_sent_as_bytes_to_download(org, opened, media, client):
    """Older rows have no checked type: whatever their name or kind, they are a download of bytes."""
    old = ReportAttachment.objects.create(
        report=opened, kind=ReportAttachment.Kind.PHOTO, file=ContentFile(HTML, name="old.html"), name="old.html",
        uploaded_by=org.head.user, uploaded_at=timezone.now(),
    )
    client.force_login(org.head.user)
    assert_sent_safely(client.get(page_url(old)), "application/octet-stream", "attachment", "old.html", HTML)


def test_the_report_page_links_to_the_served_file_not_the_media_url(org, submitted, client):
    report, photo, paper = submitted
    client.force_login(org.secretariat.user)
    page = client.get(f"/workflow/reports/{report.pk}/").content.decode()
    assert f'href="{page_url(photo)}"' in page and f'href="{page_url(paper)}"' in page
    assert "/media/" not in page


def test_serving_a_file_costs_a_fixed_number_of_queries(org, submitted, client, django_assert_num_queries):
    """The session and its user, the person (role and unit), the attachment with its report, and
    the session saved again (SESSION_SAVE_EVERY_REQUEST: an update in a savepoint); the head's own
    unit needs no scope query, a leader's scope is one more."""
    _report, photo, _paper = submitted
    client.force_login(org.head.user)
    with django_assert_num_queries(7):
        assert client.get(page_url(photo)).status_code == 200
    client.force_login(org.leader.user)
    with django_assert_num_queries(8):
        assert client.get(page_url(photo)).status_code == 200
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=org.head.user).key}")
    with django_assert_num_queries(3):  # the token with its user, the person, the attachment with its report
        assert api.get(api_url(photo)).status_code == 200


def test_the_schema_documents_the_file_endpoint_by_type(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/reports/{report_id}/attachments/{attachment_id}/"]["get"]
    assert {"image/png", "application/pdf", "application/octet-stream"} <= set(operation["responses"]["200"]["content"])
    assert "text/html" not in operation["responses"]["200"]["content"]
    assert "image/svg+xml" not in operation["responses"]["200"]["content"]


# The Excel import


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("list.xlsx", HTML),
        ("list.xlsx", image("PNG")),
        ("list.xlsx", docx_bytes()),
        ("list.xlsx", zipped({"a.txt": "a"})),
        ("list.xlsx", ole("Workbook")),  # an .xls renamed
    ],
    ids=["html", "png", "docx", "zip", "xls"],
)
def test_the_import_refuses_a_file_that_is_not_an_xlsx_by_content(org, as_user, name, content):
    client = as_user(org.secretariat)
    before = KeyProject.objects.count()
    response = client.post(reverse("cases:projects:import"), {"file": upload(name, content)})
    assert response.status_code == 200
    assert "list.xlsx is not an Excel workbook (.xlsx) by its content" in response.content.decode()
    assert KeyProject.objects.count() == before


def test_a_returned_report_sent_again_keeps_at_most_ten_files_in_all(org, opened, media, django_capture_on_commit_callbacks):
    first = [upload(f"first-{n}.png", image("PNG")) for n in range(6)]
    with django_capture_on_commit_callbacks(execute=True):
        reports.report_submit(task=write_task(opened), user=org.head.user, data=GOOD, files=first)
        review = selectors.open_task_of(MonthlyReport.objects.get(pk=opened.pk), "review")
        reports.report_review(task=review, user=org.secretariat.user, accepted=False, reason="照片不清晰")

    with pytest.raises(ValidationError) as refused:
        reports.report_submit(
            task=write_task(opened), user=org.head.user, data=GOOD,
            files=[upload(f"again-{n}.png", image("PNG")) for n in range(5)],
        )
    assert refused.value.message_dict["attachments"] == [
        "A report keeps at most 10 photos and files; it has 6 already, and you chose 5."
    ]
    assert MonthlyReport.objects.get(pk=opened.pk).attachments.count() == 6

    with django_capture_on_commit_callbacks(execute=True):
        reports.report_submit(
            task=write_task(opened), user=org.head.user, data=GOOD,
            files=[upload(f"again-{n}.png", image("PNG")) for n in range(4)],
        )
    assert MonthlyReport.objects.get(pk=opened.pk).attachments.count() == 10
