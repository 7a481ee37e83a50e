"""What an uploaded file is, told from its first bytes and not from its name or the browser's word:
an allow list of types, each with the extensions it may be named with and how it is served."""

import codecs
import re
import zipfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

OCTET_STREAM = "application/octet-stream"
HEAD_BYTES = 16
# Where an Office 97-2003 file keeps its content, in the names of its streams (UTF-16LE).
OLE_STREAMS = (("doc", "WordDocument"), ("xls", "Workbook"), ("ppt", "PowerPoint Document"))
OLE_SCAN_CHUNK = 1024 * 1024
# Something that reads as markup (a tag, a closing tag, a comment or doctype, an XML declaration)
# makes text no longer plain: a browser that ignored the served type could run it.
MARKUP = re.compile(r"<(?:[!?]|/?[A-Za-z][A-Za-z0-9:_-]*(?:[\s/>]|$))")
MARKUP_OVERLAP = 64
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # tab, newlines and form feed are text


@dataclass(frozen=True)
class FileType:
    key: str
    label: str
    extensions: tuple
    content_type: str
    photo: bool = False


TYPES = {
    kind.key: kind
    for kind in (
        FileType("jpeg", gettext_lazy("a JPEG image"), ("jpg", "jpeg"), "image/jpeg", photo=True),
        FileType("png", gettext_lazy("a PNG image"), ("png",), "image/png", photo=True),
        FileType("gif", gettext_lazy("a GIF image"), ("gif",), "image/gif", photo=True),
        FileType("webp", gettext_lazy("a WebP image"), ("webp",), "image/webp", photo=True),
        FileType("pdf", gettext_lazy("a PDF document"), ("pdf",), "application/pdf"),
        FileType(
            "docx",
            gettext_lazy("a Word document"),
            ("docx",),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        FileType(
            "xlsx",
            gettext_lazy("an Excel workbook"),
            ("xlsx",),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        FileType(
            "pptx",
            gettext_lazy("a PowerPoint presentation"),
            ("pptx",),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        FileType("doc", gettext_lazy("a Word 97-2003 document"), ("doc",), "application/msword"),
        FileType("xls", gettext_lazy("an Excel 97-2003 workbook"), ("xls",), "application/vnd.ms-excel"),
        FileType("ppt", gettext_lazy("a PowerPoint 97-2003 presentation"), ("ppt",), "application/vnd.ms-powerpoint"),
        FileType("text", gettext_lazy("plain text"), ("txt", "csv"), "text/plain; charset=utf-8"),
    )
}
OFFICE_OPEN_XML = (("docx", "word/document.xml"), ("xlsx", "xl/workbook.xml"), ("pptx", "ppt/presentation.xml"))


def extension_of(name):
    """The extension of ``name``, lower case, without its dot; "" when it has none."""
    base = (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base.strip(".") else ""


def _read_from(upload, offset, size):
    upload.seek(offset)
    return upload.read(size)


def _office_open_xml(upload):
    """docx, xlsx or pptx: a zip with its content types and the part that makes it one; not one
    carrying macros (a .docm or .xlsm renamed)."""
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return None
    if "[Content_Types].xml" not in names or any(name.lower().endswith("vbaproject.bin") for name in names):
        return None
    for key, part in OFFICE_OPEN_XML:
        if part in names:
            return key
    return None


def _ole(upload):
    """doc, xls or ppt: an OLE compound file holding the stream that makes it one (an installer
    or other compound file holds none of them)."""
    needles = [(key, stream.encode("utf-16-le")) for key, stream in OLE_STREAMS]
    overlap = max(len(needle) for _key, needle in needles)
    upload.seek(0)
    tail = b""
    while chunk := upload.read(OLE_SCAN_CHUNK):
        window = tail + chunk
        for key, needle in needles:
            if needle in window:
                return key
        tail = window[-overlap:]
    return None


def _plain_text(upload):
    """UTF-8 text without control characters, without markup, and not a script (``#!``)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    upload.seek(0)
    if upload.read(2) == b"#!":
        return None
    upload.seek(0)
    tail = ""
    try:
        while chunk := upload.read(OLE_SCAN_CHUNK):
            text = tail + decoder.decode(chunk)
            if CONTROL.search(text) or MARKUP.search(text):
                return None
            tail = text[-MARKUP_OVERLAP:]
        text = tail + decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    if CONTROL.search(text) or MARKUP.search(text):
        return None
    return "text"


def sniff(upload):
    """The key in ``TYPES`` of what ``upload``'s content is, or None for anything else (HTML,
    SVG, XML, scripts, programs, archives, an empty file). Leaves the file at its start."""
    try:
        head = _read_from(upload, 0, HEAD_BYTES) or b""
        if head.startswith(b"\xff\xd8\xff"):
            return "jpeg"
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return "png"
        if head.startswith((b"GIF87a", b"GIF89a")):
            return "gif"
        if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
            return "webp"
        if head.startswith(b"%PDF-"):
            return "pdf"
        if head.startswith(b"PK\x03\x04"):
            return _office_open_xml(upload)
        if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            return _ole(upload)
        if head:
            return _plain_text(upload)
        return None
    finally:
        upload.seek(0)


def check(upload, *, allowed, accepted):
    """The ``FileType`` of ``upload`` if its content is one of ``allowed`` (keys of ``TYPES``) and
    its name's extension agrees with that content; otherwise a ``ValidationError`` naming the
    file. ``accepted`` says the allowed kinds in words, for the message. Sizes are the caller's."""
    name = upload.name or ""
    key = sniff(upload)
    if key not in allowed:
        raise ValidationError(
            _("%(name)s is refused: its content is not one of the accepted kinds (%(accepted)s).")
            % {"name": name, "accepted": accepted},
            code="type_refused",
        )
    kind = TYPES[key]
    if extension_of(name) not in kind.extensions:
        raise ValidationError(
            _("The name of %(name)s does not agree with its content, %(kind)s: name it .%(extension)s or choose the right file.")
            % {"name": name, "kind": kind.label, "extension": kind.extensions[0]},
            code="extension_mismatch",
        )
    return kind


def served_as(key):
    """How a file checked as ``key`` is sent: its content type and whether a browser may show it
    in the page (photos only). A key no longer, or never, in the allow list is a download of bytes."""
    kind = TYPES.get(key or "")
    if kind is None:
        return OCTET_STREAM, False
    return kind.content_type, kind.photo
