"""A monthly report's photo or file, sent only to those who may see the report and never as
something a browser would run: the type its content was checked to be, a download unless a photo,
sandboxed and not sniffed."""

import re
from urllib.parse import quote

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import FileResponse, Http404
from django.views import generic

from cases import uploads

from .. import selectors

UNSAFE_IN_FALLBACK = re.compile(r"[^A-Za-z0-9._-]")


def disposition(name, *, inline):
    """``attachment`` (or ``inline``) with the name in UTF-8 (RFC 6266, 5987), and an ASCII-only
    fallback for old clients; nothing of the name can end the header or add a parameter."""
    fallback = UNSAFE_IN_FALLBACK.sub("_", name).lstrip(".") or "file"
    return f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment_response(attachment):
    """The stored file, streamed; 404 when it is missing from the storage."""
    content_type, photo = uploads.served_as(attachment.file_type)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError) as missing:
        raise Http404 from missing
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = disposition(attachment.name or "file", inline=photo)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


class ReportAttachmentView(LoginRequiredMixin, generic.View):
    """One photo or file of a report; 404, never 403, for one the reader may not see, so that the
    answer does not tell whether it exists."""

    viewset = None

    def get(self, request, pk, attachment):
        found = selectors.attachment_for(request.user, pk, attachment)
        if found is None:
            raise Http404
        return attachment_response(found)
